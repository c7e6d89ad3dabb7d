// A fake hosted Pusher: the HTTP API's batch trigger on 127.0.0.1. It checks each request's
// signature with the same verifier as Tocsin's gateway, refuses batches over Pusher's limit of
// 10, and records what it accepted. `failNext(status)` makes the next request fail.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { apiRequestFailure } from '../../../src/gateway/signatures.js';

export interface PusherApp {
  appId: string;
  key: string;
  secret: string;
}

export interface PusherBatch {
  appId: string;
  events: Array<{ channel: string; name: string; data: string }>;
}

export interface FakePusher {
  host: string;
  port: number;
  batches: PusherBatch[];
  app(): PusherApp;
  failNext(status: number): void;
  close(): Promise<void>;
}

const MAX_BATCH = 10;

export async function startFakePusher(): Promise<FakePusher> {
  const apps = new Map<string, PusherApp>();
  const batches: PusherBatch[] = [];
  const failures: number[] = [];

  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const reply = (status: number, text: string) => res.writeHead(status).end(text);
      const url = new URL(req.url ?? '/', 'http://fake');
      const appId = /^\/apps\/([^/]+)\/batch_events$/.exec(url.pathname)?.[1];
      const app = appId ? apps.get(appId) : undefined;
      if (req.method !== 'POST' || !app) return reply(404, 'Not found');
      const request = { method: 'POST', path: url.pathname, query: url.searchParams, body };
      const failure = apiRequestFailure(app, request, Math.floor(Date.now() / 1000));
      if (failure) return reply(401, failure);
      const status = failures.shift();
      if (status) return reply(status, `Failing as asked (${status})`);
      const { batch } = JSON.parse(body) as { batch: PusherBatch['events'] };
      if (batch.length > MAX_BATCH) return reply(400, `Batch too large (${batch.length} > ${MAX_BATCH})`);
      batches.push({ appId: app.appId, events: batch });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    batches,
    app() {
      const app = {
        appId: String(100_000 + apps.size),
        key: randomBytes(10).toString('hex'),
        secret: randomBytes(16).toString('hex'),
      };
      apps.set(app.appId, app);
      return app;
    },
    failNext(status) {
      failures.push(status);
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
