// The per-worker database and Redis prefix, derived from vitest's pool id.
import { loadConfig, type Config } from '../../src/core/config.js';

export const ADMIN_URL = process.env.TEST_MYSQL_ADMIN_URL ?? 'mysql://root@127.0.0.1:3306';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Each `npm test` run has its own namespace (the vitest main process id, set by the global
 * setup and inherited by the workers), so runs on one machine never drop each other's data.
 */
export const testRun = (): string => process.env.TOCSIN_TEST_RUN ?? String(process.ppid);

export const workerDatabase = (worker: number | string, run = testRun()) => `tocsin_test_${run}_${worker}`;
export const workerRedisPrefix = (worker: number | string, run = testRun()) =>
  `tocsin-test-${run}-${worker}:`;

export function workerId(): string {
  return process.env.VITEST_POOL_ID ?? '1';
}

export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const worker = workerId();
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: `${ADMIN_URL}/${workerDatabase(worker)}`,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: workerRedisPrefix(worker),
    HTTP_HOST: '127.0.0.1',
    TOCSIN_ADMIN_PASSWORD: 'test-admin-password-123',
    PASSWORD_HASH_COST: '4',
    // Tests point webhooks at loopback servers; the SSRF guard has its own tests.
    WEBHOOK_ALLOW_PRIVATE: 'true',
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig(testEnv(overrides));
}
