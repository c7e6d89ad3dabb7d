// A fake hosted Pusher: the HTTP API's batch trigger on 127.0.0.1. It checks each request's
// signature with its own verifier, written from Pusher's spec (not Tocsin's, so a bug there
// cannot weaken the fake), refuses batches over Pusher's limit of 10 and event data over 10 KB,
// and records what it accepted. `failNext(status)` makes the next request fail.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

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
const MAX_DATA_BYTES = 10 * 1024;

/** Pusher's HTTP API authentication, as its docs specify it; returns why a request fails. */
function signatureFailure(app: PusherApp, path: string, query: URLSearchParams, body: string) {
  const sent = query.get('auth_signature') ?? '';
  if (query.get('auth_key') !== app.key) return 'Unknown auth_key';
  if (query.get('auth_version') !== '1.0') return 'auth_version must be 1.0';
  if (Math.abs(Date.now() / 1000 - Number(query.get('auth_timestamp'))) > 600) return 'Timestamp expired';
  if (query.get('body_md5') !== createHash('md5').update(body).digest('hex')) return 'body_md5 mismatch';
  const signed = [...query.entries()]
    .filter(([name]) => name !== 'auth_signature')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const expected = createHmac('sha256', app.secret).update(`POST\n${path}\n${signed}`).digest('hex');
  const ok = sent.length === expected.length && timingSafeEqual(Buffer.from(sent), Buffer.from(expected));
  return ok ? undefined : 'Invalid signature';
}

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
      const failure = signatureFailure(app, url.pathname, url.searchParams, body);
      if (failure) return reply(401, failure);
      const status = failures.shift();
      if (status) return reply(status, `Failing as asked (${status})`);
      const { batch } = JSON.parse(body) as { batch: PusherBatch['events'] };
      if (batch.length > MAX_BATCH) return reply(400, `Batch too large (${batch.length} > ${MAX_BATCH})`);
      const tooBig = batch.find((event) => Buffer.byteLength(event.data) > MAX_DATA_BYTES);
      if (tooBig) return reply(413, `Event data over ${MAX_DATA_BYTES} bytes`);
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
