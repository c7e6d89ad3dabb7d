// The shared services every part of a process is built from (and the CLI uses too), with the
// closers that release them in order: flush the audit trail, then Redis, then MySQL.
import type { Config } from './core/config.js';
import { createBus } from './core/bus.js';
import { createDb } from './core/db.js';
import type { Logger } from './core/log.js';
import { createMetrics } from './core/metrics.js';
import { createRedis, redisKeys } from './core/redis.js';
import type { Closer } from './core/shutdown.js';
import { createAuditWriter } from './domain/audit.js';
import type { DomainDeps } from './domain/deps.js';
import { createProjectDirectory } from './domain/project-directory.js';
import { createStorage } from './domain/storage/index.js';

export type Services = DomainDeps;

export function createServices(config: Config, log: Logger): { services: Services; closers: Closer[] } {
  const db = createDb(config.database);
  const redis = createRedis(config.redis.url, 'tocsin');
  const busSubscriber = createRedis(config.redis.url, 'tocsin-bus');
  for (const connection of [redis, busSubscriber]) {
    connection.on('error', (err) => log.warn({ err: err.message }, 'Redis connection error'));
  }
  const keys = redisKeys(config.redis.prefix);
  const bus = createBus({ publisher: redis, subscriber: busSubscriber, keys, log });
  const metrics = createMetrics();
  const audit = createAuditWriter({ db, log, metrics });
  const projects = createProjectDirectory({ db, bus, pepper: config.secrets.apiKeyPepper });
  const storage = createStorage(config);
  const closers: Closer[] = [
    { name: 'audit', close: () => audit.close() },
    { name: 'bus', close: () => bus.close() },
    {
      name: 'redis',
      close: async () => {
        for (const connection of [busSubscriber, redis])
          await connection.quit().catch(() => connection.disconnect());
      },
    },
    { name: 'mysql', close: () => db.close() },
    { name: 'storage', close: () => storage.close() },
  ];
  return { services: { config, log, db, redis, keys, bus, audit, projects, metrics, storage }, closers };
}
