// The three WebSocket servers the gateway benchmarks compare, each run in its own child process
// (so the load generator does not share its event loop): Tocsin's gateway (the real one, fed by
// the Redis bus), a Socket.IO broadcast server and a plain `ws` broadcast server. Also the
// matching clients. Loopback only. Run as a child: `tsx bench/servers.ts <kind>`.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Server as SocketIoServer } from 'socket.io';
import { io as socketIoClient } from 'socket.io-client';
import WebSocket, { WebSocketServer } from 'ws';
import { loadConfig, type Config } from '../src/core/config.js';
import { encryptSecret, randomBase62 } from '../src/core/crypto.js';
import { createLogger } from '../src/core/log.js';
import { runClosers } from '../src/core/shutdown.js';
import { startTocsin } from '../src/start.js';
import type { Services } from '../src/services.js';

export const KINDS = ['tocsin', 'socket.io', 'ws'] as const;
export type Kind = (typeof KINDS)[number];

/** A bench database and Redis prefix of their own, so a run never touches development data. */
export function benchConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: 'mysql://root@127.0.0.1:3306/tocsin_bench',
    REDIS_PREFIX: 'tocsin-bench:',
    LOG_LEVEL: 'warn',
    TOCSIN_PRINT_BANNER: 'false',
    TOCSIN_ADMIN_PASSWORD: 'bench-admin-password',
    ...process.env,
    ...overrides,
  });
}

/** A project (Pusher app) for the run, with room for every benchmark connection. */
export async function createBenchProject(services: Services): Promise<{ id: string; key: string }> {
  const key = randomBase62(16);
  const project = await services.db.system.project.create({
    data: {
      name: 'Benchmark',
      slug: `bench-${Date.now().toString(36)}-${randomBase62(4)}`.toLowerCase(),
      apiKeyHash: randomBytes(32).toString('hex'),
      apiKeyPrefix: 'bench',
      gatewayAppId: String(Date.now()),
      gatewayKey: key,
      gatewaySecretEnc: encryptSecret(randomBase62(24), services.config.secrets.encryptionKey),
      settings: { gateway: { maxConnections: 1_000_000 } },
    },
  });
  return { id: project.id, key };
}

export interface ServerProcess {
  port: number;
  /** Resident memory after a full GC, in bytes. */
  rss(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts a server of `kind` in a child process with GC exposed, for fair memory readings. */
export async function spawnServer(kind: Kind): Promise<ServerProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [kind], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const request = <T>(message: string) =>
    new Promise<T>((resolve) => {
      child.once('message', (reply) => resolve(reply as T));
      child.send(message);
    });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  return {
    port,
    async rss() {
      await request('gc');
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serve(kind: Kind): Promise<{ port: number; close(): Promise<void> }> {
  if (kind === 'tocsin') {
    const config = benchConfig({ GATEWAY_PORT: '0' });
    const log = createLogger({ level: config.logLevel });
    const running = await startTocsin({ config, roles: ['gateway'], log });
    await running.prepared;
    return {
      port: running.gateway!.port,
      close: async () => void (await runClosers(running.closers, log)),
    };
  }
  if (kind === 'socket.io') {
    const http = createServer();
    const server = new SocketIoServer(http, { transports: ['websocket'], serveClient: false });
    server.on('connection', (socket) => socket.on('pub', (payload) => socket.broadcast.emit('msg', payload)));
    return {
      port: await listen(http),
      close: () => new Promise((resolve) => void server.close(() => resolve())),
    };
  }
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  server.on('connection', (socket) =>
    socket.on('message', (data) => {
      for (const client of server.clients) if (client !== socket) client.send(data, { binary: false });
    }),
  );
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => void server.close(() => resolve())),
  };
}

function listen(http: HttpServer): Promise<number> {
  return new Promise((resolve) =>
    http.listen(0, '127.0.0.1', () => resolve((http.address() as AddressInfo).port)),
  );
}

export interface Client {
  close(): void;
}

/** Where clients connect; Tocsin clients also need the app key and, to receive, a channel. */
export interface Target {
  port: number;
  key: string;
  channel?: string;
}

/**
 * Connects one client of `kind` from `localAddress`; for Tocsin it joins `channel`. Resolves
 * once ready; `onMessage` gets each broadcast payload (the JSON text the publisher sent).
 */
export function connectClient(
  kind: Kind,
  target: Target,
  localAddress: string,
  onMessage?: (payload: string) => void,
): Promise<Client> {
  if (kind === 'socket.io') {
    const socket = socketIoClient(`http://127.0.0.1:${target.port}`, {
      transports: ['websocket'],
      localAddress,
      reconnection: false,
    } as Parameters<typeof socketIoClient>[1]);
    if (onMessage) socket.on('msg', (payload: string) => onMessage(payload));
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve({ close: () => socket.close() }));
      socket.once('connect_error', reject);
    });
  }
  const path = kind === 'tocsin' ? `/app/${target.key}?protocol=7&client=bench&version=1` : '/';
  const ws = new WebSocket(`ws://127.0.0.1:${target.port}${path}`, {
    localAddress,
    perMessageDeflate: false,
  });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    const ready = () => resolve({ close: () => ws.close() });
    if (kind === 'ws') {
      if (onMessage) ws.on('message', (data) => onMessage(data.toString()));
      ws.once('open', ready);
      return;
    }
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as { event: string; data: string };
      if (frame.event === 'pusher:connection_established') {
        if (!target.channel) return ready();
        ws.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: target.channel } }));
      } else if (frame.event === 'pusher_internal:subscription_succeeded') {
        ready();
      } else if (onMessage && !frame.event.startsWith('pusher')) {
        onMessage(frame.data);
      }
    });
  });
}

/**
 * Opens `count` clients, a few hundred at a time, spread over source addresses 127.0.0.x from
 * `firstAddress` on (10,000 each), so ephemeral ports never run short across runs.
 */
export async function connectMany(
  kind: Kind,
  target: Target,
  count: number,
  firstAddress: number,
  onMessage?: (payload: string) => void,
): Promise<Client[]> {
  const clients: Client[] = [];
  const CONCURRENCY = 250;
  for (let start = 0; start < count; start += CONCURRENCY) {
    const batch = Array.from({ length: Math.min(CONCURRENCY, count - start) }, (_, i) => {
      const address = `127.0.0.${firstAddress + Math.floor((start + i) / 10_000)}`;
      return connectClient(kind, target, address, onMessage);
    });
    clients.push(...(await Promise.all(batch)));
  }
  return clients;
}

export function markdownTable(header: string[], rows: Array<Array<string | number>>): string {
  const cell = (value: string | number) =>
    typeof value === 'number' ? value.toLocaleString('en-US') : value;
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

// As a child process: start the server, report its port, collect garbage on request.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const kind = process.argv[2] as Kind;
  const server = await serve(kind);
  process.on('message', (message) => {
    if (message === 'gc') {
      // Twice, a moment apart: V8 finishes sweeping and returns pages lazily.
      globalThis.gc?.();
      setTimeout(() => {
        globalThis.gc?.();
        process.send!('done');
      }, 200);
    }
  });
  process.once('SIGTERM', () => void server.close().finally(() => process.exit(0)));
  process.send!({ port: server.port });
}
