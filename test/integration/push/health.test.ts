import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeEntry } from '../../../src/domain/events.js';
import { createProviderHealth } from '../../../src/workers/push/health.js';
import { uuidv7 } from '../../../src/core/ids.js';
import { pushServices } from './support.js';

const services = pushServices();
afterAll(() => services.close());

let clock = Date.parse('2026-01-01T00:00:00Z');
const health = createProviderHealth({ ...services, cooldownMs: 60_000, now: () => clock });
let projectId: string;
beforeEach(() => {
  projectId = uuidv7();
});

describe('provider health registry', () => {
  it('skips an unhealthy provider until the cooldown passes, keeping the first failure time', async () => {
    expect(await health.skip(projectId, 'apns', 'fp1')).toBeNull();
    await health.markUnhealthy(projectId, 'apns', '403 InvalidProviderToken', 'fp1');
    expect(await health.skip(projectId, 'apns', 'fp1')).toMatchObject({
      reason: '403 InvalidProviderToken',
      since: '2026-01-01T00:00:00.000Z',
    });
    expect(await health.skip(projectId, 'fcm', 'fp1')).toBeNull();

    clock += 61_000; // the cooldown passed: one sender may try again …
    expect(await health.skip(projectId, 'apns', 'fp1')).toBeNull();
    await health.markUnhealthy(projectId, 'apns', '403 ExpiredProviderToken', 'fp1'); // … and it failed again
    expect(await health.skip(projectId, 'apns', 'fp1')).toMatchObject({
      reason: '403 ExpiredProviderToken',
      since: '2026-01-01T00:00:00.000Z',
    });
  });

  it('lists every unhealthy provider of the cluster for the gauge, forgetting cleared and expired marks', async () => {
    const mine = async () =>
      (await health.unhealthyEverywhere()).filter((u) => u.projectId === projectId).map((u) => u.provider);
    await health.markUnhealthy(projectId, 'apns', 'BadCertificate', 'fp');
    await health.markUnhealthy(projectId, 'fcm', 'app/invalid-credential', 'fp');
    expect((await mine()).sort()).toEqual(['apns', 'fcm']);
    await health.markHealthy(projectId, 'fcm');
    expect(await mine()).toEqual(['apns']);
    // The mark's TTL ran out: the index entry goes on the next read.
    await services.redis.del(services.keys.projectKey(projectId, 'provider-health', 'apns'));
    expect(await mine()).toEqual([]);
    const index = await services.redis.smembers(services.keys.system('provider-health'));
    expect(index.filter((m) => m.startsWith(projectId))).toEqual([]);
  });

  it('lets new credentials through at once', async () => {
    await health.markUnhealthy(projectId, 'fcm', 'app/invalid-credential', 'old');
    expect(await health.skip(projectId, 'fcm', 'old')).not.toBeNull();
    expect(await health.skip(projectId, 'fcm', 'new')).toBeNull();
  });

  it('is cleared by a success, and lists what is unhealthy per project', async () => {
    const other = uuidv7();
    await health.markUnhealthy(projectId, 'fcm', 'app/invalid-credential', 'f');
    await health.markUnhealthy(projectId, 'pusher', '401 Invalid signature', 'f');
    await health.markUnhealthy(other, 'apns', '403 InvalidProviderToken', 'f');
    expect(Object.keys(await health.unhealthy(projectId)).sort()).toEqual(['fcm', 'pusher']);

    await health.markHealthy(projectId, 'fcm');
    expect(await health.skip(projectId, 'fcm', 'f')).toBeNull();
    expect(Object.keys(await health.unhealthy(projectId))).toEqual(['pusher']);
    expect(Object.keys(await health.unhealthy(other))).toEqual(['apns']);
  });

  it('lets a forgotten mark expire', async () => {
    await health.markUnhealthy(projectId, 'apns', 'x', 'f');
    const ttl = await services.redis.ttl(services.keys.projectKey(projectId, 'provider-health', 'apns'));
    expect(ttl).toBeGreaterThan(86_400);
    expect(ttl).toBeLessThanOrEqual(7 * 86_400);
  });
});

describe('provider health episodes', () => {
  /** The project's stream as the consumer would read it: type and payload. */
  const stream = async (id: string) =>
    (await services.redis.xrange(services.keys.projectStream(id), '-', '+')).map(([, fields]) => {
      const { type, payload } = decodeEntry(fields);
      return { type, payload };
    });

  it('emits credentials_failed once per episode, even from failures at once, and recovered once', async () => {
    const other = uuidv7();
    await Promise.all(
      Array.from({ length: 5 }, () =>
        health.markUnhealthy(projectId, 'fcm', 'app/invalid-credential: body', 'f'),
      ),
    );
    await health.markUnhealthy(projectId, 'fcm', 'messaging/authentication-error: again', 'f');
    const { since } = (await health.unhealthy(projectId)).fcm!;
    expect(await stream(projectId)).toEqual([
      {
        type: 'provider.credentials_failed',
        payload: { provider: 'fcm', reason: 'app/invalid-credential', since },
      },
    ]);

    await Promise.all([health.markHealthy(projectId, 'fcm'), health.markHealthy(projectId, 'fcm')]);
    await health.markHealthy(projectId, 'fcm'); // healthy already: nothing
    expect((await stream(projectId)).slice(1)).toEqual([
      { type: 'provider.recovered', payload: { provider: 'fcm', since } },
    ]);
    expect(await stream(other)).toEqual([]);
  });

  it('announces an episode whose first failure died before announcing it', async () => {
    // The mark was written, then the worker died before appending the event.
    const key = services.keys.projectKey(projectId, 'provider-health', 'apns');
    await services.redis.hset(key, { since: '2026-01-01T00:00:00.000Z', reason: 'x', fingerprint: 'f' });
    await health.markUnhealthy(projectId, 'apns', '403 InvalidProviderToken', 'f');
    await health.markUnhealthy(projectId, 'apns', '403 InvalidProviderToken', 'f');
    expect(await stream(projectId)).toEqual([
      {
        type: 'provider.credentials_failed',
        payload: { provider: 'apns', reason: '403 InvalidProviderToken', since: '2026-01-01T00:00:00.000Z' },
      },
    ]);
  });
});
