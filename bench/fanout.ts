// Fan-out: M messages to N subscribers of one channel, for Tocsin's gateway (published through
// the Redis bus, as the HTTP API and the workers do), a Socket.IO broadcast server and a plain
// `ws` broadcast server, in one run. At most WINDOW messages are in flight: one completes when
// every subscriber has it. Reports delivered messages/s and publish→receipt latency.
// Run with `npx tsx bench/fanout.ts [subscribers] [messages]`; prints a markdown table.
// Needs the local MariaDB and Redis (Tocsin uses the `tocsin_bench` database).
import { io as socketIoClient } from 'socket.io-client';
import WebSocket from 'ws';
import { createLogger } from '../src/core/log.js';
import { runClosers } from '../src/core/shutdown.js';
import { createGatewayApi } from '../src/realtime/api.js';
import { createServices } from '../src/services.js';
import {
  KINDS,
  benchConfig,
  connectMany,
  createBenchProject,
  markdownTable,
  spawnServer,
  type Kind,
} from './servers.js';

const SUBSCRIBERS = Number(process.argv[2] ?? 1_000);
const MESSAGES = Number(process.argv[3] ?? 1_000);
const WINDOW = 16;
const DEADLINE_MS = 60_000;
const CHANNEL = 'fanout';
const PAD = 'x'.repeat(100);

const now = () => performance.timeOrigin + performance.now();

/** Sends one payload to every subscriber, by each server's own publishing path. */
type Publish = (payload: string) => void;

async function publisherFor(
  kind: Kind,
  port: number,
  tocsin: { trigger: (payload: string) => Promise<void> },
): Promise<{ publish: Publish; close(): void }> {
  if (kind === 'tocsin')
    return { publish: (payload) => void tocsin.trigger(payload), close: () => undefined };
  if (kind === 'socket.io') {
    const socket = socketIoClient(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      reconnection: false,
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { publish: (payload) => void socket.emit('pub', payload), close: () => socket.close() };
  }
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  await new Promise((resolve) => ws.once('open', resolve));
  return { publish: (payload) => ws.send(payload), close: () => ws.close() };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const config = benchConfig();
const log = createLogger({ level: 'warn' });
const results: Array<{ kind: Kind; delivered: number; rate: number; p50: number; p99: number }> = [];

for (const [index, kind] of KINDS.entries()) {
  const server = await spawnServer(kind);
  const { services, closers } = createServices(config, log);
  try {
    const project = kind === 'tocsin' ? await createBenchProject(services) : { id: '', key: '' };
    const gateway = createGatewayApi(services);
    const trigger = (payload: string) =>
      gateway.trigger(project.id, [{ channels: [CHANNEL], name: 'message', data: payload }]);

    const latencies = new Float64Array(SUBSCRIBERS * MESSAGES);
    const receipts = new Uint32Array(MESSAGES);
    let delivered = 0;
    let completed = 0;
    let sent = 0;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    let publish: Publish = () => undefined;
    const sendNext = () => {
      const payload = JSON.stringify({ i: sent++, t: now(), pad: PAD });
      publish(payload);
    };
    const onMessage = (payload: string) => {
      const { i, t } = JSON.parse(payload) as { i: number; t: number };
      latencies[delivered++] = now() - t;
      if (++receipts[i]! < SUBSCRIBERS) return;
      completed++;
      if (sent < MESSAGES) sendNext();
      else if (completed === MESSAGES) finish();
    };

    const clients = await connectMany(
      kind,
      { port: server.port, key: project.key, channel: CHANNEL },
      SUBSCRIBERS,
      20 + index * 2,
      onMessage,
    );
    const publisher = await publisherFor(kind, server.port, { trigger });
    publish = publisher.publish;
    const started = now();
    for (let i = 0; i < Math.min(WINDOW, MESSAGES); i++) sendNext();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, DEADLINE_MS)))]);
    clearTimeout(timer);
    const seconds = (now() - started) / 1000;
    const sorted = latencies.slice(0, delivered).sort();
    results.push({
      kind,
      delivered,
      rate: delivered / seconds,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
    });
    publisher.close();
    clients.forEach((client) => client.close());
  } finally {
    await server.stop();
    await runClosers(closers, log);
  }
}

const tocsin = results.find((r) => r.kind === 'tocsin')!;
process.stdout.write(
  `${markdownTable(
    [
      'server',
      'subscribers',
      'messages',
      'delivered',
      'delivered msgs/s',
      'p50 ms',
      'p99 ms',
      'msgs/s vs tocsin',
      'p99 vs tocsin',
    ],
    results.map((r) => [
      r.kind,
      SUBSCRIBERS,
      MESSAGES,
      r.delivered,
      Math.round(r.rate),
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      `${(r.rate / tocsin.rate).toFixed(2)}×`,
      `${(r.p99 / tocsin.p99).toFixed(2)}×`,
    ]),
  )}\n`,
);
process.exit(0);
