// The consumer's guarantees: entries a crashed consumer left pending are taken over after the
// idle timeout, a redelivered event never makes a second notification, an event failing N times
// is dead-lettered and shown as failed, and trimming never removes a pending entry.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../../src/core/ids.js';
import { encodeEntry } from '../../../src/domain/events.js';
import { CONSUMER_GROUP } from '../../../src/workers/consumer.js';
import { startWorkers, type Workers } from '../../../src/workers/index.js';
import { api, superAdminToken } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { runTocsin, stopChildren } from '../../support/process.js';
import {
  addUsers,
  createRule,
  eventually,
  dispatches,
  pipelineProject,
  postEvent,
  type PipelineProject,
} from './support.js';

let hub: TestHub;
let sa: string;
/** Workers a test started; a test that timed out leaves its own here, never another's. */
const started = new Set<Workers>();

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
});
afterEach(async () => {
  await Promise.all([...started].map((workers) => workers.close()));
  started.clear();
  await stopChildren();
});
afterAll(() => hub.close());

async function withWorkers<T>(
  options: Parameters<typeof startWorkers>[1],
  run: () => Promise<T>,
): Promise<T> {
  const workers = startWorkers(hub.running.services, { blockMs: 100, ...options });
  started.add(workers);
  try {
    return await run();
  } finally {
    started.delete(workers);
    await workers.close();
  }
}

/** Reads new entries as a consumer that then "dies": they stay pending, never acknowledged. */
async function readAsGhost(projectId: string): Promise<string[]> {
  const { redis, keys } = hub.running.services;
  const stream = keys.projectStream(projectId);
  await redis.xgroup('CREATE', stream, CONSUMER_GROUP, '0', 'MKSTREAM').catch(() => undefined);
  const reply = (await redis.xreadgroup(
    'GROUP',
    CONSUMER_GROUP,
    'ghost',
    'COUNT',
    100,
    'STREAMS',
    stream,
    '>',
  )) as Array<[string, Array<[string, string[]]>]> | null;
  return (reply?.[0]?.[1] ?? []).map(([id]) => id);
}

async function projectWithRule(): Promise<PipelineProject & { ruleId: string; users: string[] }> {
  // A storm of test events must not be suppressed.
  const project = await pipelineProject(hub, sa, { rateLimits: { ingestPerSecond: 100_000 } });
  const users = await addUsers(hub, project.id, project.roles.member, 2);
  const rule = await createRule(hub, project, {
    condition: 'event.type == "boom"',
    targetRoles: [project.roles.member],
    suppression: { maxMatches: 1_000_000 },
  });
  return { ...project, ruleId: rule.id, users };
}

describe('redelivery', () => {
  it("takes over a dead consumer's pending entries after the idle timeout and processes them once", async () => {
    const project = await projectWithRule();
    const posted = await postEvent(hub, project, { type: 'boom', payload: {} });
    expect(await readAsGhost(project.id)).toHaveLength(1);

    const handed = dispatches();
    const dispatched = handed.next((m) => m.projectId === project.id);
    const { redis, keys } = hub.running.services;
    const consumers = async () =>
      ((await redis.xinfo('CONSUMERS', keys.projectStream(project.id), CONSUMER_GROUP)) as unknown[][]).map(
        (c) => c[1],
      );
    expect(await consumers()).toContain('ghost');
    const options = { claimIdleMs: 150, trimEveryMs: 50, staleConsumerMs: 0, onDispatch: handed.onDispatch };
    await withWorkers(options, async () => {
      const message = await dispatched;
      expect(message.userIds).toEqual(project.users);
      // The dead consumer, holding nothing any more, leaves the group.
      await eventually(consumers, (names) => !names.includes('ghost'));
    });
    const db = hub.running.db.forProject(project.id);
    expect(await db.event.findUnique({ where: { id: posted.body.id } })).toMatchObject({
      status: 'processed',
    });
    expect(await db.notification.count({ where: { eventId: posted.body.id } })).toBe(1);
    const [pending] = (await redis.xpending(keys.projectStream(project.id), CONSUMER_GROUP)) as [number];
    expect(pending).toBe(0);
  });

  it('never makes a second notification for an event stored before its consumer died unacknowledged', async () => {
    const project = await projectWithRule();
    const posted = await postEvent(hub, project, { type: 'boom', payload: {} });
    // A consumer stores the event and its notification…
    const handed = dispatches();
    const first = handed.next((m) => m.projectId === project.id);
    await withWorkers({ claimIdleMs: 60_000, onDispatch: handed.onDispatch }, () => first);
    // …and "dies" before its acknowledgement: put the entry back in the pending list.
    const { redis, keys } = hub.running.services;
    const stream = keys.projectStream(project.id);
    const entryId = ((await redis.xrange(stream, '-', '+')) as Array<[string, string[]]>)[0]![0];
    await redis.xgroup('SETID', stream, CONSUMER_GROUP, '0');
    expect(await readAsGhost(project.id)).toContain(entryId);

    // Redelivered: acknowledged, handed over again, not stored twice.
    const again = handed.next((m) => m.projectId === project.id);
    await withWorkers({ claimIdleMs: 100, onDispatch: handed.onDispatch }, async () => {
      const message = await again;
      expect(message.notificationId).toBe((await first).notificationId);
      await eventually(
        async () => ((await redis.xpending(stream, CONSUMER_GROUP)) as [number])[0],
        (count) => count === 0,
      );
    });
    const db = hub.running.db.forProject(project.id);
    expect(await db.notification.count({ where: { eventId: posted.body.id } })).toBe(1);
    expect(await db.notificationReceipt.count({ where: { notification: { eventId: posted.body.id } } })).toBe(
      2,
    );
  });
});

describe('handing notifications over for delivery', () => {
  it('hands committed notifications to onDispatch, and again when it failed', async () => {
    const project = await projectWithRule();
    const calls: Array<{ notificationId: string; userIds: string[] }> = [];
    let failures = 1;
    const onDispatch = async (projectId: string, list: typeof calls) => {
      if (projectId !== project.id) return;
      calls.push(...list);
      if (failures-- > 0) throw new Error('queue unavailable');
    };
    const posted = await postEvent(hub, project, { type: 'boom', payload: {} });
    await withWorkers({ claimIdleMs: 100, onDispatch }, () =>
      eventually(
        async () => calls.length,
        (n) => n >= 2,
      ),
    );
    const notification = await hub.running.db
      .forProject(project.id)
      .notification.findFirstOrThrow({ where: { eventId: posted.body.id } });
    expect(calls.slice(0, 2)).toEqual([
      { notificationId: notification.id, userIds: project.users },
      { notificationId: notification.id, userIds: project.users },
    ]);
    expect(
      await hub.running.db.forProject(project.id).notification.count({ where: { eventId: posted.body.id } }),
    ).toBe(1);
  });
});

// Budget: a child start (up to 30 s on a loaded machine), four batches of 500, and 2,000 events
// processed by the in-process consumer after the kill (up to 60 s there): 120 s in all, and each
// wait inside takes its share of it.
describe('a worker process killed mid-batch', () => {
  it(
    'loses nothing and doubles nothing: another consumer takes over its pending entries',
    { timeout: 120_000 },
    async () => {
      const project = await projectWithRule();
      const worker = runTocsin(['start', '--role', 'worker'], { TOCSIN_PRINT_BANNER: 'true' });
      await worker.waitForOutput(/Tocsin is running/, 30_000);
      const events = Array.from({ length: 500 }, (_, i) => ({ type: 'boom', payload: { i } }));
      for (let i = 0; i < 4; i++) {
        const res = await api(hub, 'POST', '/api/v1/events/batch', { events }, { apiKey: project.apiKey });
        expect(res.status).toBe(202);
      }
      const db = hub.running.db.forProject(project.id);
      await eventually(
        () => db.event.count(),
        (n) => n > 0,
        20_000,
      );
      worker.child.kill('SIGKILL');
      await worker.exited;
      expect(await db.event.count()).toBeLessThan(2_000);

      await withWorkers({ claimIdleMs: 200 }, async () => {
        await eventually(
          () => db.event.count({ where: { status: 'processed' } }),
          (n) => n === 2_000,
          60_000,
        );
        expect(await db.notification.count()).toBe(2_000);
        expect(await db.notificationReceipt.count()).toBe(4_000);
      });
    },
  );
});

describe('dead letters', () => {
  it('moves an entry that fails N times to the dead-letter stream and shows it failed, without holding back others', async () => {
    const project = await projectWithRule();
    const { redis, keys } = hub.running.services;
    const stream = keys.projectStream(project.id);
    const badId = uuidv7();
    // An entry only a broken producer would write: its data is not JSON.
    await redis.xadd(stream, '*', 'id', badId, 'type', 'boom', 'data', '{not json');
    await redis.sadd(keys.activeStreams(), project.id);
    const good = await postEvent(hub, project, { type: 'boom', payload: {} });

    await withWorkers({ claimIdleMs: 100, maxAttempts: 3 }, async () => {
      const db = hub.running.db.forProject(project.id);
      const failed = await eventually(
        () => db.event.findUnique({ where: { id: badId } }),
        (row) => row?.status === 'failed',
      );
      expect(failed).toMatchObject({ type: 'boom', attempts: 3, error: expect.stringContaining('JSON') });
      expect(await db.event.findUnique({ where: { id: good.body.id } })).toMatchObject({
        status: 'processed',
      });
    });
    const dead = (await redis.xrange(keys.deadLetterStream(project.id), '-', '+')) as Array<
      [string, string[]]
    >;
    expect(dead).toHaveLength(1);
    const fields = dead[0]![1];
    expect(fields.slice(0, 2)).toEqual(['id', badId]);
    expect(fields).toContain('attempts');
    expect(fields[fields.indexOf('attempts') + 1]).toBe('3');
    const [pending] = (await redis.xpending(stream, CONSUMER_GROUP)) as [number];
    expect(pending).toBe(0);

    const shown = await api(hub, 'GET', `/api/v1/events/${badId}`, undefined, { token: project.adminToken });
    expect(shown.body).toMatchObject({ status: 'failed', attempts: 3, error: expect.any(String) });
  });

  it('keeps a dead-lettered event failed when a consumer with more attempts retries it later', async () => {
    const project = await projectWithRule();
    const { redis, keys } = hub.running.services;
    const stream = keys.projectStream(project.id);
    const badId = uuidv7();
    const entryId = (await redis.xadd(stream, '*', 'id', badId, 'type', 'boom', 'data', '{not json'))!;
    await redis.sadd(keys.activeStreams(), project.id);
    const db = hub.running.db.forProject(project.id);
    await withWorkers({ claimIdleMs: 100, maxAttempts: 2 }, () =>
      eventually(
        () => db.event.findUnique({ where: { id: badId } }),
        (row) => row?.status === 'failed',
      ),
    );
    // The entry pending again, as when a consumer claimed it before the dead-letterer's XACK.
    await redis.xgroup('SETID', stream, CONSUMER_GROUP, '0');
    expect(await readAsGhost(project.id)).toContain(entryId);
    const deliveries = async () =>
      (
        (await redis.xpending(stream, CONSUMER_GROUP, entryId, entryId, 1)) as Array<
          [string, string, number, number]
        >
      )[0]?.[3] ?? 0;
    // Claimed twice by a consumer allowing 10 attempts: its first failure is recorded by then.
    await withWorkers({ claimIdleMs: 100, maxAttempts: 10 }, () => eventually(deliveries, (n) => n >= 3));
    expect(await db.event.findUnique({ where: { id: badId } })).toMatchObject({
      status: 'failed',
      attempts: 2,
    });
  });
});

describe('an event MySQL refuses', () => {
  it('is shown with a storable payload and a safe error, never a driver message', async () => {
    const project = await projectWithRule();
    const { redis, keys } = hub.running.services;
    const id = uuidv7();
    // Ingest refuses lone surrogates now; an entry written before that (or by another producer)
    // still reaches the consumer.
    const entry = encodeEntry({
      id,
      type: 'boom',
      payload: { x: 'a\ud800' },
      source: null,
      occurredAt: null,
      receivedAt: new Date().toISOString(),
      idempotencyKey: null,
    });
    await redis.xadd(keys.projectStream(project.id), '*', ...entry);
    await redis.sadd(keys.activeStreams(), project.id);
    const shown = await withWorkers({ claimIdleMs: 100, maxAttempts: 2 }, () =>
      eventually(
        () => api(hub, 'GET', `/api/v1/events/${id}`, undefined, { token: project.adminToken }),
        (res) => res.body?.status === 'failed',
      ),
    );
    expect(shown.body).toMatchObject({ type: 'boom', payload: { x: 'a\ufffd' }, attempts: 2 });
    expect(shown.body.error).toMatch(/^The database refused the event/);
    expect(shown.body.error).not.toMatch(/\/|\.ts\b|prisma\.|invocation/i);
  });
});

describe('trimming', () => {
  it('trims acknowledged entries only below the oldest pending one', async () => {
    const project = await pipelineProject(hub, sa);
    const { redis, keys } = hub.running.services;
    const stream = keys.projectStream(project.id);
    for (let i = 0; i < 3; i++) await postEvent(hub, project, { type: 'old', payload: { i } });
    await withWorkers({ claimIdleMs: 60_000 }, () =>
      eventually(
        () => hub.running.db.forProject(project.id).event.count(),
        (n) => n === 3,
      ),
    );
    const held = await postEvent(hub, project, { type: 'held', payload: {} });
    const [heldEntry] = await readAsGhost(project.id);
    for (let i = 0; i < 3; i++) await postEvent(hub, project, { type: 'new', payload: { i } });

    await withWorkers({ claimIdleMs: 60_000, trimEveryMs: 50 }, async () => {
      await eventually(
        () => hub.running.db.forProject(project.id).event.count(),
        (n) => n === 6,
      );
      // The three old entries go; the pending one and everything after it stay.
      const entries = await eventually(
        () => redis.xrange(stream, '-', '+') as Promise<Array<[string, string[]]>>,
        (list) => list.length === 4,
      );
      expect(entries[0]![0]).toBe(heldEntry);
    });
    expect(
      await hub.running.db.forProject(project.id).event.findUnique({ where: { id: held.body.id } }),
    ).toBeNull();
  });
});
