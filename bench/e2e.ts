// End-to-end load test: real role processes (one api, two gateway nodes, one worker — each
// `tocsin start --role …`), projects, roles, rules and users made through the REST API, and one
// pusher-js client per approved user, spread over the two gateway nodes. Events are POSTed at a
// fixed rate (open loop: the schedule does not wait for answers); each carries its sequence number
// and send time, which the rules copy into the notification, so each client measures POST →
// receipt and the ledger reconciles every (event, recipient) pair: delivered exactly once after
// de-duplication by notification id, never to another project or another role.
// Two runs: a normal one, then a fault run that kill -9s the worker and one gateway node a third
// of the way in, restarts them a few seconds later, and waits (bounded) for replay on resubscribe
// and redelivery of what the dead worker held to bring everything in.
// Run with `npm run bench:e2e` (flags: --duration --fault-duration --rate --clients --projects
// --warmup --down --drain --no-fault; or E2E_* variables). Exits 1 on any loss, cross-tenant or misrouted
// delivery. Needs the local MariaDB and Redis; uses its own database and Redis prefix, wiped first.
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectClient, Ledger, now, type BenchPayload, type Client, type SentEvent } from './e2e-clients.js';
import { REPLAY_LIMIT } from '../src/domain/replay.js';
import { EVENT_TYPES, ROLE_NAMES, setUpProjects, type BenchProject } from './e2e-setup.js';
import {
  heldInFlight,
  int,
  jsonClient,
  ms,
  quantile,
  receiptCounts,
  roleProcess,
  sleep,
  wipeBenchData,
  type RoleProcess,
} from './e2e-support.js';
import { markdownTable } from './servers.js';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: process.env.E2E_DURATION ?? '60' },
    'fault-duration': { type: 'string', default: process.env.E2E_FAULT_DURATION },
    rate: { type: 'string', default: process.env.E2E_RATE ?? '15' },
    clients: { type: 'string', default: process.env.E2E_CLIENTS ?? '60' },
    projects: { type: 'string', default: process.env.E2E_PROJECTS ?? '3' },
    down: { type: 'string', default: process.env.E2E_DOWN ?? '5' },
    warmup: { type: 'string', default: process.env.E2E_WARMUP ?? '10' },
    drain: { type: 'string', default: process.env.E2E_DRAIN ?? '150' },
    'no-fault': { type: 'boolean', default: process.env.E2E_NO_FAULT === 'true' },
  },
});
const positive = (name: string, value: string | undefined) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${value}`);
  return n;
};
const DURATION_S = positive('duration', flags.duration);
const FAULT_DURATION_S = positive('fault-duration', flags['fault-duration'] ?? flags.duration);
const RATE = positive('rate', flags.rate);
const CLIENTS = Math.round(positive('clients', flags.clients));
const PROJECTS = Math.round(positive('projects', flags.projects));
const DOWN_S = positive('down', flags.down);
const WARMUP_S = positive('warmup', flags.warmup);
const DRAIN_S = positive('drain', flags.drain);
const PROGRESS_MS = 5_000;
const ACK_WAIT_MS = 60_000;

process.once('SIGINT', () => process.exit(130)); // the support module kills the children on exit

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

const runTag = Date.now().toString(36);
const logDir = join(tmpdir(), `tocsin-bench-e2e-${runTag}`);
mkdirSync(logDir, { recursive: true });
const [apiPort, portA, portB] = [await freePort(), await freePort(), await freePort()];
const apiUrl = `http://127.0.0.1:${apiPort}`;
const proc = (name: string, role: 'api' | 'gateway' | 'worker', port: number) =>
  roleProcess({ name, role, port, apiPort, log: createWriteStream(join(logDir, `${name}.log`)) });
const api = proc('api', 'api', apiPort);
const gatewayA = proc('gateway-a', 'gateway', portA);
const gatewayB = proc('gateway-b', 'gateway', portB);
const worker = proc('worker', 'worker', 0);
const processes: RoleProcess[] = [api, gatewayA, gatewayB, worker];

const say = (line: string) => console.log(line);
say(
  `e2e: ${CLIENTS} clients in ${PROJECTS} projects, ${RATE} events/s for ${DURATION_S} s` +
    (flags['no-fault'] ? '' : ` + fault run ${FAULT_DURATION_S} s (worker and gateway-b down ${DOWN_S} s)`) +
    `; logs in ${logDir}; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
);

await wipeBenchData();
let started = now();
await api.start(); // it migrates the fresh database; the others find it ready
await Promise.all([gatewayA.start(), gatewayB.start(), worker.start()]);
say(
  `processes up in ${((now() - started) / 1000).toFixed(1)} s (api :${apiPort}, gateways :${portA} :${portB})`,
);

started = now();
const usersPerProject = Array.from(
  { length: PROJECTS },
  (_, i) => Math.floor(CLIENTS / PROJECTS) + (i < CLIENTS % PROJECTS ? 1 : 0),
);
const projects = await setUpProjects(apiUrl, { projects: PROJECTS, usersPerProject, runTag });
const ledger = new Ledger();
const gateways = [
  { name: 'gateway-a', port: portA },
  { name: 'gateway-b', port: portB },
];
let k = 0;
const connecting: Array<Promise<Client>> = [];
for (const project of projects) {
  for (const user of project.users) {
    connecting.push(connectClient(ledger, { project, user, gateway: gateways[k++ % 2]!, apiUrl }));
  }
}
await Promise.all(connecting);
say(
  `set-up through the API in ${((now() - started) / 1000).toFixed(1)} s: ${projects.length} projects, ` +
    `${ledger.clients.length} users registered, approved, logged in and subscribed`,
);

// ---------------------------------------------------------------- events

const poster = jsonClient(apiUrl, { maxSockets: 32 });
let nextSeq = 0;
const postLatencies = new Map<string, number[]>();
const inFlight = new Set<Promise<void>>();

/** POSTs one event; retried with the same Idempotency-Key on a network error, 429 or 5xx. */
function post(phase: string, project: BenchProject, role: (typeof ROLE_NAMES)[number]): void {
  const seq = nextSeq++;
  const event: SentEvent = { seq, phase, project, role, sentAt: now(), status: 'pending' };
  ledger.events.set(seq, event);
  const payload: BenchPayload = { phase, seq, sentAt: event.sentAt, project: project.slug };
  const work = (async () => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const res = await poster
        .request(
          'POST',
          '/api/v1/events',
          { type: EVENT_TYPES[role], payload },
          { 'X-API-Key': project.apiKey, 'Idempotency-Key': `e2e-${runTag}-${seq}` },
        )
        .catch(() => ({ status: 0, body: undefined }));
      if (res.status === 202) {
        event.status = 'accepted';
        event.answeredAt = now();
        let list = postLatencies.get(phase);
        if (!list) postLatencies.set(phase, (list = []));
        list.push(event.answeredAt - event.sentAt);
        return;
      }
      if (res.status !== 0 && res.status !== 429 && res.status < 500) break;
      await sleep(200 * attempt);
    }
    event.status = 'rejected';
  })();
  inFlight.add(work);
  void work.finally(() => inFlight.delete(work));
}

/** Event i of a run: projects in turn, and within a project the two types in turn. */
const target = (i: number) => ({
  project: projects[i % projects.length]!,
  role: ROLE_NAMES[Math.floor(i / projects.length) % ROLE_NAMES.length]!,
});

const subscribedOn = (gateway: string) => {
  const on = ledger.clients.filter((c) => c.gateway === gateway);
  return `${on.filter((c) => c.subscribed).length}/${on.length}`;
};

async function waitDelivered(phase: string, timeoutMs: number, t0: number): Promise<boolean> {
  const deadline = now() + timeoutMs;
  let lastPrint = now();
  for (;;) {
    const { missing, expected } = ledger.expected(phase);
    if (missing === 0 && inFlight.size === 0) return true;
    if (now() > deadline) return false;
    if (now() - lastPrint >= PROGRESS_MS) {
      lastPrint = now();
      say(
        `  [${phase} ${((now() - t0) / 1000).toFixed(0)} s, draining] ${int(expected - missing)}/${int(expected)} delivered, ` +
          `${int(missing)} outstanding; subscribed a ${subscribedOn('gateway-a')} b ${subscribedOn('gateway-b')}`,
      );
    }
    await sleep(250);
  }
}

interface Fault {
  killAt: number;
  held: Awaited<ReturnType<typeof heldInFlight>>;
  upAt: number;
  resubscribedAt: number;
  disconnected: number;
}

interface PhaseResult {
  phase: string;
  durationS: number;
  sent: number;
  accepted: number;
  rejected: number;
  expected: number;
  delivered: number;
  lost: number;
  t0: number;
  sendEnd: number;
  drained: boolean;
  drainS: number;
  /** Receipts still unacknowledged once acks stopped coming (bounded wait), and the wait. */
  unacknowledged: number;
  ackWaitS: number;
  fault?: Fault;
}

async function runPhase(phase: string, durationS: number, withFault: boolean): Promise<PhaseResult> {
  const total = Math.round(RATE * durationS);
  const counters = ledger.counters(phase);
  say(`\n${phase}: ${int(total)} events at ${RATE}/s over ${durationS} s`);
  ledger.current = phase;
  const t0 = now();
  let sent = 0;
  let windowStart = 0;
  const progress = setInterval(() => {
    const { expected, received } = ledger.expected(phase);
    const window = counters.latencies.slice(windowStart).sort((a, b) => a - b);
    windowStart = counters.latencies.length;
    const accepted = [...ledger.events.values()].filter(
      (e) => e.phase === phase && e.status === 'accepted',
    ).length;
    say(
      `  [${phase} ${((now() - t0) / 1000).toFixed(0)} s] sent ${int(sent)} (202: ${int(accepted)}), ` +
        `delivered ${int(received)}/${int(expected)}, last ${PROGRESS_MS / 1000} s p50 ${ms(quantile(window, 0.5))} ms ` +
        `p99 ${ms(quantile(window, 0.99))} ms; subscribed a ${subscribedOn('gateway-a')} b ${subscribedOn('gateway-b')}`,
    );
  }, PROGRESS_MS);

  let fault: Promise<Fault> | undefined;
  if (withFault) {
    fault = (async () => {
      await sleep((durationS * 1000) / 3);
      const killAt = now();
      const onB = ledger.clients.filter((c) => c.gateway === 'gateway-b');
      await Promise.all([worker.kill9(), gatewayB.kill9()]);
      const held = await heldInFlight(projects.map((p) => p.id));
      say(
        `  [${phase} ${((killAt - t0) / 1000).toFixed(1)} s] kill -9 worker and gateway-b (${onB.length} clients); ` +
          `the worker held ${held.pendingEntries} stream entries and ${held.activeDeliveryJobs} delivery jobs`,
      );
      await sleep(DOWN_S * 1000);
      await Promise.all([worker.start(), gatewayB.start()]);
      const upAt = now();
      say(`  [${phase} ${((upAt - t0) / 1000).toFixed(1)} s] worker and gateway-b restarted`);
      const deadline = now() + DRAIN_S * 1000;
      while (!ledger.clients.every((c) => c.subscribed) && now() < deadline) await sleep(50);
      const resubscribedAt = ledger.clients.every((c) => c.subscribed) ? now() : NaN;
      say(
        `  [${phase} ${((now() - t0) / 1000).toFixed(1)} s] ` +
          (Number.isNaN(resubscribedAt)
            ? `clients still not subscribed: ${subscribedOn('gateway-b')} on gateway-b`
            : 'every client of gateway-b subscribed again'),
      );
      return { killAt, held, upAt, resubscribedAt, disconnected: onB.length };
    })();
  }

  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - t0) / 1000) * RATE) + 1);
    while (sent < due) {
      const { project, role } = target(sent);
      post(phase, project, role);
      sent++;
    }
    await sleep(5);
  }
  const sendEnd = now();
  const faultResult = await fault;
  const drained = await waitDelivered(phase, DRAIN_S * 1000, t0);
  clearInterval(progress);
  const drainS = (now() - sendEnd) / 1000;
  const acks = await databaseCounts();
  const events = [...ledger.events.values()].filter((e) => e.phase === phase);
  const { expected, received } = ledger.expected(phase);
  return {
    phase,
    durationS,
    sent: events.length,
    accepted: events.filter((e) => e.status === 'accepted').length,
    rejected: events.filter((e) => e.status === 'rejected').length,
    expected,
    delivered: received,
    lost: expected - received,
    t0,
    sendEnd,
    drained,
    drainS,
    unacknowledged: acks.unacknowledged,
    ackWaitS: acks.waitedS,
    fault: faultResult,
  };
}

/** Waits (bounded) until every receipt in MySQL is acknowledged, then reads the counts. */
async function databaseCounts(waitMs = ACK_WAIT_MS) {
  const start = now();
  const deadline = start + waitMs;
  for (;;) {
    const counts = await Promise.all(projects.map((p) => receiptCounts(p.id)));
    const sum = (key: keyof (typeof counts)[number]) => counts.reduce((s, c) => s + c[key], 0);
    const totals = {
      events: sum('events'),
      receipts: sum('receipts'),
      undelivered: sum('undelivered'),
      unacknowledged: sum('unacknowledged'),
      waitedS: (now() - start) / 1000,
    };
    if (totals.unacknowledged === 0 || now() > deadline) return totals;
    await sleep(500);
  }
}

// Warm-up at the same rate, reconciled but not timed: JIT, caches and pools settle first.
const warmup = await runPhase('warm-up', WARMUP_S, false);
const results: PhaseResult[] = [await runPhase('normal', DURATION_S, false)];
if (!flags['no-fault']) results.push(await runPhase('fault', FAULT_DURATION_S, true));
const db = await databaseCounts(0); // the last run waited already
const acceptedAll = [...ledger.events.values()].filter((e) => e.status === 'accepted');
const expectedReceipts = acceptedAll.reduce((sum, e) => sum + ledger.recipients(e).length, 0);

// ---------------------------------------------------------------- report

const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
const perPhase = results.map((r) => ({ r, c: ledger.counters(r.phase) }));
const reconciled = [warmup, ...results].map((r) => ({ r, c: ledger.counters(r.phase) }));
const fmt = (n: number) => ms(n);

say('\n### Latency and throughput (POST → receipt in the pusher-js client)\n');
say(
  markdownTable(
    [
      'run',
      'clients',
      'events 202',
      'events/s',
      'deliveries',
      'deliveries/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'POST p50 / p99 ms',
    ],
    perPhase.map(({ r, c }) => {
      const lat = sorted(c.latencies);
      const ingest = sorted(postLatencies.get(r.phase) ?? []);
      return [
        r.phase,
        ledger.clients.length,
        r.accepted,
        (r.accepted / ((r.sendEnd - r.t0) / 1000)).toFixed(1),
        r.delivered,
        int(r.delivered / ((c.lastAt - r.t0) / 1000)),
        fmt(quantile(lat, 0.5)),
        fmt(quantile(lat, 0.95)),
        fmt(quantile(lat, 0.99)),
        fmt(lat.at(-1) ?? NaN),
        `${fmt(quantile(ingest, 0.5))} / ${fmt(quantile(ingest, 0.99))}`,
      ];
    }),
  ),
);
say('\n### Reconciliation\n');
say(
  markdownTable(
    [
      'run',
      'expected (event, user)',
      'delivered once',
      'lost',
      'duplicates dropped',
      'doubled',
      'cross-tenant',
      'other role',
      'POST refused',
      'caught up after reconnect',
      'drained in s',
      'unacknowledged (wait s)',
    ],
    reconciled.map(({ r, c }) => [
      r.phase,
      r.expected,
      r.delivered,
      r.lost,
      c.duplicates,
      c.doubled,
      c.crossTenant,
      c.misrouted,
      r.rejected,
      c.caughtUp,
      `${r.drainS.toFixed(1)}${r.drained ? '' : ' (timed out)'}`,
      `${int(r.unacknowledged)} (${r.ackWaitS.toFixed(0)})`,
    ]),
  ),
);
for (const { r } of perPhase) {
  if (!r.fault) continue;
  const f = r.fault;
  const at = (t: number) => `${((t - r.t0) / 1000).toFixed(1)} s`;
  const lastAt = ledger.counters(r.phase).lastAt;
  // Stored in MySQL before the kill, first received after it: replayed on resubscription or
  // delivered by a retried job. The worker's clock is this machine's clock.
  let storedBefore = 0;
  for (const client of ledger.clients) {
    for (const [seq, got] of client.got) {
      if (ledger.events.get(seq)?.phase === r.phase && got.createdAt < f.killAt && got.at > f.killAt)
        storedBefore++;
    }
  }
  say(
    `\nfault run: kill -9 of the worker and gateway-b (${f.disconnected} clients) at ${at(f.killAt)}, ` +
      `the worker holding ${f.held.pendingEntries} unacknowledged stream entries and ` +
      `${f.held.activeDeliveryJobs} active delivery jobs; both back at ${at(f.upAt)}, every client ` +
      `subscribed again at ${at(f.resubscribedAt)}; sending ended at ${at(r.sendEnd)}, last delivery at ` +
      `${at(lastAt)} (${((lastAt - f.upAt) / 1000).toFixed(1)} s after the restart). ${storedBefore} ` +
      'deliveries were of notifications stored before the kill and received after it. Most caught up ' +
      `by one client after its reconnect: ${Math.max(...ledger.clients.map((c) => c.caughtUp))} ` +
      `(the gateway replays at most ${REPLAY_LIMIT} unacknowledged notifications on subscribe).`,
  );
}
const disconnects = ledger.clients.reduce((s, c) => s + c.disconnects, 0);
say(
  `\nMySQL: ${int(db.events)} events for ${int(acceptedAll.length)} accepted (warm-up included); ` +
    `${int(db.receipts)} receipts for ${int(expectedReceipts)} expected; undelivered ${int(db.undelivered)}; ` +
    `unacknowledged ${int(db.unacknowledged)} (after waiting ${db.waitedS.toFixed(1)} s for the acks). Client disconnects: ${disconnects}. Load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}.`,
);

// Every lost (event, user) pair with its client's connection history, for the post-mortem.
const lostPairs = [...ledger.events.values()].flatMap((event) =>
  event.status !== 'accepted'
    ? []
    : ledger
        .recipients(event)
        .filter((c) => !c.got.has(event.seq))
        .map((c) => ({
          phase: event.phase,
          seq: event.seq,
          sentAt: new Date(event.sentAt).toISOString(),
          project: event.project.slug,
          role: event.role,
          user: c.user.email,
          userId: c.user.id,
          gateway: c.gateway,
          history: c.history.map(([at, what]) => `${new Date(at).toISOString()} ${what}`),
        })),
);
const detailsFile = join(logDir, 'details.json');
writeFileSync(
  detailsFile,
  JSON.stringify(
    {
      lost: lostPairs,
      clients: ledger.clients.map((c) => ({
        user: c.user.email,
        gateway: c.gateway,
        roles: c.user.roles,
        received: c.got.size,
        duplicates: [...c.seen.values()].reduce((s, n) => s + n - 1, 0),
        history: c.history.map(([at, what]) => `${new Date(at).toISOString()} ${what}`),
      })),
    },
    null,
    2,
  ),
);
say(`Details (lost pairs, clients' connection histories): ${detailsFile}`);

const unknown = [...ledger.phases.values()].reduce((s, c) => s + c.unknown, 0);
const failures = [
  ...reconciled.flatMap(({ r, c }) => [
    r.lost > 0 && `${r.phase}: ${r.lost} lost`,
    c.crossTenant > 0 && `${r.phase}: ${c.crossTenant} cross-tenant`,
    c.misrouted > 0 && `${r.phase}: ${c.misrouted} to a user without the role`,
    c.doubled > 0 && `${r.phase}: ${c.doubled} doubled notifications`,
    r.rejected > 0 && `${r.phase}: ${r.rejected} events refused`,
  ]),
  unknown > 0 && `${unknown} notifications of events never sent`,
  db.events !== acceptedAll.length && `MySQL holds ${db.events} events for ${acceptedAll.length} accepted`,
  db.receipts !== expectedReceipts && `MySQL holds ${db.receipts} receipts for ${expectedReceipts} expected`,
].filter((f): f is string => typeof f === 'string');

for (const client of ledger.clients) client.pusher.disconnect();
poster.close();
await Promise.all(processes.map((p) => p.stop()));

// What the processes logged at warn or above (pino JSON lines), by message.
const logged = new Map<string, number>();
for (const p of processes) {
  for (const line of readFileSync(join(logDir, `${p.name}.log`), 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { level: number; msg?: string };
    if (entry.level < 40) continue;
    const key = `${p.name}: ${entry.msg ?? '?'}`;
    logged.set(key, (logged.get(key) ?? 0) + 1);
  }
}
say(
  logged.size
    ? `Logged at warn or above: ${[...logged].map(([msg, n]) => `${msg} ×${n}`).join('; ')}.`
    : 'Nothing logged at warn or above.',
);
if (db.unacknowledged > 0)
  say(`WARNING: ${db.unacknowledged} acknowledgements sent by clients are not in MySQL.`);
if (failures.length) {
  say(`\nFAILED: ${failures.join('; ')}`);
  process.exit(1);
}
say(
  '\nOK: every expected notification delivered exactly once (after de-duplication by id), none across tenants.',
);
process.exit(0);
