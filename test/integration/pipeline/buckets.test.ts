// /api/v1/transfer-buckets: admins create buckets and set thresholds, the external system reports
// balances; falling below the threshold emits bucket.low_balance once per crossing, re-armed
// only above it, even under concurrent updates; the monitor job re-checks every bucket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers } from '../../../src/workers/index.js';
import { api, expectError, superAdminToken } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { eventually, pipelineProject, userWith, type PipelineProject } from './support.js';

let hub: TestHub;
let sa: string;
let project: PipelineProject;
let other: PipelineProject;
let nobody: string;

// The API alone: emitted events stay in the stream, where the test counts them.
beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
  [project, other] = await Promise.all([pipelineProject(hub, sa), pipelineProject(hub, sa)]);
  nobody = await userWith(hub, project, ['rules:write']);
});
afterAll(() => hub.close());

let counter = 0;
async function createBucket(p: PipelineProject, body: Record<string, unknown> = {}) {
  const res = await api(
    hub,
    'POST',
    '/api/v1/transfer-buckets',
    { name: `bucket-${counter++}`, balance: '5000', threshold: '1000', currency: 'EUR', ...body },
    { token: p.adminToken },
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; name: string; state: string; balance: string; threshold: string };
}

const setBalance = (p: PipelineProject, id: string, balance: number | string) =>
  api(hub, 'PUT', `/api/v1/transfer-buckets/${id}/balance`, { balance }, { apiKey: p.apiKey });

/** The bucket.low_balance events of `bucketId` in the project's stream. */
async function lowBalanceEvents(projectId: string, bucketId: string) {
  const { redis, keys } = hub.running.services;
  const entries = (await redis.xrange(keys.projectStream(projectId), '-', '+')) as Array<[string, string[]]>;
  return entries
    .map(([, fields]) => ({
      type: fields[3],
      data: JSON.parse(fields[5]!) as { payload: Record<string, unknown> },
    }))
    .filter((e) => e.type === 'bucket.low_balance' && e.data.payload.bucketId === bucketId)
    .map((e) => e.data.payload);
}

describe('transfer buckets', () => {
  it('creates, lists and reads buckets with exact decimal amounts', async () => {
    const bucket = await createBucket(project, { balance: 1234.5, threshold: '100.25' });
    expect(bucket).toMatchObject({ state: 'ok', balance: '1234.5', threshold: '100.25', currency: 'EUR' });
    const got = await api(hub, 'GET', `/api/v1/transfer-buckets/${bucket.id}`, undefined, {
      token: project.adminToken,
    });
    expect(got.body).toMatchObject({ id: bucket.id, name: bucket.name });
    const list = await api(hub, 'GET', '/api/v1/transfer-buckets?pageSize=200', undefined, {
      token: project.adminToken,
    });
    expect(list.body.items.map((b: { id: string }) => b.id)).toContain(bucket.id);
  });

  it('refuses bad amounts, duplicate names, and callers without buckets:write', async () => {
    for (const body of [{ threshold: 'ten' }, { threshold: '1.23456' }, { threshold: '1e5' }, { name: '' }]) {
      expectError(
        await api(
          hub,
          'POST',
          '/api/v1/transfer-buckets',
          { name: 'x', ...body },
          { token: project.adminToken },
        ),
        400,
        'validation_failed',
      );
    }
    const bucket = await createBucket(project);
    expectError(
      await api(
        hub,
        'POST',
        '/api/v1/transfer-buckets',
        { name: bucket.name, threshold: '1' },
        { token: project.adminToken },
      ),
      409,
      'bucket_name_taken',
    );
    expectError(await api(hub, 'GET', '/api/v1/transfer-buckets', undefined, { token: nobody }), 403);
    expectError(
      await api(
        hub,
        'PUT',
        `/api/v1/transfer-buckets/${bucket.id}/threshold`,
        { threshold: '5' },
        { token: nobody },
      ),
      403,
    );
    expectError(await setBalance(project, bucket.id, 'lots'), 400);
    expectError(await api(hub, 'PUT', `/api/v1/transfer-buckets/${bucket.id}/balance`, { balance: 1 }), 401);
  });

  it('emits bucket.low_balance once per crossing, and again only after rising above the threshold', async () => {
    const bucket = await createBucket(project);
    expect((await setBalance(project, bucket.id, 2000)).body.state).toBe('ok');
    const low = await setBalance(project, bucket.id, '999.99');
    expect(low.status).toBe(200);
    expect(low.body).toMatchObject({ state: 'low', balance: '999.99' });
    expect(await lowBalanceEvents(project.id, bucket.id)).toEqual([
      { bucketId: bucket.id, name: bucket.name, balance: 999.99, threshold: 1000, currency: 'EUR' },
    ]);
    await setBalance(project, bucket.id, 500);
    await setBalance(project, bucket.id, 1000); // at the threshold: not above, still low
    expect((await setBalance(project, bucket.id, 10)).body.state).toBe('low');
    expect(await lowBalanceEvents(project.id, bucket.id)).toHaveLength(1);

    expect((await setBalance(project, bucket.id, '1000.01')).body.state).toBe('ok'); // re-armed
    expect((await setBalance(project, bucket.id, 1)).body.state).toBe('low');
    expect((await lowBalanceEvents(project.id, bucket.id)).map((e) => e.balance)).toEqual([999.99, 1]);
  });

  it('crosses exactly once under concurrent balance updates', async () => {
    const bucket = await createBucket(project);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => setBalance(project, bucket.id, 100 + i)),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(await lowBalanceEvents(project.id, bucket.id)).toHaveLength(1);
  });

  it('crosses when the threshold is raised above the balance, and when created below it', async () => {
    const bucket = await createBucket(project, { balance: '500', threshold: '100' });
    const raised = await api(
      hub,
      'PUT',
      `/api/v1/transfer-buckets/${bucket.id}/threshold`,
      { threshold: '600' },
      { token: project.adminToken },
    );
    expect(raised.body).toMatchObject({ state: 'low', threshold: '600' });
    expect(await lowBalanceEvents(project.id, bucket.id)).toHaveLength(1);

    const born = await createBucket(project, { balance: '5', threshold: '10' });
    expect(born.state).toBe('low');
    expect(await lowBalanceEvents(project.id, born.id)).toHaveLength(1);
  });

  it("keeps projects apart: another project's key and token get 404, and its list is empty of ours", async () => {
    const bucket = await createBucket(project);
    expectError(await setBalance(other, bucket.id, 1), 404, 'not_found');
    expectError(
      await api(hub, 'GET', `/api/v1/transfer-buckets/${bucket.id}`, undefined, { token: other.adminToken }),
      404,
    );
    expectError(
      await api(
        hub,
        'PUT',
        `/api/v1/transfer-buckets/${bucket.id}/threshold`,
        { threshold: '1' },
        { token: other.adminToken },
      ),
      404,
    );
    const theirs = await api(hub, 'GET', '/api/v1/transfer-buckets?pageSize=200', undefined, {
      token: other.adminToken,
    });
    expect(theirs.body.items.map((b: { id: string }) => b.id)).not.toContain(bucket.id);
    const row = await hub.running.db
      .forProject(project.id)
      .transferBucket.findUniqueOrThrow({ where: { id: bucket.id } });
    expect(row.balance.toString()).toBe('5000');
  });

  it('re-checks every bucket with the monitor job, which emits a crossing it finds', async () => {
    const monitored = await pipelineProject(hub, sa);
    const bucket = await createBucket(monitored, { balance: '50', threshold: '10' });
    // A balance changed behind the API's back: only the monitor can notice.
    await hub.running.db
      .forProject(monitored.id)
      .transferBucket.update({ where: { id: bucket.id }, data: { balance: '5' } });
    const { config } = hub.running.services;
    const workers = startWorkers(
      {
        ...hub.running.services,
        config: { ...config, pipeline: { ...config.pipeline, bucketMonitorIntervalMs: 200 } },
      },
      { blockMs: 100 },
    );
    try {
      const db = hub.running.db.forProject(monitored.id);
      const event = await eventually(
        () => db.event.findFirst({ where: { type: 'bucket.low_balance' } }),
        (row) => row !== null,
      );
      expect(event!.payload).toMatchObject({ bucketId: bucket.id, balance: 5, threshold: 10 });
      expect(event!.source).toBe('tocsin');
      const checked = await db.transferBucket.findUniqueOrThrow({ where: { id: bucket.id } });
      expect(checked.state).toBe('low');
      expect(checked.lastCheckedAt).not.toBeNull();
    } finally {
      await workers.close();
    }
  });
});
