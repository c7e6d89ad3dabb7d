// Escalation under load: 10,000 open alerts with a 3-step policy (1-minute waits) on one
// escalation worker. Measures how late steps fire (the worker's own lateness observations) and,
// with an acknowledgement storm in the middle, whether anything is sent after an alert's
// acknowledgement is stored. "Sending" is the delivery gate every channel reads
// (loadDeliveries): a simulated delivery worker takes each dispatched notification, reads it
// through the gate and counts a send when the gate still returns its receipts.
// Run with `npx tsx bench/escalation.ts [alerts]` (about 3 minutes); prints markdown tables.
// Needs the local MariaDB and Redis (database `tocsin_bench`, or BENCH_DATABASE_URL / BENCH_REDIS_URL).
import type { Metrics } from '../src/core/metrics.js';
import { uuidv7 } from '../src/core/ids.js';
import { acknowledgeAlert } from '../src/domain/alerting/alerts.js';
import { createPolicy } from '../src/domain/alerting/policies.js';
import { timerKey, timerMember } from '../src/domain/alerting/timer.js';
import type { Principal } from '../src/domain/principal.js';
import { createRecipientIndex } from '../src/domain/recipients.js';
import { loadDeliveries } from '../src/workers/delivery/content.js';
import { startEscalation } from '../src/workers/escalation.js';
import type { Dispatched } from '../src/workers/notifications.js';
import { benchProject, startBenchHub } from './hub.js';

const ALERTS = Number(process.argv[2] ?? 10_000);
/** Step 1 of the alerts falls due over this window, so the worker is not handed 10,000 at once. */
const SPREAD_MS = 60_000;
const STORM_AT_MS = SPREAD_MS + 30_000; // while step 2 is firing, before any step 3 is due
const SENDERS = 16;

const hub = await startBenchHub([]);
const deps = hub.running.services;
const project = await benchProject(hub);
const db = deps.db.forProject(project.id);
const admin: Principal = { kind: 'superAdmin', adminId: uuidv7(), projectId: project.id, jti: '', exp: 0 };

const users = [uuidv7(), uuidv7(), uuidv7()];
await db.user.createMany({
  data: users.map((id) => ({
    id,
    projectId: project.id,
    email: `${id}@bench.test`,
    fullName: id,
    status: 'active',
  })),
});
const policy = await createPolicy(deps, admin, project.id, {
  name: 'bench',
  steps: users.map((id) => ({ targets: [{ type: 'user' as const, id }], waitMinutes: 1 })),
});

// The alerts, as the pipeline leaves them: triggered, step 1 due (spread over SPREAD_MS).
const t0 = Date.now() + 2_000;
const alertIds: string[] = [];
for (let i = 0; i < ALERTS; i += 1_000) {
  const rows = Array.from({ length: Math.min(1_000, ALERTS - i) }, (_, j) => {
    const id = uuidv7();
    alertIds.push(id);
    return {
      id,
      projectId: project.id,
      policyId: policy.id,
      dedupKey: `k${i + j}`,
      openKey: id.replace(/-/g, '').padEnd(64, '0'),
      title: 'Transfer failed',
      body: 'bench',
      lastEventAt: new Date(),
      nextStepAt: new Date(t0 + ((i + j) / ALERTS) * SPREAD_MS),
    };
  });
  await db.alert.createMany({ data: rows });
  const pipeline = deps.redis.pipeline();
  for (const row of rows)
    pipeline.zadd(timerKey(deps.keys), row.nextStepAt.getTime(), timerMember(project.id, row.id));
  await pipeline.exec();
}

// The simulated delivery worker: every dispatched notification goes through the gate.
const queue: Dispatched[] = [];
/** Alert id → when its acknowledgement was stored. */
const ackStoredAt = new Map<string, number>();
const alertOfNotification = new Map<string, string>();
const sends: Array<{ alertId: string; readStart: number; readEnd: number }> = [];
let sending = true;
const senders = Array.from({ length: SENDERS }, async () => {
  while (sending || queue.length) {
    const next = queue.shift();
    if (!next) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      continue;
    }
    const readStart = Date.now();
    const deliveries = await loadDeliveries(deps, project.id, next.notificationId, next.userIds);
    if (deliveries.size)
      sends.push({ alertId: alertOfNotification.get(next.notificationId)!, readStart, readEnd: Date.now() });
  }
});

const lateness: number[] = [];
const metrics = {
  ...deps.metrics,
  escalationLateness: { observe: (seconds: number) => lateness.push(seconds * 1000) },
} as unknown as Metrics;
const escalation = startEscalation({
  ...deps,
  metrics,
  recipients: createRecipientIndex(deps),
  dispatch: async (projectId, notifications) => {
    const rows = await deps.db.forProject(projectId).notification.findMany({
      where: { id: { in: notifications.map((n) => n.notificationId) } },
      select: { id: true, alertId: true },
    });
    for (const row of rows) alertOfNotification.set(row.id, row.alertId!);
    queue.push(...notifications);
  },
});

// The storm: every alert acknowledged at once (as many at a time as the pool serves beside the
// worker), each ack's stored time kept.
await new Promise((resolve) => setTimeout(resolve, t0 + STORM_AT_MS - Date.now()));
const stormStart = Date.now();
// The worker holds up to pool − 2 connections; the acknowledgements get the other two.
const STORM = 2;
for (let i = 0; i < alertIds.length; i += STORM) {
  await Promise.all(
    alertIds.slice(i, i + STORM).map(async (id) => {
      await acknowledgeAlert(deps, admin, project.id, id);
      ackStoredAt.set(id, Date.now());
    }),
  );
}
const stormMs = Date.now() - stormStart;
// Past the time every step 3 would have been due, then let the senders drain.
await new Promise((resolve) =>
  setTimeout(resolve, Math.max(0, t0 + SPREAD_MS + 2 * 60_000 + 5_000 - Date.now())),
);
sending = false;
await Promise.all(senders);
await escalation.close();

const steps = await db.alertEntry.groupBy({
  by: ['step'],
  where: { alertId: { in: alertIds }, type: 'notified' },
  _count: true,
});
const createdAfterAck = await db.notification.findMany({
  where: { alertId: { in: alertIds } },
  select: { alertId: true, createdAt: true },
});
const stepsAfterAck = createdAfterAck.filter(
  (n) => n.createdAt.getTime() > ackStoredAt.get(n.alertId!)!,
).length;
const sentAfter = sends.filter((s) => s.readStart > ackStoredAt.get(s.alertId)!).length;
const straddling = sends.filter(
  (s) => s.readStart <= ackStoredAt.get(s.alertId)! && s.readEnd > ackStoredAt.get(s.alertId)!,
).length;

lateness.sort((a, b) => a - b);
const pct = (p: number) => lateness[Math.min(lateness.length - 1, Math.floor((p / 100) * lateness.length))]!;
console.log(`\n${ALERTS} alerts, 3-step policy, 1-minute waits, one escalation worker\n`);
console.log('| steps fired | lateness p50 | lateness p99 | max |');
console.log('| ---: | ---: | ---: | ---: |');
console.log(
  `| ${lateness.length} | ${pct(50).toFixed(0)} ms | ${pct(99).toFixed(0)} ms | ${lateness.at(-1)!.toFixed(0)} ms |`,
);
console.log(`\nSteps notified: ${steps.map((s) => `step ${s.step}: ${s._count}`).join(', ')}`);
console.log(
  `\nAck storm: ${alertIds.length} acknowledgements in ${stormMs} ms (${Math.round((alertIds.length / stormMs) * 1000)}/s)\n`,
);
console.log('| after the ack was stored | count |');
console.log('| --- | ---: |');
console.log(`| notifications created (later steps) | ${stepsAfterAck} |`);
console.log(`| sends whose gate read began after the ack | ${sentAfter} |`);
console.log(`| sends in flight at the ack (read began before, ended after) | ${straddling} |`);
console.log(`| sends in total | ${sends.length} |`);

await hub.close();
