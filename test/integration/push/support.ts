// Shared set-up of the push provider tests: the worker's database and Redis, a project row, and
// the notification most tests send.
import { randomBytes } from 'node:crypto';
import type { Config } from '../../../src/core/config.js';
import { encryptSecret } from '../../../src/core/crypto.js';
import { createDb, type Db } from '../../../src/core/db.js';
import { createLogger } from '../../../src/core/log.js';
import { createMetrics } from '../../../src/core/metrics.js';
import { createRedis, redisKeys } from '../../../src/core/redis.js';
import type { PushInput } from '../../../src/workers/push/payload.js';
import { testConfig } from '../../support/env.js';

export function pushServices(config: Config = testConfig()) {
  const db = createDb(config.database);
  const redis = createRedis(config.redis.url, 'push-test');
  return {
    config,
    db,
    redis,
    keys: redisKeys(config.redis.prefix),
    log: createLogger({ level: 'silent' }),
    metrics: createMetrics(),
    async close() {
      redis.disconnect();
      await db.close();
    },
  };
}

export async function createProjectRow(deps: { db: Db; config: Config }): Promise<string> {
  const unique = randomBytes(6).toString('hex');
  const { id } = await deps.db.system.project.create({
    data: {
      name: `Push ${unique}`,
      slug: `push-${unique}`,
      apiKeyHash: randomBytes(32).toString('hex'),
      apiKeyPrefix: 'test',
      gatewayAppId: unique,
      gatewayKey: unique,
      gatewaySecretEnc: encryptSecret(unique, deps.config.secrets.encryptionKey),
      settings: {},
    },
    select: { id: true },
  });
  return id;
}

export const alert = (overrides: Partial<PushInput> = {}): PushInput => ({
  notificationId: 'notification-1',
  projectId: 'project-1',
  ruleId: 'rule-1',
  eventType: 'transfer.failed',
  title: 'Transfer failed',
  body: 'Batch 42 was rejected',
  sound: { fileName: 'siren.caf', url: 'https://files.example/siren.caf?sig=abc' },
  badge: 3,
  priority: 0,
  ...overrides,
});

let tokens = 0;
/** A device token no other test uses (the fakes answer per token). */
export const deviceToken = (): string =>
  `${process.pid.toString(16)}${(tokens++).toString(16)}${randomBytes(8).toString('hex')}`;
