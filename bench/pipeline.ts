// Sustained throughput of the whole pipeline: events POSTed in batches (autocannon, this process,
// which also runs the API) → Redis stream → a worker process (`tocsin start --role worker`) →
// events, notifications and receipts in MySQL. Each event matches one rule targeting 5 users.
// At the end the counts must match exactly: nothing lost, nothing doubled.
// Run with `npm run bench:pipeline`; prints a markdown table. Needs the local MariaDB and Redis.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { uuidv7 } from '../src/core/ids.js';
import { CONSUMER_GROUP } from '../src/workers/consumer.js';
import { BENCH_ENV, benchProject, fire, formatInt, startBenchHub } from './hub.js';

// A fixed number of events, posted as fast as ingest takes them; the run ends when the last is stored.
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const BATCH = 50;
const USERS = 5;
const DRAIN_TIMEOUT_MS = 240_000;

const hub = await startBenchHub(['api']);
const project = await benchProject(hub);
const { db, redis, keys } = hub.running.services;
const projectDb = db.forProject(project.id);

const memberRole = await projectDb.role.findFirstOrThrow({ where: { name: 'member' } });
for (let i = 0; i < USERS; i++) {
  const id = uuidv7();
  await projectDb.user.create({
    data: { id, projectId: project.id, email: `${id}@bench.test`, fullName: `Bench ${i}`, status: 'active' },
  });
  await projectDb.userRole.create({ data: { projectId: project.id, userId: id, roleId: memberRole.id } });
}
const rule = await projectDb.rule.create({
  data: {
    id: uuidv7(),
    projectId: project.id,
    name: 'bench',
    condition: 'event.type == "bench.event" && event.payload.amount > 100',
    targetRoles: [memberRole.id],
    title: 'Transfer of {{event.payload.amount}} failed',
    body: 'Account {{event.payload.account}}',
    suppression: { maxMatches: 1_000_000, windowSeconds: 1 },
  },
});
await redis.incr(keys.rulesVersion(project.id));

const worker = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start', '--role', 'worker'], {
  cwd: fileURLToPath(new URL('..', import.meta.url)),
  env: { ...process.env, ...BENCH_ENV, TOCSIN_PRINT_BANNER: 'true' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise<void>((resolve, reject) => {
  worker.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('Tocsin is running') && resolve());
  worker.once('exit', (code) => reject(new Error(`The worker exited with ${code}`)));
});

const events = Array.from({ length: BATCH }, (_, i) => ({
  type: 'bench.event',
  payload: { amount: 1000 + i, account: `FR76-${i}` },
}));
const started = Date.now();
const load = await fire({
  url: `${hub.url}/api/v1/events/batch`,
  method: 'POST',
  body: JSON.stringify({ events }),
  headers: { 'content-type': 'application/json', 'x-api-key': project.apiKey },
  connections: 10,
  amount: Math.ceil(EVENTS / BATCH),
});
const ingestMs = Date.now() - started;
// Answers in flight when autocannon stopped were appended too: the stream holds the truth.
const accepted = await redis.xlen(keys.projectStream(project.id));

let stored = 0;
const deadline = Date.now() + DRAIN_TIMEOUT_MS;
while (stored < accepted && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 200));
  stored = await projectDb.event.count();
}
const totalMs = Date.now() - started;
const [notifications, receipts, processed] = await Promise.all([
  projectDb.notification.count({ where: { ruleId: rule.id } }),
  projectDb.notificationReceipt.count(),
  projectDb.event.count({ where: { status: 'processed' } }),
]);
const [pending] = (await redis.xpending(keys.projectStream(project.id), CONSUMER_GROUP)) as [number];

worker.kill('SIGTERM');
await new Promise((resolve) => worker.once('exit', resolve));

const ok =
  stored === accepted &&
  processed === accepted &&
  notifications === accepted &&
  receipts === accepted * USERS &&
  pending === 0;
console.log(
  `\n${formatInt(EVENTS)} events in POST /events/batch requests of ${BATCH} (10 connections), 1 worker process\n`,
);
console.log('| measure | value |');
console.log('|---|---:|');
console.log(`| events accepted (202) | ${formatInt(accepted)} |`);
console.log(`| ingest rate, events/s | ${formatInt((accepted / ingestMs) * 1000)} |`);
console.log(`| events stored (processed) | ${formatInt(stored)} (${formatInt(processed)}) |`);
console.log(`| notifications / receipts | ${formatInt(notifications)} / ${formatInt(receipts)} |`);
console.log(`| time to the last stored event | ${(totalMs / 1000).toFixed(1)} s |`);
console.log(`| **sustained end-to-end, events/s** | **${formatInt((stored / totalMs) * 1000)}** |`);
console.log(
  `| rows written per second (events + notifications + receipts) | ${formatInt(((stored + notifications + receipts) / totalMs) * 1000)} |`,
);
console.log(`| ingest p50 / p99 per batch request | ${load.p50} / ${load.p99} ms |`);
console.log(
  `\ncount check: ${ok ? 'nothing lost, nothing doubled' : 'MISMATCH'} (pending entries: ${pending})`,
);

await redis.del(keys.projectStream(project.id));
await redis.srem(keys.activeStreams(), project.id);
await hub.close();
if (!ok) process.exitCode = 1;
