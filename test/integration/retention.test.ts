import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/core/db.js';
import { uuidv7 } from '../../src/core/ids.js';
import { createLogger } from '../../src/core/log.js';
import { createRedis, redisKeys } from '../../src/core/redis.js';
import { applyRetention } from '../../src/domain/retention.js';
import { unreadCount } from '../../src/domain/unread.js';
import { testConfig } from '../support/env.js';
import { createRow } from '../support/models.js';

let db: Db;
let deps: Parameters<typeof applyRetention>[0];
const log = createLogger({ level: 'silent' });
const now = new Date('2026-06-01T00:00:00Z');
const daysBefore = (days: number) => new Date(now.getTime() - days * 86_400_000);

beforeAll(() => {
  const config = testConfig();
  db = createDb(config.database);
  const redis = createRedis(config.redis.url, 'retention-test');
  deps = { db, log, redis, keys: redisKeys(config.redis.prefix) };
});
afterAll(async () => {
  deps.redis.disconnect();
  await db.close();
});

/** A project with retention 30 d events / 90 d notifications / 365 d audit, and rows on both sides of each cutoff. */
async function seededProject() {
  const project = await createRow(db.system, 'Project', undefined);
  const projectId = project.id as string;
  await db.system.project.update({
    where: { id: projectId },
    data: { settings: { retention: { eventsDays: 30, notificationsDays: 90, auditDays: 365 } } },
  });
  const user = await createRow(db.system, 'User', projectId);
  const scoped = db.forProject(projectId);
  for (const age of [10, 40, 41]) {
    await scoped.event.create({
      data: { id: uuidv7(), projectId, type: 't', payload: {}, receivedAt: daysBefore(age) },
    });
  }
  for (const age of [80, 100, 120]) {
    const n = await scoped.notification.create({
      data: { projectId, title: 't', body: 'b', createdAt: daysBefore(age) },
    });
    await scoped.notificationReceipt.create({
      data: { projectId, notificationId: n.id, userId: user.id as string },
    });
  }
  for (const age of [1, 400]) {
    await scoped.auditLog.create({
      data: { projectId, actorType: 'system', action: 'x', createdAt: daysBefore(age) },
    });
  }
  return { projectId, userId: user.id as string };
}

const counts = async (projectId: string) => {
  const scoped = db.forProject(projectId);
  return {
    events: await scoped.event.count(),
    notifications: await scoped.notification.count(),
    receipts: await scoped.notificationReceipt.count(),
    auditLogs: await scoped.auditLog.count(),
  };
};

describe('retention', () => {
  it('counts without deleting in a dry run', async () => {
    const { projectId } = await seededProject();
    const report = await applyRetention(deps, projectId, { dryRun: true, now });
    expect(report).toMatchObject({ dryRun: true, events: 2, notifications: 2, receipts: 2, auditLogs: 1 });
    expect(await counts(projectId)).toEqual({ events: 3, notifications: 3, receipts: 3, auditLogs: 2 });
  });

  it("deletes only what is older than the project's settings, in small batches, and only in that project", async () => {
    const { projectId, userId } = await seededProject();
    const { projectId: bystander } = await seededProject();
    // Read once so the counter (3 unread) is cached in Redis.
    expect(await unreadCount(deps, projectId, userId)).toBe(3);
    const progress: string[] = [];
    const report = await applyRetention(deps, projectId, {
      now,
      batch: 1,
      onProgress: (l) => progress.push(l),
    });
    expect(report).toMatchObject({ dryRun: false, events: 2, notifications: 2, receipts: 2, auditLogs: 1 });
    expect(await counts(projectId)).toEqual({ events: 1, notifications: 1, receipts: 1, auditLogs: 1 });
    expect(await counts(bystander)).toEqual({ events: 3, notifications: 3, receipts: 3, auditLogs: 2 });
    expect(progress).toHaveLength(4);
    // The survivors are the young ones.
    const left = await db.forProject(projectId).event.findFirstOrThrow();
    expect(left.receivedAt.getTime()).toBe(daysBefore(10).getTime());
    // The cached counter was dropped with the receipts, so it no longer counts deleted ones.
    expect(await unreadCount(deps, projectId, userId)).toBe(1);
  });
});
