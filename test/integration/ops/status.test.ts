// GET /api/v1/status: what a super admin sees of the cluster (MySQL, Redis, the queues, stream
// lag, gateway nodes, provider health), who may not see it, and how a part that cannot be read
// shows up. The hub has no worker role, so a POSTed event stays in its stream, and a Redis
// prefix of its own, so the streams and gateway nodes listed are this hub's only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../../../src/core/queues.js';
import {
  credentialsFingerprint,
  readProviderCredentials,
  setProviderCredentials,
} from '../../../src/domain/provider-credentials.js';
import { readStatus, type StatusSources } from '../../../src/domain/status.js';
import { createProviderHealth } from '../../../src/workers/push/health.js';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { workerId, workerRedisPrefix } from '../../support/env.js';
import { connected, connectPusher, eventually, type PusherClient } from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';

let hub: TestHub;
let sa: string;
let project: TestProject;
const clients: PusherClient[] = [];

beforeAll(async () => {
  hub = await startHub({ REDIS_PREFIX: `${workerRedisPrefix(workerId())}status:` }, ['api', 'gateway']);
  sa = await superAdminToken(hub);
  project = await createTestProject(hub, sa);
  // Providers are listed for projects with credentials of their own (no global ones here).
  await setProviderCredentials(hub.running.services, project.id, 'pusher', {
    appId: '1',
    key: 'k',
    secret: 's',
    cluster: 'eu',
  });
});
afterAll(async () => {
  clients.forEach((client) => client.disconnect());
  await hub.close();
});

const status = async () => {
  const res = await api(hub, 'GET', '/api/v1/status', undefined, { token: sa });
  expect(res.status).toBe(200);
  return res.body;
};

describe('GET /api/v1/status', () => {
  it('shows MySQL, Redis, every queue and the lag of a stream no worker reads', async () => {
    const posted = await api(
      hub,
      'POST',
      '/api/v1/events',
      { type: 'a.b', payload: {} },
      { apiKey: project.apiKey },
    );
    expect(posted.status).toBe(202);
    const body = await status();
    expect(body).toMatchObject({
      status: 'ok',
      mysql: { ok: true, latencyMs: expect.any(Number) },
      redis: { ok: true, latencyMs: expect.any(Number) },
      streams: { registered: 1, top: [{ projectId: project.id, lag: 1, pending: 0 }] },
    });
    expect(body.queues.items.map((q: { name: string }) => q.name).sort()).toEqual(
      Object.values(QUEUE_NAMES).sort(),
    );
    expect(body.queues.items[0]).toEqual({
      name: expect.any(String),
      waiting: 0,
      prioritized: 0,
      delayed: 0,
      active: 0,
      failed: 0,
      completed: 0,
    });
  });

  it('lists the gateway node with its connections', async () => {
    const client = connectPusher(hub.gatewayPort, { id: project.id, ...project.gateway });
    clients.push(client);
    await connected(client);
    // The node writes its count into its lease at each renewal.
    await eventually(async () => (await status()).gateway.nodes[0]?.connections === 1, 'the lease counts it');
    const { gateway } = await status();
    expect(gateway.nodes).toEqual([
      { id: expect.any(String), alive: true, connections: 1, renewedAt: expect.any(String) },
    ]);
  });

  it("shows each project's provider health, unhealthy ones first", async () => {
    const services = hub.running.services;
    const { pusher } = await readProviderCredentials(services, project.id);
    await createProviderHealth(services).markUnhealthy(
      project.id,
      'pusher',
      '401 Invalid signature',
      credentialsFingerprint(pusher!),
    );
    const { status: overall, providers } = await status();
    // A broken provider is a project's problem, not the cluster's.
    expect(overall).toBe('ok');
    expect(providers.projects).toBeGreaterThanOrEqual(1);
    expect(providers.items[0]).toEqual({
      projectId: project.id,
      slug: project.slug,
      providers: {
        fcm: { configured: false, healthy: true },
        apns: { configured: false, healthy: true },
        pusher: {
          configured: true,
          source: 'project',
          healthy: false,
          reason: '401 Invalid signature',
          since: expect.any(String),
        },
      },
    });
  });

  it('is for super admins only', async () => {
    expectError(
      await api(hub, 'GET', '/api/v1/status', undefined, { token: project.adminToken }),
      403,
      'super_admin_required',
    );
    expectError(await api(hub, 'GET', '/api/v1/status', undefined, { apiKey: project.apiKey }), 401);
    expectError(await api(hub, 'GET', '/api/v1/status'), 401);
  });
});

describe('readStatus', () => {
  it('answers degraded, naming the parts that failed or did not answer in time', async () => {
    const services = hub.running.services;
    const sources: StatusSources = {
      queueCounts: () => Promise.reject(new Error('queues unreachable')),
      streamLags: async () => [],
      gatewayNodes: () => new Promise(() => undefined), // never answers
      providerStatus: () => Promise.reject(new Error('credentials unreadable')),
    };
    const down = { ...services.db, ping: () => Promise.reject(new Error('connection refused')) };
    const result = await readStatus({ ...services, db: down }, sources, { timeoutMs: 200 });
    expect(result).toMatchObject({
      status: 'degraded',
      mysql: { ok: false, latencyMs: null, error: 'connection refused' },
      redis: { ok: true },
      queues: { items: [], error: 'queues unreachable' },
      streams: { registered: 0, top: [] },
      gateway: { nodes: [], error: 'no answer within 200 ms' },
    });
    expect(result.streams.error).toBeUndefined();
    // One project's unreadable providers stay that project's error.
    expect(result.providers.error).toBeUndefined();
    expect(result.providers.items).toContainEqual({
      projectId: project.id,
      slug: project.slug,
      error: 'credentials unreadable',
    });
  });
});
