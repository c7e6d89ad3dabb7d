// Outages answer fast and honestly: with Redis away, ingest answers 503 with Retry-After at
// once and what it refused is never stored later; with MySQL away, a key the hub has seen keeps
// ingesting from the cache (also past its TTL: stale-while-error) and an unknown one gets 503.
// Redis and MySQL are reached through proxies the test cuts; the shared servers stay up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../../src/core/db.js';
import { createRedis } from '../../../src/core/redis.js';
import { createProjectDirectory } from '../../../src/domain/project-directory.js';
import {
  api,
  createTestProject,
  superAdminToken,
  type ApiResponse,
  type TestProject,
} from '../../support/api.js';
import { TEST_REDIS_URL } from '../../support/env.js';
import { eventually } from '../../support/gateway.js';
import type { TestHub } from '../../support/hub.js';
import { startProxiedHub, type CuttableProxy, type ProxiedHub } from '../../support/proxy.js';

let mysql: CuttableProxy;
let redis: CuttableProxy;
let hub: TestHub;
let proxied: ProxiedHub;
let project: TestProject;
const direct = createRedis(TEST_REDIS_URL, 'outage-test');

beforeAll(async () => {
  proxied = await startProxiedHub();
  ({ hub, mysql, redis } = proxied);
  project = await createTestProject(hub, await superAdminToken(hub));
});
afterAll(async () => {
  await proxied.close();
  await direct.quit();
});

const ingest = (marker: string, apiKey = project.apiKey) =>
  api(hub, 'POST', '/api/v1/events', { type: 'outage.test', payload: { marker } }, { apiKey });

/** Stored events' markers, read straight from the shared Redis. */
async function streamMarkers(): Promise<string[]> {
  const entries = await direct.xrange(hub.running.services.keys.projectStream(project.id), '-', '+');
  return entries.map(([, fields]) => fields.join(' '));
}

function expectUnavailable(res: ApiResponse, what: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(503);
  expect(res.headers.get('retry-after')).toBe('5');
  expect(res.body.error).toMatchObject({ code: 'service_unavailable', requestId: expect.any(String) });
  expect(res.body.error.message).toContain(what);
}

describe('Redis away', () => {
  it('answers ingest 503 with Retry-After, and never stores the refused event later', async () => {
    expect((await ingest('before')).status).toBe(202);
    await redis.cut();
    expectUnavailable(await ingest('during-outage'), 'Redis');
    await redis.restore();
    // The request connection reconnects by itself (with backoff): the first 202 proves it is back.
    await eventually(async () => (await ingest('after')).status === 202, 'ingest works again');
    const markers = await streamMarkers();
    expect(markers.some((m) => m.includes('before'))).toBe(true);
    expect(markers.some((m) => m.includes('after'))).toBe(true);
    expect(markers.filter((m) => m.includes('during-outage'))).toEqual([]);
  });
});

describe('MySQL away', () => {
  it('keeps ingesting with a known key and answers 503 for one it cannot check', async () => {
    expect((await ingest('known-before')).status).toBe(202);
    await mysql.cut();
    try {
      expect((await ingest('known-during')).status).toBe(202);
      expectUnavailable(await ingest('unknown', 'tk_not-a-key-the-hub-has-seen'), 'MySQL');
    } finally {
      await mysql.restore();
    }
    expect((await streamMarkers()).some((m) => m.includes('known-during'))).toBe(true);
  });

  it('serves a cached API key past its TTL while MySQL fails (stale-while-error)', async () => {
    let now = Date.now();
    const directory = createProjectDirectory({
      db: hub.running.db,
      bus: hub.running.services.bus,
      pepper: hub.running.services.config.secrets.apiKeyPepper,
      now: () => now,
    });
    const fresh = await directory.byApiKey(project.apiKey);
    expect(fresh).toMatchObject({ id: project.id, active: true });
    await mysql.cut();
    try {
      now += 60 * 60_000; // an hour on: far past the TTL
      expect(await directory.byApiKey(project.apiKey)).toEqual(fresh);
    } finally {
      await mysql.restore();
    }
  });

  it('fails lookups it cannot serve at once while the outage is fresh, and asks again after it', async () => {
    let now = Date.now();
    let lookups = 0;
    const { project: projects } = hub.running.db.system;
    const findUnique: typeof projects.findUnique = (args) => {
      lookups += 1;
      return projects.findUnique(args);
    };
    const directory = createProjectDirectory({
      db: { system: { project: { findUnique } } },
      bus: hub.running.services.bus,
      pepper: hub.running.services.config.secrets.apiKeyPepper,
      now: () => now,
    });
    await mysql.cut();
    try {
      const first = await directory.byApiKey('tk_first-unknown-key').catch((err: unknown) => err);
      expect(isDatabaseUnavailable(first)).toBe(true);
      expect(lookups).toBe(1);
      // Another key, and a project id: refused with the same outage, without asking MySQL.
      await expect(directory.byApiKey('tk_second-unknown-key')).rejects.toBe(first);
      await expect(directory.byId(project.id)).rejects.toBe(first);
      expect(lookups).toBe(1);
      // Past the retry interval one lookup probes; while it waits, the others still fail at once.
      now += 5_001;
      const probe = directory.byApiKey('tk_probing-key').catch((err: unknown) => err);
      await expect(directory.byApiKey('tk_during-the-probe')).rejects.toBe(first);
      expect(isDatabaseUnavailable(await probe)).toBe(true);
      expect(lookups).toBe(2);
    } finally {
      await mysql.restore();
    }
    now += 5_001; // MySQL is asked again, answers, and the outage is over
    expect(await directory.byId(project.id)).toMatchObject({ id: project.id, active: true });
    expect(lookups).toBe(3);
  });
});
