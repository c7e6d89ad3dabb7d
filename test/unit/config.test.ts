import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_SECRETS, loadConfig } from '../../src/core/config.js';

const errorOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    return err;
  }
  throw new Error('expected loadConfig to fail');
};

describe('loadConfig', () => {
  it('works with no environment at all, pointing at the local MariaDB and Redis', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config.database.url).toBe('mysql://root@127.0.0.1:3306/tocsin');
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.http.port).toBe(3000);
    expect(config.gateway).toEqual({
      port: 6001,
      activityTimeoutSec: 120,
      pongTimeoutMs: 30_000,
      leaseMs: 10_000,
      replayRepeatMs: 60_000,
      subscribesPerSecond: 200,
      acksPerSecond: 100,
      ackQueue: 10_000,
    });
    expect(config.secrets.encryptionKey).toHaveLength(32);
  });

  it('coerces and exposes typed values', () => {
    const config = loadConfig({
      HTTP_PORT: '8080',
      DATABASE_POOL_SIZE: '25',
      CORS_ORIGINS: 'https://a.test, https://b.test',
      GATEWAY_LEASE_MS: '4000',
    });
    expect(config.gateway.leaseMs).toBe(4000);
    expect(config.http.port).toBe(8080);
    expect(config.database.poolSize).toBe(25);
    expect(config.http.corsOrigins).toEqual(['https://a.test', 'https://b.test']);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ HTTP_PORT: '' }).http.port).toBe(3000);
  });

  it.each([
    ['HTTP_PORT', 'abc'],
    ['HTTP_PORT', '70000'],
    ['DATABASE_URL', 'postgres://x'],
    ['REDIS_URL', 'http://x'],
    ['NODE_ENV', 'staging'],
    ['TOCSIN_ENCRYPTION_KEY', 'c2hvcnQ='],
    ['GATEWAY_LEASE_MS', '999'],
    ['GATEWAY_ACTIVITY_TIMEOUT_SEC', '0'],
  ])('stops on a bad %s with one line naming it', (name, value) => {
    const err = errorOf({ [name]: value });
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).toContain(name);
    expect(message).not.toContain('\n');
  });

  it('never echoes a secret value in the error', () => {
    const message = (errorOf({ TOCSIN_JWT_SECRET: 'too-short-secret' }) as Error).message;
    expect(message).toContain('TOCSIN_JWT_SECRET');
    expect(message).not.toContain('too-short-secret');
  });

  it('refuses the public development secrets in production', () => {
    const strong = {
      TOCSIN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      TOCSIN_API_KEY_PEPPER: 'p'.repeat(32),
      TOCSIN_JWT_SECRET: 'j'.repeat(40),
    };
    for (const name of Object.keys(DEV_SECRETS)) {
      const env = {
        NODE_ENV: 'production',
        ...strong,
        [name]: DEV_SECRETS[name as keyof typeof DEV_SECRETS],
      };
      expect((errorOf(env) as Error).message).toContain(name);
    }
    expect(loadConfig({ NODE_ENV: 'production', ...strong }).env).toBe('production');
  });
});
