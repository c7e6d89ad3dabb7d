// Prometheus metrics end to end (the API's /metrics token and HTTP counters are covered by
// test/integration/api/metrics.test.ts): one event through a hub with every role moves the
// pipeline and delivery metrics of its project, labelled by project and never by user; the
// gateway port serves the same registry behind the same token; the backlog gauges follow the
// queues and streams they sample.
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/core/metrics.js';
import { QUEUE_NAMES } from '../../../src/core/queues.js';
import { redisKeys } from '../../../src/core/redis.js';
import { startBacklogGauges } from '../../../src/workers/backlog.js';
import { createProviderHealth } from '../../../src/workers/push/health.js';
import { superAdminToken } from '../../support/api.js';
import {
  connected,
  connectPusher,
  eventually,
  nextEvent,
  subscribed,
  type PusherClient,
} from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';
import {
  addUsers,
  createRule,
  pipelineProject,
  postEvent,
  type PipelineProject,
} from '../pipeline/support.js';

const TOKEN = 'metrics-token-for-ops-tests-0123';
let hub: TestHub;
let project: PipelineProject;
let userId: string;
let client: PusherClient;

beforeAll(async () => {
  hub = await startHub({ METRICS_TOKEN: TOKEN });
  project = await pipelineProject(hub, await superAdminToken(hub));
  [userId] = (await addUsers(hub, project.id, project.roles.member, 1)) as [string];
  await createRule(hub, project, {
    condition: 'event.type == "transfer.failed"',
    targetRoles: [project.roles.member],
  });
});
afterAll(async () => {
  client?.disconnect();
  await hub.close();
});

const scrape = async (url: string, token?: string) => {
  const res = await fetch(`${url}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text() };
};
const apiMetrics = async () => (await scrape(hub.apiUrl, TOKEN)).text;
const gatewayUrl = () => `http://127.0.0.1:${hub.gatewayPort}`;

/** The sum of the samples of `name` whose labels include `labels` (0 when none). */
function value(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const sample = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (sample?.[1] !== name) continue;
    const found = Object.fromEntries([...sample[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, wanted]) => found[key] === wanted)) sum += Number(sample[3]);
  }
  return sum;
}

describe('metrics of one event, from ingest to a connected user', () => {
  it('counts ingest, processing, rule evaluation and delivery for the project, never naming the user', async () => {
    client = connectPusher(hub.gatewayPort, { id: project.id, ...project.gateway });
    await connected(client);
    const arrived = nextEvent(await subscribed(client, `private-user-${userId}`), 'notification');
    expect((await postEvent(hub, project, { type: 'transfer.failed', payload: {} })).status).toBe(202);
    await arrived;

    const p = { project: project.id };
    const delivered = { ...p, channel: 'gateway' };
    // Counted once the receipt is written, just after the socket got it.
    await eventually(
      async () => value(await apiMetrics(), 'tocsin_delivery_latency_seconds_count', delivered) === 1,
      'the delivery is timed',
    );
    const text = await apiMetrics();
    expect(value(text, 'tocsin_events_ingested_total', p)).toBe(1);
    expect(value(text, 'tocsin_events_processed_total', { ...p, outcome: 'processed' })).toBe(1);
    expect(value(text, 'tocsin_rule_evaluations_total', p)).toBe(1);
    expect(value(text, 'tocsin_notifications_total', { ...delivered, outcome: 'delivered' })).toBe(1);
    expect(value(text, 'tocsin_events_suppressed_total', p)).toBe(0);
    expect(text).not.toContain(userId);
    // The worker role samples the backlog gauges: every queue has its depth.
    for (const queue of Object.values(QUEUE_NAMES)) {
      expect(text).toMatch(new RegExp(`^tocsin_queue_depth\\{queue="${queue}"\\} \\d+$`, 'm'));
    }
  });

  it("serves the gateway's connections, subscriptions and messages on the gateway port, behind the token", async () => {
    expect(await scrape(gatewayUrl())).toMatchObject({
      status: 401,
      text: expect.stringContaining('metrics_token_invalid'),
    });
    const { status, text } = await scrape(gatewayUrl(), TOKEN);
    expect(status).toBe(200);
    const p = { project: project.id };
    expect(value(text, 'tocsin_gateway_connections', p)).toBe(1);
    expect(value(text, 'tocsin_gateway_subscriptions', p)).toBe(1);
    expect(value(text, 'tocsin_gateway_messages_total', { ...p, direction: 'in' })).toBeGreaterThanOrEqual(1);
    expect(value(text, 'tocsin_gateway_messages_total', { ...p, direction: 'out' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(text).not.toContain(userId);

    client.disconnect();
    await eventually(
      async () => value((await scrape(gatewayUrl(), TOKEN)).text, 'tocsin_gateway_connections', p) === 0,
      'the closed connection is no longer counted',
    );
  });
});

describe('METRICS_PORT', () => {
  it('serves /metrics of a worker-only process on a port of its own, behind the token', async () => {
    const worker = await startHub({ METRICS_TOKEN: TOKEN, METRICS_PORT: '0' }, ['worker']);
    try {
      expect(worker.running.apiPort).toBeUndefined();
      const url = `http://127.0.0.1:${worker.running.metricsPort}`;
      const refused = await fetch(`${url}/metrics`);
      expect(refused.status).toBe(401);
      expect(((await refused.json()) as { error: unknown }).error).toMatchObject({
        code: 'metrics_token_invalid',
      });
      // The worker's own registry: its backlog gauges, sampled once the database is ready.
      await worker.running.prepared;
      await eventually(
        async () => /^tocsin_queue_depth\{queue="/m.test((await scrape(url, TOKEN)).text),
        'the worker samples its gauges',
      );
      expect((await fetch(`${url}/api/v1/projects`)).status).toBe(404); // metrics only
    } finally {
      await worker.close();
    }
  });
});

describe('backlog gauges', () => {
  it('sample the queue depths and stream lags every interval', async () => {
    const { redis, log } = hub.running.services;
    // A namespace no worker reads, so what is added stays there.
    const keys = redisKeys(`${hub.running.services.keys.prefix}backlog-gauges:`);
    const metrics = createMetrics();
    const gauges = startBacklogGauges({ redis, keys, log, metrics }, { intervalMs: 50 });
    const queue = new Queue(QUEUE_NAMES.push, { connection: redis, prefix: keys.bullPrefix });
    /** A gauge's value for one label value (each of the two has a single label). */
    const gauge = async (name: 'queueDepth' | 'streamLag' | 'providerUnhealthy', labelValue: string) =>
      (await metrics[name].get()).values.find((v) => Object.values(v.labels).includes(labelValue))?.value;
    const appendEvent = () =>
      redis
        .multi()
        .xadd(keys.projectStream(project.id), '*', 'n', '1')
        .sadd(keys.activeStreams(), project.id)
        .exec();
    try {
      for (const expected of [1, 2]) {
        await queue.add('waiting', {}, { delay: 3_600_000 });
        await appendEvent();
        await eventually(
          async () =>
            (await gauge('queueDepth', QUEUE_NAMES.push)) === expected &&
            (await gauge('streamLag', project.id)) === expected,
          `both gauges read ${expected}`,
        );
      }
      expect(await gauge('queueDepth', QUEUE_NAMES.delivery)).toBe(0);

      // Providers marked unhealthy, cluster-wide, one sample per (project, provider).
      const health = createProviderHealth({ redis, keys, metrics });
      await health.markUnhealthy(project.id, 'apns', 'BadCertificate', 'fp');
      await eventually(async () => (await gauge('providerUnhealthy', 'apns')) === 1, 'apns is unhealthy');
      await health.markHealthy(project.id, 'apns');
      await eventually(
        async () => (await gauge('providerUnhealthy', 'apns')) === undefined,
        'apns is healthy again',
      );
    } finally {
      await gauges.close();
      await queue.close();
    }
  });
});
