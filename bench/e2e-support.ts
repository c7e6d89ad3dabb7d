// What bench/e2e.ts is built from: Tocsin role processes it can start, kill -9 and restart on
// the same port (`tocsin start --role …`, output to a log file), a small JSON HTTP client that
// can pick its loopback source address (the auth rate limit is per client IP), the bench's own
// database and Redis prefix (wiped at the start of a run, never anything else), and numbers.
import { spawn, type ChildProcess } from 'node:child_process';
import { type WriteStream } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import mariadb from 'mariadb';
import { QUEUE_NAMES } from '../src/core/queues.js';
import { redisKeys } from '../src/core/redis.js';
import { CONSUMER_GROUP } from '../src/workers/consumer.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export const E2E_DATABASE = 'tocsin_bench_e2e';
export const E2E_REDIS_PREFIX = 'tocsin-bench-e2e:';
export const ADMIN_EMAIL = 'admin@tocsin.local';
export const ADMIN_PASSWORD = 'bench-e2e-admin-password';

export const MYSQL_SERVER = process.env.E2E_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const REDIS_URL = process.env.E2E_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The environment of every Tocsin process of the bench: its own database and Redis prefix. */
export function processEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'warn',
    DATABASE_URL: `${MYSQL_SERVER}/${E2E_DATABASE}`,
    REDIS_URL,
    REDIS_PREFIX: E2E_REDIS_PREFIX,
    HTTP_HOST: '127.0.0.1',
    TOCSIN_ADMIN_EMAIL: ADMIN_EMAIL,
    TOCSIN_ADMIN_PASSWORD: ADMIN_PASSWORD,
    PASSWORD_HASH_COST: '4',
    TOCSIN_PRINT_BANNER: 'true',
    ...extra,
  };
}

/** Drops the bench database and deletes the bench's Redis keys: a clean slate, ours only. */
export async function wipeBenchData(database = E2E_DATABASE, redisPrefix = E2E_REDIS_PREFIX): Promise<void> {
  const url = new URL(MYSQL_SERVER);
  const conn = await mariadb.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
  });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await conn.end();
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Receipts of one project as MySQL holds them, to tell pipeline loss from delivery loss. */
export async function receiptCounts(projectId: string) {
  const url = new URL(MYSQL_SERVER);
  const conn = await mariadb.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    database: E2E_DATABASE,
  });
  try {
    const [row] = (await conn.query(
      `SELECT COUNT(*) AS receipts, SUM(deliveredAt IS NULL) AS undelivered,
              SUM(acknowledgedAt IS NULL) AS unacknowledged
         FROM NotificationReceipt WHERE projectId = ?`,
      [projectId],
    )) as Array<Record<string, unknown>>;
    const [events] = (await conn.query('SELECT COUNT(*) AS events FROM Event WHERE projectId = ?', [
      projectId,
    ])) as Array<Record<string, unknown>>;
    return {
      events: Number(events?.events ?? 0),
      receipts: Number(row?.receipts ?? 0),
      undelivered: Number(row?.undelivered ?? 0),
      unacknowledged: Number(row?.unacknowledged ?? 0),
    };
  } finally {
    await conn.end();
  }
}

/**
 * What a dead worker held, read right after its kill -9: stream entries it had read but not
 * acknowledged (another consumer claims them once idle for EVENT_CLAIM_IDLE_MS) and delivery
 * jobs it had in hand (BullMQ moves them back to waiting once their lock expires).
 */
export async function heldInFlight(projectIds: string[]) {
  const keys = redisKeys(E2E_REDIS_PREFIX);
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    let pendingEntries = 0;
    for (const projectId of projectIds) {
      const [count] = (await redis
        .xpending(keys.projectStream(projectId), CONSUMER_GROUP)
        .catch(() => [0])) as [number];
      pendingEntries += Number(count);
    }
    const activeDeliveryJobs = await redis.llen(`${keys.bullPrefix}:${QUEUE_NAMES.delivery}:active`);
    return { pendingEntries, activeDeliveryJobs };
  } finally {
    redis.disconnect();
  }
}

export type Role = 'api' | 'gateway' | 'worker';

/** One `tocsin start --role …` process that can be killed and started again with the same settings. */
export interface RoleProcess {
  readonly name: string;
  readonly role: Role | 'all';
  readonly port: number;
  pid(): number | undefined;
  start(): Promise<void>;
  /** `kill -9`: no shutdown, nothing flushed. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function roleProcess(options: {
  name: string;
  /** One role, or every role in one process (`tocsin start --role all`). */
  role: Role | 'all';
  /** HTTP_PORT for the api (and all), GATEWAY_PORT for a gateway. */
  port: number;
  apiPort: number;
  /** GATEWAY_PORT of an `all` process. */
  gatewayPort?: number;
  log: WriteStream;
  /** More environment (another database, say) and node flags (a profiler). */
  env?: Record<string, string>;
  nodeArgs?: string[];
}): RoleProcess {
  const { name, role, port, apiPort, log } = options;
  const gatewayPort = role === 'gateway' ? port : role === 'all' ? (options.gatewayPort ?? 0) : 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const spawnChild = () => {
    const env = processEnv({
      HTTP_PORT: String(role === 'api' || role === 'all' ? port : apiPort),
      PUBLIC_API_URL: `http://127.0.0.1:${apiPort}`,
      GATEWAY_PORT: String(gatewayPort),
      ...options.env,
    });
    const args = [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/main.ts', 'start', '--role', role];
    const proc = spawn(process.execPath, args, {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(proc);
    log.write(`\n--- ${new Date().toISOString()} ${name} started (pid ${proc.pid}) ---\n`);
    proc.stdout!.on('data', (chunk: Buffer) => log.write(chunk));
    proc.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
    exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        live.delete(proc);
        log.write(`--- ${new Date().toISOString()} ${name} exited (code ${code}, signal ${signal}) ---\n`);
        resolve();
      }),
    );
    return proc;
  };

  const waitReady = async (proc: ChildProcess) => {
    let output = '';
    const banner = new Promise<void>((resolve, reject) => {
      proc.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Tocsin is running')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`${name} exited with ${code} while starting`)));
    });
    await within(banner, `${name} to start`, 90_000);
    // The banner follows preparation; the listening sockets are what clients need.
    const probes = [
      ...(role === 'api' || role === 'all' ? [`http://127.0.0.1:${port}/ready`] : []),
      ...(gatewayPort ? [`http://127.0.0.1:${gatewayPort}/health`] : []),
    ];
    const deadline = Date.now() + 30_000;
    for (const probe of probes) {
      for (;;) {
        const status = await getStatus(probe).catch(() => 0);
        if (status === 200) break;
        if (Date.now() > deadline) throw new Error(`${name}: ${probe} answered ${status}`);
        await sleep(100);
      }
    }
  };

  return {
    name,
    role,
    port,
    pid: () => child?.pid,
    async start() {
      child = spawnChild();
      await waitReady(child);
    },
    async kill9() {
      child?.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 15_000) {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const proc = child;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Every child still running, killed if the bench itself dies. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of live) proc.kill('SIGKILL');
});

function getStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export interface JsonResponse<T = unknown> {
  status: number;
  body: T;
}

/**
 * A JSON client for the API. `localAddress` picks the loopback source address (127.0.0.x):
 * login and register are limited per client IP, so set-up spreads over a few addresses.
 */
export function jsonClient(baseUrl: string, options: { localAddress?: string; maxSockets?: number } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  const base = new URL(baseUrl);
  const request = <T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<JsonResponse<T>> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          host: base.hostname,
          port: base.port,
          method,
          path,
          agent,
          localAddress: options.localAddress,
          timeout: 30_000,
          headers: {
            ...(payload === undefined
              ? {}
              : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }),
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  return { request, close: () => agent.destroy() };
}

export type JsonClient = ReturnType<typeof jsonClient>;

/** Throws with the answer when the status is not the expected one. */
export function expectStatus<T>(res: JsonResponse<T>, status: number, what: string): T {
  if (res.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function within<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export const int = (n: number) => Math.round(n).toLocaleString('en-US');
export const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 100 ? 1 : 0) : '–');
