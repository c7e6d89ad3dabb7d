// What domain functions are given: the shared services plus the audit writer.
import type { Bus } from '../core/bus.js';
import type { Config } from '../core/config.js';
import type { Db } from '../core/db.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../core/redis.js';
import type { AuditWriter } from './audit.js';
import type { ProjectDirectory } from './project-directory.js';
import type { Storage } from './storage/index.js';

export interface DomainDeps {
  config: Config;
  log: Logger;
  db: Db;
  redis: Redis;
  keys: RedisKeys;
  bus: Bus;
  audit: AuditWriter;
  projects: ProjectDirectory;
  metrics: Metrics;
  storage: Storage;
}

/** Offset pagination as the list routes take it. */
export interface Page {
  page: number;
  pageSize: number;
}

export const pageArgs = ({ page, pageSize }: Page) => ({ skip: (page - 1) * pageSize, take: pageSize });
