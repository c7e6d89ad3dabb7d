// The retention tests' project: retention 30 d events / 90 d notifications / 365 d audit, and
// rows on both sides of each cutoff (their ages count back from the `now` given), so one row of
// each kind outlives retention and the others do not.
import type { Db } from '../../src/core/db.js';
import { uuidv7 } from '../../src/core/ids.js';
import { createRow } from './models.js';

export const RETENTION_SETTINGS = { eventsDays: 30, notificationsDays: 90, auditDays: 365 };

/** What a seeded project holds, and what of it outlives retention. */
export const SEEDED = { events: 3, notifications: 3, receipts: 3, auditLogs: 2 };
export const KEPT = { events: 1, notifications: 1, receipts: 1, auditLogs: 1 };

export async function seedRetentionProject(db: Db, now: Date) {
  const daysBefore = (days: number) => new Date(now.getTime() - days * 86_400_000);
  const project = await createRow(db.system, 'Project', undefined);
  const projectId = project.id as string;
  // Keeps everything while the rows go in, so a scheduled run in the middle of seeding can't
  // delete a notification before its receipt is inserted; the real settings come last.
  const keepAll = { eventsDays: 3650, notificationsDays: 3650, auditDays: 3650 };
  await db.system.project.update({ where: { id: projectId }, data: { settings: { retention: keepAll } } });
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
  await db.system.project.update({
    where: { id: projectId },
    data: { settings: { retention: RETENTION_SETTINGS } },
  });
  return { projectId, userId: user.id as string };
}

/** Rows of each kind the project holds now. */
export async function retainedCounts(db: Db, projectId: string) {
  const scoped = db.forProject(projectId);
  return {
    events: await scoped.event.count(),
    notifications: await scoped.notification.count(),
    receipts: await scoped.notificationReceipt.count(),
    auditLogs: await scoped.auditLog.count(),
  };
}
