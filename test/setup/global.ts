// Once per `npm test`: a fresh, migrated database and an empty Redis prefix for every worker.
import { Redis } from 'ioredis';
import mariadb from 'mariadb';
import { migrate } from '../../src/core/migrate.js';
import { parseMysqlUrl } from '../../src/core/mysql-url.js';
import { TEST_WORKERS } from '../../vitest.config.js';
import { findBrowser } from '../support/browser.js';
import { ADMIN_URL, TEST_REDIS_URL, workerDatabase, workerRedisPrefix } from '../support/env.js';

async function clearRedisPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function connect() {
  const target = parseMysqlUrl(`${ADMIN_URL}/mysql`);
  const connection = await mariadb.createConnection({ ...target, database: undefined });
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  await redis.connect();
  return { connection, redis };
}

/** Drops the databases and keys of this run, or of runs whose process is gone (killed runs). */
async function dropRuns(connection: mariadb.Connection, redis: Redis, which: (run: number) => boolean) {
  const rows = (await connection.query("SHOW DATABASES LIKE 'tocsin\\_test\\_%'")) as Array<
    Record<string, string>
  >;
  for (const name of rows.map((row) => Object.values(row)[0]!)) {
    const run = Number(/^tocsin_test_(\d+)_\d+$/.exec(name)?.[1]);
    if (!run || !which(run)) continue;
    await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await clearRedisPrefix(redis, `tocsin-test-${run}-`);
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  const run = String(process.pid);
  process.env.TOCSIN_TEST_RUN = run;
  // Unpacks the bundled Chromium (if that is the one) before test files run side by side. A bad
  // CHROMIUM_PATH is reported by the browser tests themselves.
  await findBrowser().catch(() => undefined);
  const { connection, redis } = await connect();
  try {
    await dropRuns(connection, redis, (other) => !isRunning(other));
    for (let worker = 1; worker <= TEST_WORKERS; worker++) {
      await migrate({ url: `${ADMIN_URL}/${workerDatabase(worker, run)}` });
      await clearRedisPrefix(redis, workerRedisPrefix(worker, run));
    }
  } finally {
    await connection.end();
    redis.disconnect();
  }
  return async () => {
    const cleanup = await connect();
    try {
      await dropRuns(cleanup.connection, cleanup.redis, (other) => String(other) === run);
    } finally {
      await cleanup.connection.end();
      cleanup.redis.disconnect();
    }
  };
}
