import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/core/db.js';
import { createLogger } from '../../src/core/log.js';
import { createRedis, redisKeys } from '../../src/core/redis.js';
import { createProjectDirectory } from '../../src/domain/project-directory.js';
import { applyRetention, applyRetentionToAll } from '../../src/domain/retention.js';
import { unreadCount } from '../../src/domain/unread.js';
import { testConfig } from '../support/env.js';
import { KEPT, retainedCounts, SEEDED, seedRetentionProject } from '../support/retention-seed.js';

let db: Db;
let deps: Parameters<typeof applyRetention>[0];
const log = createLogger({ level: 'silent' });
const now = new Date('2026-06-01T00:00:00Z');
const daysBefore = (days: number) => new Date(now.getTime() - days * 86_400_000);

beforeAll(() => {
  const config = testConfig();
  db = createDb(config.database);
  const redis = createRedis(config.redis.url, 'retention-test');
  // No settings change is announced here: the seed's last write is read once, fresh.
  const projects = createProjectDirectory({ db, bus: { on: () => () => undefined }, pepper: 'test' });
  deps = { db, log, redis, keys: redisKeys(config.redis.prefix), projects };
});
afterAll(async () => {
  deps.redis.disconnect();
  await db.close();
});

describe('retention', () => {
  it('counts without deleting in a dry run', async () => {
    const { projectId } = await seedRetentionProject(db, now);
    const report = await applyRetention(deps, projectId, { dryRun: true, now });
    expect(report).toMatchObject({ dryRun: true, events: 2, notifications: 2, receipts: 2, auditLogs: 1 });
    expect(await retainedCounts(db, projectId)).toEqual(SEEDED);
  });

  it("deletes only what is older than the project's settings, in small batches, and only in that project", async () => {
    const { projectId, userId } = await seedRetentionProject(db, now);
    const { projectId: bystander } = await seedRetentionProject(db, now);
    // Read once so the counter (3 unread) is cached in Redis.
    expect(await unreadCount(deps, projectId, userId)).toBe(3);
    const progress: string[] = [];
    const report = await applyRetention(deps, projectId, {
      now,
      batch: 1,
      onProgress: (l) => progress.push(l),
    });
    expect(report).toMatchObject({ dryRun: false, events: 2, notifications: 2, receipts: 2, auditLogs: 1 });
    expect(await retainedCounts(db, projectId)).toEqual(KEPT);
    expect(await retainedCounts(db, bystander)).toEqual(SEEDED);
    expect(progress).toHaveLength(4);
    // The survivors are the young ones.
    const left = await db.forProject(projectId).event.findFirstOrThrow();
    expect(left.receivedAt.getTime()).toBe(daysBefore(10).getTime());
    // The cached counter was dropped with the receipts, so it no longer counts deleted ones.
    expect(await unreadCount(deps, projectId, userId)).toBe(1);
  });

  it('stops after the current batch once its signal is aborted (a shutdown), leaving the rest', async () => {
    const { projectId } = await seedRetentionProject(db, now);
    const stopping = new AbortController();
    const report = await applyRetention(deps, projectId, {
      now,
      batch: 1,
      // Aborted once the receipts are done: nothing of the other tables goes.
      onProgress: () => stopping.abort(),
      signal: stopping.signal,
    });
    expect(report).toMatchObject({ receipts: 2, notifications: 0, events: 0, auditLogs: 0 });
    expect(await retainedCounts(db, projectId)).toEqual({ ...SEEDED, receipts: KEPT.receipts });
    expect(await applyRetentionToAll(deps, { now, signal: stopping.signal })).toEqual([]);
    expect(await retainedCounts(db, projectId)).toEqual({ ...SEEDED, receipts: KEPT.receipts });
  });
});
