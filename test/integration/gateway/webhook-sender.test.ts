// The webhook sender's refusals: a URL is judged again before each send (it was saved when its
// name resolved elsewhere, or before the rules changed), redirects are never followed, and a
// non-2xx answer fails the attempt so the queue retries it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookBatchJob } from '../../../src/realtime/webhooks.js';
import { sendWebhookBatch } from '../../../src/workers/webhooks.js';
import { createTestProject, superAdminToken, type TestProject } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';

interface Target {
  url: string;
  hits: number;
  answer: (res: http.ServerResponse) => void;
  close(): Promise<void>;
}

async function startTarget(): Promise<Target> {
  const server = http.createServer((req, res) => {
    target.hits++;
    req.resume().on('end', () => target.answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target: Target = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hits: 0,
    answer: (res) => res.writeHead(200).end(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return target;
}

let hub: TestHub;
let project: TestProject;
let first: Target;
let second: Target;
beforeAll(async () => {
  hub = await startHub({}, ['api']);
  project = await createTestProject(hub, await superAdminToken(hub));
  [first, second] = [await startTarget(), await startTarget()];
});
afterAll(async () => {
  await Promise.all([first.close(), second.close()]);
  await hub.close();
});

const job = (): WebhookBatchJob => ({
  projectId: project.id,
  timeMs: Date.now(),
  events: [{ name: 'channel_occupied', channel: 'c' }],
});
/** Stores the URL as it may be found at send time, past the check made when it was saved. */
const pointAt = (webhookUrl: string) =>
  hub.running.db.system.project.update({ where: { id: project.id }, data: { webhookUrl } });
const depsWith = (allowPrivate: boolean) => {
  const { services } = hub.running;
  return { ...services, config: { ...services.config, webhooks: { allowPrivate } } };
};

describe('webhook sender', () => {
  it('sends to an allowed target', async () => {
    await pointAt(first.url);
    const before = first.hits;
    expect(await sendWebhookBatch(depsWith(true), job())).toBe('sent');
    expect(first.hits).toBe(before + 1);
  });

  it('checks the URL again at send time and refuses a private address', async () => {
    await pointAt(first.url);
    const before = first.hits;
    await expect(sendWebhookBatch(depsWith(false), job())).rejects.toMatchObject({ code: 'url_not_allowed' });
    expect(first.hits).toBe(before);
  });

  it('does not follow a redirect', async () => {
    await pointAt(first.url);
    first.answer = (res) => res.writeHead(307, { Location: second.url }).end();
    try {
      const before = second.hits;
      await expect(sendWebhookBatch(depsWith(true), job())).rejects.toThrow('Webhook answered 307');
      expect(second.hits).toBe(before);
    } finally {
      first.answer = (res) => res.writeHead(200).end();
    }
  });

  it('fails the attempt on a non-2xx answer, for the queue to retry', async () => {
    await pointAt(first.url);
    first.answer = (res) => res.writeHead(503).end();
    try {
      await expect(sendWebhookBatch(depsWith(true), job())).rejects.toThrow('Webhook answered 503');
    } finally {
      first.answer = (res) => res.writeHead(200).end();
    }
  });
});
