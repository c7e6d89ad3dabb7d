// /api/v1/events: ingest (validation, idempotency, batch and body limits, API key) and the read
// side (queued events, filters, pagination, permissions, tenant isolation).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkers, type Workers } from '../../../src/workers/index.js';
import { api, expectError, superAdminToken } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { eventually, pipelineProject, postEvent, userWith, type PipelineProject } from './support.js';

let hub: TestHub;
let sa: string;
let project: PipelineProject;
let other: PipelineProject;
let workers: Workers | undefined;
const FAST = { rateLimits: { ingestPerSecond: 100_000 } };

// The API alone: events stay queued until the test starts the workers.
beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
  [project, other] = await Promise.all([pipelineProject(hub, sa, FAST), pipelineProject(hub, sa, FAST)]);
});
afterAll(async () => {
  await workers?.close();
  await hub.close();
});

const streamLength = (projectId: string) =>
  hub.running.services.redis.xlen(hub.running.services.keys.projectStream(projectId));

describe('POST /api/v1/events', () => {
  it('queues a valid event in the project stream and answers 202 with a UUIDv7 id', async () => {
    const before = await streamLength(project.id);
    const res = await postEvent(hub, project, {
      type: 'transfer.failed',
      payload: { amount: 1 },
      source: 'core',
      occurredAt: '2026-11-24T10:00:00.000+01:00',
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/) });
    expect(await streamLength(project.id)).toBe(before + 1);
  });

  it('refuses invalid events with 400 and the field', async () => {
    for (const body of [
      { payload: {} },
      { type: '', payload: {} },
      { type: 'x'.repeat(121), payload: {} },
      { type: 't' },
      { type: 't', payload: [1] },
      { type: 't', payload: {}, occurredAt: 'yesterday' },
      { type: 't', payload: {}, idempotencyKey: 'k'.repeat(256) },
    ]) {
      expectError(await postEvent(hub, project, body), 400, 'validation_failed');
    }
    const broken = await fetch(`${hub.apiUrl}/api/v1/events`, {
      method: 'POST',
      headers: { 'X-API-Key': project.apiKey, 'Content-Type': 'application/json' },
      body: '{"type":',
    });
    expect(broken.status).toBe(400);
  });

  it('needs a valid API key; a user token is not one', async () => {
    expectError(await api(hub, 'POST', '/api/v1/events', { type: 't', payload: {} }), 401, 'api_key_missing');
    expectError(
      await api(hub, 'POST', '/api/v1/events', { type: 't', payload: {} }, { apiKey: 'tk_wrong' }),
      401,
      'api_key_invalid',
    );
    expectError(
      await api(hub, 'POST', '/api/v1/events', { type: 't', payload: {} }, { token: project.adminToken }),
      401,
    );
  });

  it('accepts a body of exactly 64 KiB and refuses one byte more with 413 and the error body', async () => {
    const bodyOf = (size: number) => {
      const skeleton = JSON.stringify({ type: 'big', payload: { pad: '' } });
      return JSON.stringify({ type: 'big', payload: { pad: 'x'.repeat(size - skeleton.length) } });
    };
    const send = (body: string) =>
      fetch(`${hub.apiUrl}/api/v1/events`, {
        method: 'POST',
        headers: { 'X-API-Key': project.apiKey, 'Content-Type': 'application/json' },
        body,
      });
    expect(Buffer.byteLength(bodyOf(65_536))).toBe(65_536);
    expect((await send(bodyOf(65_536))).status).toBe(202);
    const tooLarge = await send(bodyOf(65_537));
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({
      error: {
        code: 'payload_too_large',
        message: expect.stringContaining('65536'),
        requestId: expect.any(String),
      },
    });
  });

  it('returns the first id for a repeated Idempotency-Key and queues nothing more', async () => {
    const key = `idem-${Date.now()}`;
    const first = await postEvent(
      hub,
      project,
      { type: 'once', payload: { n: 1 } },
      { 'Idempotency-Key': key },
    );
    const before = await streamLength(project.id);
    // Sent as a browser on another origin does: the replay marker must be readable by the page.
    const again = await postEvent(
      hub,
      project,
      { type: 'once', payload: { n: 2 } },
      { 'Idempotency-Key': key, Origin: 'https://shop.example' },
    );
    const viaField = await postEvent(hub, project, { type: 'once', payload: {}, idempotencyKey: key });
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('access-control-expose-headers')?.split(',')).toContain('Idempotent-Replayed');
    expect(viaField.body.id).toBe(first.body.id);
    expect(await streamLength(project.id)).toBe(before);
    // Keys are per project.
    const elsewhere = await postEvent(hub, other, { type: 'once', payload: {} }, { 'Idempotency-Key': key });
    expect(elsewhere.body.id).not.toBe(first.body.id);
    const ttl = await hub.running.services.redis.ttl(
      hub.running.services.keys.idempotency(
        project.id,
        (await import('node:crypto')).createHash('sha256').update(key).digest('hex'),
      ),
    );
    expect(ttl).toBeGreaterThan(86_000);
  });

  it('refuses a ?wait= outside 1–30 seconds with 400 naming wait, queueing nothing', async () => {
    const before = await streamLength(project.id);
    for (const wait of ['0', '31', '1.5', 'soon']) {
      const res = await postEvent(hub, project, { type: 't', payload: {} }, {}, wait);
      expectError(res, 400, 'validation_failed');
      expect(res.body.error.message).toMatch(/^wait: /);
    }
    expect(await streamLength(project.id)).toBe(before);
  });

  it('answers ?wait= with 202 and status queued when no worker settles the event in time', async () => {
    const started = Date.now();
    const res = await postEvent(hub, project, { type: 'unattended', payload: {} }, {}, 1);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.any(String), status: 'queued' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('gives one id to concurrent requests with the same key', async () => {
    const key = `race-${Date.now()}`;
    const before = await streamLength(project.id);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        postEvent(hub, project, { type: 'race', payload: {} }, { 'Idempotency-Key': key }),
      ),
    );
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(await streamLength(project.id)).toBe(before + 1);
  });
});

describe('ingest rate limit', () => {
  it("refuses events past the project's ingestPerSecond with 429 and Retry-After; a batch costs its size", async () => {
    const slow = await pipelineProject(hub, sa, { rateLimits: { ingestPerSecond: 5 } });
    const batch = await api(
      hub,
      'POST',
      '/api/v1/events/batch',
      { events: Array.from({ length: 6 }, () => ({ type: 't', payload: {} })) },
      { apiKey: slow.apiKey },
    );
    expectError(batch, 429, 'rate_limited');
    expect(Number(batch.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await postEvent(hub, slow, { type: 't', payload: {} }));
    expect(answers.map((a) => a.status)).toContain(429);
    expect(await streamLength(slow.id)).toBeLessThanOrEqual(5);
  });
});

describe('POST /api/v1/events/batch', () => {
  const events = (n: number) => Array.from({ length: n }, (_, i) => ({ type: 'batch', payload: { i } }));

  it('accepts 500 events and answers their ids in order', async () => {
    const before = await streamLength(project.id);
    const res = await api(
      hub,
      'POST',
      '/api/v1/events/batch',
      { events: events(500) },
      { apiKey: project.apiKey },
    );
    expect(res.status).toBe(202);
    expect(res.body.ids).toHaveLength(500);
    expect(new Set(res.body.ids).size).toBe(500);
    expect(await streamLength(project.id)).toBe(before + 500);
  });

  it('refuses 501 events, an empty batch and an invalid event, queueing nothing', async () => {
    const before = await streamLength(project.id);
    for (const body of [{ events: events(501) }, { events: [] }, { events: [...events(3), { type: '' }] }]) {
      expectError(
        await api(hub, 'POST', '/api/v1/events/batch', body, { apiKey: project.apiKey }),
        400,
        'validation_failed',
      );
    }
    expect(await streamLength(project.id)).toBe(before);
  });

  it('refuses a batch holding an event over 64 KiB with 413', async () => {
    const big = { type: 'big', payload: { pad: 'x'.repeat(70_000) } };
    const res = await api(hub, 'POST', '/api/v1/events/batch', { events: [big] }, { apiKey: project.apiKey });
    expectError(res, 413, 'payload_too_large');
    expect(res.body.error.message).toContain('events.0');
  });

  it('applies idempotency keys per event, within the batch too', async () => {
    const key = `batch-${Date.now()}`;
    const res = await api(
      hub,
      'POST',
      '/api/v1/events/batch',
      {
        events: [
          { type: 'a', payload: {}, idempotencyKey: key },
          { type: 'b', payload: {} },
          { type: 'a', payload: {}, idempotencyKey: key },
        ],
      },
      { apiKey: project.apiKey },
    );
    expect(res.body.ids[0]).toBe(res.body.ids[2]);
    expect(res.body.ids[1]).not.toBe(res.body.ids[0]);
  });
});

describe('GET /api/v1/events', () => {
  let reader: string;
  let nobody: string;
  let ids: { a: string; b: string; mine: string };

  beforeAll(async () => {
    [reader, nobody] = await Promise.all([userWith(hub, other, ['events:read']), userWith(hub, other, [])]);
    const a = await postEvent(hub, other, { type: 'list.a', payload: { n: 1 } });
    const b = await postEvent(hub, other, { type: 'list.b', payload: { n: 2 } });
    const mine = await postEvent(hub, project, { type: 'list.a', payload: {} });
    ids = { a: a.body.id, b: b.body.id, mine: mine.body.id };
  });

  it('shows an accepted event as queued until the consumer has stored it', async () => {
    const res = await api(hub, 'GET', `/api/v1/events/${ids.a}`, undefined, { token: reader });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: ids.a, status: 'queued' });
    const list = await api(hub, 'GET', '/api/v1/events?type=list.a', undefined, { token: reader });
    expect(list.body.total).toBe(0);
  });

  it('lists stored events newest first, filtered by type, status and date, in pages', async () => {
    workers = startWorkers(hub.running.services, { blockMs: 100 });
    const db = hub.running.db.forProject(other.id);
    await eventually(
      () => db.event.count({ where: { id: { in: [ids.a, ids.b] } } }),
      (n) => n === 2,
    );
    const get = (query: string) =>
      api(hub, 'GET', `/api/v1/events${query}`, undefined, { token: reader }).then((r) => {
        expect(r.status).toBe(200);
        return r.body as { items: Array<{ id: string; status: string }>; total: number };
      });
    expect((await get('?type=list.a')).items.map((e) => e.id)).toEqual([ids.a]);
    expect((await get('?type=list.b&status=processed')).items).toMatchObject([
      { id: ids.b, status: 'processed' },
    ]);
    expect((await get('?type=list.b&status=failed')).total).toBe(0);
    const now = new Date().toISOString();
    expect((await get(`?type=list.a&to=${encodeURIComponent('2000-01-01T00:00:00Z')}`)).total).toBe(0);
    expect(
      (
        await get(
          `?type=list.a&from=${encodeURIComponent('2000-01-01T00:00:00Z')}&to=${encodeURIComponent(now)}`,
        )
      ).total,
    ).toBe(1);
    const page = await get('?pageSize=1&page=1');
    expect(page.items).toHaveLength(1);
    expect(page.total).toBeGreaterThanOrEqual(2);

    const detail = await api(hub, 'GET', `/api/v1/events/${ids.b}`, undefined, { token: reader });
    expect(detail.body).toMatchObject({
      id: ids.b,
      type: 'list.b',
      payload: { n: 2 },
      status: 'processed',
      matchedRules: [],
      notifications: [],
      attempts: 1,
      error: null,
    });
    // Once stored, the queued marker is gone.
    expect(
      await hub.running.services.redis.exists(hub.running.services.keys.queuedEvent(other.id, ids.b)),
    ).toBe(0);
  });

  it("keeps projects apart: another project's event is 404, and not listed", async () => {
    expectError(
      await api(hub, 'GET', `/api/v1/events/${ids.mine}`, undefined, { token: reader }),
      404,
      'not_found',
    );
    expectError(
      await api(hub, 'GET', `/api/v1/events/${ids.a}`, undefined, { token: project.adminToken }),
      404,
      'not_found',
    );
    const theirs = await api(hub, 'GET', '/api/v1/events?type=list.b', undefined, {
      token: project.adminToken,
    });
    expect(theirs.body.total).toBe(0);
  });

  it('needs events:read, and not an API key', async () => {
    expectError(
      await api(hub, 'GET', '/api/v1/events', undefined, { token: nobody }),
      403,
      'permission_denied',
    );
    expectError(await api(hub, 'GET', '/api/v1/events', undefined, { apiKey: other.apiKey }), 401);
    expectError(await api(hub, 'GET', '/api/v1/events?status=bogus', undefined, { token: reader }), 400);
    expectError(await api(hub, 'GET', '/api/v1/events/nope', undefined, { token: reader }), 400);
  });
});
