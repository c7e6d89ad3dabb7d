// Tocsin against Soketi 1.6.1 on the same load, as a user choosing between the two would try it:
// each server in its own process on its own ports (Tocsin: one process, all roles, `tocsin start`),
// the same raw Pusher-protocol subscribers on one public channel, events triggered with the
// official `pusher` SDK pointed at each server's own port, runs alternating A B A B.
//
// Soketi is installed at run time into a folder under the OS temp dir (with the uWebSockets.js
// build Tocsin uses, since Soketi's own is fetched from GitHub); it is never a dependency of the
// project and never committed. Run with `npm run bench:peers [-- --loads 100x500@50,… --rounds 2]`;
// `--nodes 2` runs two nodes of each (Tocsin: one full process + a gateway-only one; Soketi: its
// Redis adapter), subscribers split over both and triggers alternating between them.
// Needs the local MariaDB and Redis (database `tocsin_bench_peers` and Redis prefix
// `tocsin-bench-peers:`, both wiped at the start of a run, nothing else touched).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Pusher from 'pusher';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  expectStatus,
  jsonClient,
  ms,
  MYSQL_SERVER,
  quantile,
  roleProcess,
  wipeBenchData,
} from './e2e-support.js';
import { connectMany, markdownTable, type Client } from './servers.js';

const SOKETI_VERSION = '1.6.1';
const UWS_BUILD = 'npm:@trufflesuite/uws-js-unofficial@20.30.0-unofficial.0';
const CHANNEL = 'bench-peers';
const PEERS_DATABASE = 'tocsin_bench_peers';
const PEERS_REDIS_PREFIX = 'tocsin-bench-peers:';
const DRAIN_MS = 10_000;

interface Load {
  subscribers: number;
  messages: number;
  rate: number;
}

function parseArgs(argv: string[]): { loads: Load[]; rounds: number; nodes: number } {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const loads = (value('--loads') ?? '100x500@50,1000x200@20,1000x1000@1000').split(',').map((spec) => {
    const match = /^(\d+)x(\d+)@(\d+)$/.exec(spec.trim());
    if (!match) throw new Error(`--loads: "${spec}" is not SUBSCRIBERSxMESSAGES@RATE, e.g. 100x500@50`);
    return { subscribers: Number(match[1]), messages: Number(match[2]), rate: Number(match[3]) };
  });
  const nodes = Number(value('--nodes') ?? 1);
  if (!(nodes >= 1 && nodes <= 4)) throw new Error('--nodes: 1 to 4');
  return { loads, rounds: Number(value('--rounds') ?? 2), nodes };
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/** A server under test (one or more nodes): where clients connect and where the SDK triggers. */
interface Peer {
  name: string;
  wsPorts: number[];
  app: { id: string; key: string; secret: string };
  triggerPorts: number[];
  stop(): Promise<void>;
}

const stopAll = (stops: Array<() => Promise<void>>) => async () =>
  void (await Promise.all(stops.map((s) => s())));

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
}

function installSoketi(): string {
  const dir = join(tmpdir(), `tocsin-bench-soketi-${SOKETI_VERSION}`);
  const server = join(dir, 'node_modules/@soketi/soketi/bin/server.js');
  if (existsSync(server)) return server;
  say(`Installing @soketi/soketi@${SOKETI_VERSION} into ${dir} (once; about 30 s)…`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'tocsin-bench-soketi',
      private: true,
      dependencies: { '@soketi/soketi': SOKETI_VERSION },
      overrides: { 'uWebSockets.js': UWS_BUILD },
    }),
  );
  const result = spawnSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0 || !existsSync(server))
    throw new Error(`npm install of Soketi failed in ${dir}: see the output above`);
  return server;
}

/** Soketi nodes on `ports`; more than one share Redis through its Redis adapter. */
async function startSoketi(server: string, ports: number[]): Promise<Peer> {
  const app = { id: 'bench', key: 'bench-key', secret: 'bench-secret' };
  const stops: Array<() => Promise<void>> = [];
  for (const port of ports) {
    const child = spawn(process.execPath, [server, 'start'], {
      env: {
        ...process.env,
        SOKETI_PORT: String(port),
        SOKETI_HOST: '127.0.0.1',
        SOKETI_METRICS_ENABLED: 'false',
        SOKETI_DEFAULT_APP_ID: app.id,
        SOKETI_DEFAULT_APP_KEY: app.key,
        SOKETI_DEFAULT_APP_SECRET: app.secret,
        SOKETI_DEFAULT_APP_MAX_CONNS: '-1',
        SOKETI_DEFAULT_APP_MAX_BACKEND_EVENTS_PER_SEC: '-1',
        SOKETI_DEBUG: '0',
        ...(ports.length > 1
          ? {
              SOKETI_ADAPTER_DRIVER: 'redis',
              SOKETI_ADAPTER_REDIS_PREFIX: 'tocsin-peers-soketi',
              SOKETI_DB_REDIS_HOST: '127.0.0.1',
              SOKETI_DB_REDIS_PORT: '6379',
            }
          : {}),
        NODE_NO_WARNINGS: '1', // its AWS SDK v2 end-of-support notice
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    stops.push(stopper(child));
    await waitFor('Soketi', async () => (await fetch(`http://127.0.0.1:${port}/`)).ok);
  }
  return { name: 'Soketi', wsPorts: ports, triggerPorts: ports, app, stop: stopAll(stops) };
}

/** A project (Pusher app) with room for the load, made as a user would: super admin, REST. */
async function createTocsinApp(apiUrl: string) {
  const api = jsonClient(apiUrl);
  try {
    const { accessToken } = expectStatus(
      await api.request<{ accessToken: string }>('POST', '/api/v1/auth/login', {
        email: ADMIN_EMAIL,
        password: ADMIN_PASSWORD,
      }),
      200,
      'super admin login',
    );
    const created = expectStatus(
      await api.request<{ gateway: { appId: string; key: string; secret: string } }>(
        'POST',
        '/api/v1/projects',
        {
          name: 'Peers bench',
          slug: `peers-${Date.now().toString(36)}`,
          settings: {
            gateway: { maxConnections: 1_000_000 },
            rateLimits: { apiPerMinute: 1_000_000, ingestPerSecond: 1_000_000 },
          },
        },
        { Authorization: `Bearer ${accessToken}` },
      ),
      201,
      'project creation',
    );
    return created.gateway;
  } finally {
    api.close();
  }
}

/**
 * Tocsin: the first node runs every role (`tocsin start --role all`, API on `apiPort`), the
 * others are gateway-only processes, all on the bench's own database and Redis prefix. Their
 * output goes to a log file named on stderr.
 */
async function startTocsinPeer(apiPort: number, gatewayPorts: number[]): Promise<Peer> {
  const logPath = join(tmpdir(), `tocsin-bench-peers-${Date.now()}.log`);
  say(`  Tocsin's output: ${logPath}`);
  const log = createWriteStream(logPath);
  // BENCH_TOCSIN_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", to profile Tocsin's nodes.
  const nodeArgs = process.env.BENCH_TOCSIN_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  // A clean slate of its own each run (the super admin is made with the database).
  await wipeBenchData(PEERS_DATABASE, PEERS_REDIS_PREFIX);
  const env = {
    DATABASE_URL: `${MYSQL_SERVER}/${PEERS_DATABASE}`,
    REDIS_PREFIX: PEERS_REDIS_PREFIX,
    TOCSIN_PRINT_BANNER: 'true', // roleProcess waits for the banner
  };
  const nodes = gatewayPorts.map((gatewayPort, i) =>
    i === 0
      ? roleProcess({
          name: 'tocsin-1',
          role: 'all',
          port: apiPort,
          apiPort,
          gatewayPort,
          log,
          env,
          nodeArgs,
        })
      : roleProcess({
          name: `tocsin-${i + 1}`,
          role: 'gateway',
          port: gatewayPort,
          apiPort,
          log,
          env,
          nodeArgs,
        }),
  );
  for (const node of nodes) await node.start();
  const app = await createTocsinApp(`http://127.0.0.1:${apiPort}`);
  // The Pusher HTTP API on the gateway port, where a Soketi user points the SDK; else the API port.
  const probe = await fetch(`http://127.0.0.1:${gatewayPorts[0]}/apps/${app.appId}/channels`).catch(
    () => null,
  );
  const onGateway = probe !== null && probe.status !== 404;
  if (!onGateway) say('  (this Tocsin serves the Pusher HTTP API on its API port only: triggering there)');
  return {
    name: 'Tocsin',
    wsPorts: gatewayPorts,
    triggerPorts: onGateway ? gatewayPorts : [apiPort],
    app: { id: app.appId, key: app.key, secret: app.secret },
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      log.end();
    },
  };
}

interface Result {
  deliveriesPerSecond: number;
  first: { p50: number; p99: number };
  all: { p50: number; p99: number };
  loss: number;
}

const now = () => performance.timeOrigin + performance.now();

/** One load against one peer: subscribe, trigger at the rate, wait for every receipt (or the drain deadline). */
async function run(peer: Peer, load: Load, firstAddress: number): Promise<Result> {
  const sentAt = new Float64Array(load.messages);
  const firstAt = new Float64Array(load.messages);
  const latencies: number[] = [];
  let received = 0;
  let lastReceipt = 0;
  const expected = load.subscribers * load.messages;
  let allIn: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allIn = resolve));
  const onMessage = (data: string) => {
    const at = now();
    const seq = (JSON.parse(data) as { seq: number }).seq;
    if (!firstAt[seq]) firstAt[seq] = at;
    latencies.push(at - sentAt[seq]!);
    received += 1;
    lastReceipt = at;
    if (received === expected) allIn();
  };
  // Subscribers split evenly over the nodes; the Pusher protocol client (Soketi speaks the same).
  const clients: Client[] = [];
  for (const [i, port] of peer.wsPorts.entries()) {
    const share =
      Math.floor(load.subscribers / peer.wsPorts.length) +
      (i < load.subscribers % peer.wsPorts.length ? 1 : 0);
    clients.push(
      ...(await connectMany(
        'tocsin',
        { port, key: peer.app.key, channel: CHANNEL },
        share,
        firstAddress + i,
        onMessage,
      )),
    );
  }
  // One SDK client per node, triggering in turn.
  const sdks = peer.triggerPorts.map(
    (port) =>
      new Pusher({
        appId: peer.app.id,
        key: peer.app.key,
        secret: peer.app.secret,
        host: '127.0.0.1',
        port: String(port),
        useTLS: false,
      }),
  );
  const start = now();
  const triggers: Array<Promise<unknown>> = [];
  for (let seq = 0; seq < load.messages; seq += 1) {
    const due = start + (seq * 1000) / load.rate;
    const wait = due - now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    sentAt[seq] = now();
    triggers.push(sdks[seq % sdks.length]!.trigger(CHANNEL, 'bench', { seq }));
  }
  const failed = (await Promise.allSettled(triggers)).filter((t) => t.status === 'rejected').length;
  if (failed) say(`  ${peer.name}: ${failed} triggers failed`);
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, DRAIN_MS))]);
  for (const client of clients) client.close();
  const firsts = Array.from(firstAt, (at, seq) => at - sentAt[seq]!)
    .filter((_, seq) => firstAt[seq]! > 0)
    .sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  return {
    deliveriesPerSecond: Math.round(received / ((lastReceipt - start) / 1000)),
    first: { p50: quantile(firsts, 0.5), p99: quantile(firsts, 0.99) },
    all: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
    loss: expected - received,
  };
}

const { loads, rounds, nodes } = parseArgs(process.argv.slice(2));
const soketiServer = installSoketi();
say('Starting Soketi and Tocsin…');
const ports = (base: number) => Array.from({ length: nodes }, (_, i) => base + i);
const peers = [await startTocsinPeer(6180, ports(6190)), await startSoketi(soketiServer, ports(6200))];
try {
  let address = 10; // source addresses 127.0.0.10… so ephemeral ports never run short across runs
  // A warm-up per server, not reported: the first round must not measure the JIT.
  for (const peer of peers) {
    say(`Warming up ${peer.name}…`);
    await run(peer, { subscribers: 100, messages: 300, rate: 100 }, address);
    address += nodes + 1;
  }
  for (const load of loads) {
    const label = `${load.subscribers} × ${load.messages} @ ${load.rate}/s${nodes > 1 ? `, ${nodes} nodes each` : ''}`;
    const rows: Array<Array<string | number>> = [];
    for (let round = 1; round <= rounds; round += 1) {
      const results: Result[] = [];
      for (const peer of peers) {
        say(`${label}: round ${round}, ${peer.name}…`);
        results.push(await run(peer, load, address));
        address += nodes + Math.ceil(load.subscribers / 10_000);
        if (address > 250) address = 10;
      }
      results.forEach((r, i) =>
        rows.push([
          `${peers[i]!.name} (round ${round})`,
          r.deliveriesPerSecond,
          `${ms(r.first.p50)} / ${ms(r.first.p99)}`,
          `${ms(r.all.p50)} / ${ms(r.all.p99)}`,
          r.loss,
        ]),
      );
      const [t, s] = results as [Result, Result];
      rows.push([
        `**Tocsin ÷ Soketi (round ${round})**`,
        `${(t.deliveriesPerSecond / s.deliveriesPerSecond).toFixed(2)}×`,
        `${(t.first.p50 / s.first.p50).toFixed(2)}× / ${(t.first.p99 / s.first.p99).toFixed(2)}×`,
        `${(t.all.p50 / s.all.p50).toFixed(2)}× / ${(t.all.p99 / s.all.p99).toFixed(2)}×`,
        '',
      ]);
    }
    console.log(`\n### ${label}\n`);
    console.log(
      markdownTable(
        ['server', 'deliveries/s', 'first receipt p50 / p99 ms', 'all receipts p50 / p99 ms', 'lost'],
        rows,
      ),
    );
  }
} finally {
  await Promise.all(peers.map((peer) => peer.stop()));
}
