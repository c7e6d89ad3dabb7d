// Unread count for one user with 100,000 notifications: GET /api/v1/notifications/unread-count
// (a Redis counter) against the COUNT(*) over receipts it replaces, in the same run.
// Run with `npx tsx bench/unread.ts [notifications]`; prints a markdown table.
// Needs the local MariaDB and Redis (database `tocsin_bench`, or BENCH_DATABASE_URL / BENCH_REDIS_URL).
import autocannon from 'autocannon';
import { loadConfig } from '../src/core/config.js';
import { uuidv7 } from '../src/core/ids.js';
import { createLogger } from '../src/core/log.js';
import { runClosers } from '../src/core/shutdown.js';
import { createProject } from '../src/domain/projects.js';
import { issueAccessToken } from '../src/domain/tokens.js';
import { countUnread } from '../src/domain/unread.js';
import { startTocsin } from '../src/start.js';

const NOTIFICATIONS = Number(process.argv[2] ?? 100_000);
const READ_SHARE = 0.25;
const BATCH = 5_000;
const SAMPLES = { endpoint: 2_000, scan: 50 };

const config = loadConfig({
  NODE_ENV: 'development',
  LOG_LEVEL: 'silent',
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/tocsin_bench',
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: 'tocsin-bench-unread:',
  HTTP_HOST: '127.0.0.1',
  HTTP_PORT: '0',
  TOCSIN_ADMIN_PASSWORD: 'bench-admin-password-123',
  TOCSIN_PRINT_BANNER: 'false',
});
const log = createLogger({ level: 'silent' });

/** Milliseconds each call of `run` took, sorted. */
async function timings(samples: number, run: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = performance.now();
    await run();
    out.push(performance.now() - start);
  }
  return out.sort((a, b) => a - b);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (value: number) => `${value.toFixed(2)} ms`;

const running = await startTocsin({ config, roles: ['api'], log, print: () => undefined });
await running.prepared;
const deps = running.services;
const url = `http://127.0.0.1:${running.apiPort}/api/v1/notifications/unread-count`;
try {
  const slug = `bench-unread-${Date.now().toString(36)}`;
  const { project } = await createProject(
    deps,
    { kind: 'anonymous' },
    { name: slug, slug, settings: { rateLimits: { apiPerMinute: 1_000_000, userPerMinute: 1_000_000 } } },
  );
  const db = deps.db.forProject(project.id);
  const userId = uuidv7();
  await db.user.create({
    data: {
      id: userId,
      projectId: project.id,
      email: `${slug}@bench.test`,
      fullName: 'Bench',
      status: 'active',
    },
  });
  const { accessToken } = await issueAccessToken(deps, {
    sub: userId,
    pid: project.id,
    roles: [],
    perms: [],
  });
  const headers = { Authorization: `Bearer ${accessToken}` };

  const started = performance.now();
  const base = Date.now() - NOTIFICATIONS * 1000;
  for (let offset = 0; offset < NOTIFICATIONS; offset += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, NOTIFICATIONS - offset) }, (_, i) => ({
      id: uuidv7(),
      projectId: project.id,
      title: 'Transfer failed',
      body: 'Bucket balance low',
      createdAt: new Date(base + (offset + i) * 1000),
    }));
    await db.notification.createMany({ data: rows });
    await db.notificationReceipt.createMany({
      data: rows.map((n, i) => ({
        projectId: project.id,
        notificationId: n.id,
        userId,
        createdAt: n.createdAt,
        readAt: (offset + i) % Math.round(1 / READ_SHARE) === 0 ? n.createdAt : null,
      })),
    });
  }
  const insertSeconds = (performance.now() - started) / 1000;
  const expected = await countUnread(deps, project.id, userId);

  const get = async () => {
    const res = await fetch(url, { headers });
    const body = (await res.json()) as { count: number };
    if (body.count !== expected) throw new Error(`unread-count said ${body.count}, expected ${expected}`);
  };
  // The first read finds no counter and rebuilds it from MySQL.
  const rebuild = (await timings(1, get))[0]!;
  await timings(200, get); // warm-up: JIT, connection pool, keep-alive
  const endpoint = await timings(SAMPLES.endpoint, get);
  const scan = await timings(SAMPLES.scan, () => countUnread(deps, project.id, userId));
  const load = await autocannon({ url, headers, connections: 10, duration: 5 });

  console.log(
    `\n${NOTIFICATIONS.toLocaleString('en-US')} notifications for one user (${expected.toLocaleString('en-US')} unread), ` +
      `inserted in ${insertSeconds.toFixed(1)} s\n`,
  );
  console.log('| measurement | samples | p50 | p99 |');
  console.log('|---|---:|---:|---:|');
  console.log(
    `| GET /notifications/unread-count (HTTP, counter) | ${endpoint.length} | ${ms(percentile(endpoint, 50))} | ${ms(percentile(endpoint, 99))} |`,
  );
  console.log(
    `| COUNT(*) over the receipts (in process, no HTTP) | ${scan.length} | ${ms(percentile(scan, 50))} | ${ms(percentile(scan, 99))} |`,
  );
  console.log(`| first GET: counter rebuilt from MySQL | 1 | ${ms(rebuild)} | |`);
  console.log(
    `\nUnder load (10 connections, 5 s): ${Math.round(load.requests.average).toLocaleString('en-US')} requests/s, ` +
      `p50 ${load.latency.p50} ms, p99 ${load.latency.p99} ms, non-2xx ${load.non2xx}.`,
  );
  console.log(
    `p50 ratio: the counter answers ${(percentile(scan, 50) / percentile(endpoint, 50)).toFixed(1)}× faster than the scan alone.`,
  );
  await db.notification.deleteMany({});
  await db.user.delete({ where: { id: userId } });
} finally {
  await runClosers(running.closers, log);
}
