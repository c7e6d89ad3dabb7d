// Webhook retries end to end, on the product's own schedule: the gateway queues a batch, the
// worker posts it, the receiver answers 500 and then 200; the same signed batch arrives again
// no sooner than the queue's backoff, the job completes, and nothing arrives after the success.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullConnection, QUEUE_NAMES } from '../../../src/core/queues.js';
import {
  appPath,
  createGatewayProject,
  eventually,
  rawSocket,
  type GatewayProject,
  type RawSocket,
} from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';

interface Hit {
  at: number;
  body: string;
  signature: string | undefined;
  key: string | undefined;
}

let hub: TestHub;
let project: GatewayProject;
let receiver: http.Server;
let queue: Queue;
const hits: Hit[] = [];
const answers = [500, 200];
const sockets: RawSocket[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      hits.push({
        at: Date.now(),
        body,
        signature: req.headers['x-pusher-signature'] as string | undefined,
        key: req.headers['x-pusher-key'] as string | undefined,
      });
      res.writeHead(answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hub = await startHub({}, ['gateway', 'worker']);
  await hub.running.prepared;
  project = await createGatewayProject(hub.running.services);
  await hub.running.db.system.project.update({
    where: { id: project.id },
    data: { webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` },
  });
  const { config, keys } = hub.running.services;
  queue = new Queue(QUEUE_NAMES.webhooks, {
    connection: bullConnection(config.redis.url),
    prefix: keys.bullPrefix,
  });
});
afterAll(async () => {
  sockets.forEach((s) => s.ws.close());
  await hub.close();
  await queue.close();
  await new Promise((resolve) => receiver.close(resolve));
});

async function jobOfProject() {
  const jobs = await queue.getJobs(['completed', 'failed', 'delayed', 'active', 'waiting']);
  return jobs.find((job) => job.data.projectId === project.id);
}

describe('webhook retries', () => {
  it('posts a batch answered 500 again after the backoff, and once more only until it succeeds', async () => {
    const socket = rawSocket(hub.gatewayPort, appPath(project.key));
    sockets.push(socket);
    await socket.socketId();
    socket.send({ event: 'pusher:subscribe', data: { channel: 'retry-lobby' } });
    await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded', 'subscription');

    await eventually(
      async () => (await jobOfProject())?.finishedOn !== undefined,
      'the job finishes',
      30_000,
    );
    const job = (await jobOfProject())!;
    expect(await job.getState()).toBe('completed');
    expect(job.attemptsMade).toBe(2);
    // The product's schedule, not one the test chose.
    expect(job.opts).toMatchObject({ attempts: 8, backoff: { type: 'exponential', delay: 1_000 } });

    expect(hits).toHaveLength(2);
    const [failed, succeeded] = hits as [Hit, Hit];
    expect(succeeded.body).toBe(failed.body);
    expect(JSON.parse(succeeded.body).events).toEqual([{ name: 'channel_occupied', channel: 'retry-lobby' }]);
    expect(succeeded.key).toBe(project.key);
    expect(succeeded.signature).toBe(
      createHmac('sha256', project.secret).update(succeeded.body).digest('hex'),
    );
    // The first retry of an exponential backoff of 1 s: never sooner.
    expect(succeeded.at - failed.at).toBeGreaterThanOrEqual(1_000);

    // Nothing more is sent for it: a marker batch posted after it is the next thing to arrive.
    socket.send({ event: 'pusher:unsubscribe', data: { channel: 'retry-lobby' } });
    await eventually(async () => hits.length === 3, 'the vacated batch arrives', 10_000);
    expect(JSON.parse(hits[2]!.body).events).toEqual([{ name: 'channel_vacated', channel: 'retry-lobby' }]);
  });
});
