// What the ingest and pipeline benchmarks share: a hub started in this process against its own
// database (tocsin_bench) and Redis prefix on the local servers, a project with a high ingest
// limit, and autocannon runs summarised in one line. Loopback only; every run is bounded in time.
import autocannon from 'autocannon';
import { loadConfig, type Config } from '../src/core/config.js';
import { createLogger } from '../src/core/log.js';
import { runClosers } from '../src/core/shutdown.js';
import { createProject } from '../src/domain/projects.js';
import { startTocsin, type Role, type Running } from '../src/start.js';

export const BENCH_ENV: Record<string, string> = {
  NODE_ENV: 'development',
  LOG_LEVEL: 'silent',
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/tocsin_bench',
  REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
  REDIS_PREFIX: 'tocsin-bench:',
  HTTP_HOST: '127.0.0.1',
  HTTP_PORT: '0',
  TOCSIN_ADMIN_PASSWORD: 'bench-admin-password-123',
  PASSWORD_HASH_COST: '4',
  TOCSIN_PRINT_BANNER: 'false',
};

export interface BenchHub {
  config: Config;
  running: Running;
  url: string;
  close(): Promise<void>;
}

export async function startBenchHub(roles: Role[]): Promise<BenchHub> {
  const config = loadConfig(BENCH_ENV);
  const log = createLogger({ level: 'silent' });
  const running = await startTocsin({ config, roles, log, print: () => undefined });
  await running.prepared;
  return {
    config,
    running,
    url: `http://127.0.0.1:${running.apiPort}`,
    close: async () => void (await runClosers(running.closers, log)),
  };
}

/** A fresh project whose ingest limit will not be what is measured. */
export async function benchProject(hub: BenchHub) {
  const slug = `bench-${Date.now().toString(36)}`;
  const created = await createProject(
    hub.running.services,
    { kind: 'anonymous' },
    { name: slug, slug, settings: { rateLimits: { ingestPerSecond: 1_000_000, apiPerMinute: 1_000_000 } } },
  );
  return { id: created.project.id, apiKey: created.apiKey };
}

export interface Load {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export async function fire(options: autocannon.Options): Promise<Load> {
  const result = await autocannon({ connections: 50, duration: 10, ...options });
  return {
    requests: result['2xx'],
    perSecond: Math.round(result['2xx'] / (result.duration || 1)),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export const formatInt = (n: number) => Math.round(n).toLocaleString('en-US');
