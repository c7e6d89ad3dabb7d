// Retention: deletes a project's events, notifications (with their receipts) and audit rows
// older than its retention settings. Deletes go in small batches by primary key so no
// statement holds long locks; a dry run only counts. The unread counters of users who lost
// receipts are dropped (they are rebuilt from MySQL on their next read).
import type { ProjectDb } from '../core/db.js';
import type { DomainDeps } from './deps.js';
import { forgetReplay } from './replay.js';
import { dropUnreadCounters } from './unread.js';

export const RETENTION_BATCH = 500;

export interface RetentionReport {
  projectId: string;
  dryRun: boolean;
  receipts: number;
  notifications: number;
  events: number;
  auditLogs: number;
}

type Table = 'notificationReceipt' | 'notification' | 'event' | 'auditLog';

type Deleted = { id: string; userId?: string; notificationId?: string };

interface Target {
  table: Table;
  report: keyof Omit<RetentionReport, 'projectId' | 'dryRun'>;
  where: Record<string, unknown>;
  /** Columns read besides the id, for `afterBatch`. */
  select?: { userId: true; notificationId: true };
  /** Runs after each deleted batch, with its rows. */
  afterBatch?: (rows: Deleted[]) => Promise<void>;
}

const daysAgo = (days: number, now: Date) => new Date(now.getTime() - days * 86_400_000);

/** Deletes the target's rows in batches of ids; returns how many went. */
async function deleteInBatches(
  db: ProjectDb,
  target: Target,
  batch: number,
  signal: AbortSignal | undefined,
): Promise<number> {
  // One delegate type for the four tables: they share the calls used here.
  const delegate = db[target.table] as unknown as {
    findMany(args: unknown): Promise<Deleted[]>;
    deleteMany(args: unknown): Promise<{ count: number }>;
  };
  let deleted = 0;
  // Stopping between batches leaves nothing half done: the next run deletes the rest.
  while (!signal?.aborted) {
    const rows = await delegate.findMany({
      where: target.where,
      select: { id: true, ...target.select },
      take: batch,
      orderBy: { id: 'asc' },
    });
    if (!rows.length) return deleted;
    const { count } = await delegate.deleteMany({ where: { id: { in: rows.map((r) => r.id) } } });
    deleted += count;
    await target.afterBatch?.(rows);
    if (rows.length < batch) return deleted;
  }
  return deleted;
}

async function countRows(db: ProjectDb, table: Table, where: Record<string, unknown>): Promise<number> {
  return (db[table] as unknown as { count(args: unknown): Promise<number> }).count({ where });
}

export async function applyRetention(
  deps: Pick<DomainDeps, 'db' | 'log' | 'redis' | 'keys' | 'projects'>,
  projectId: string,
  options: {
    dryRun?: boolean;
    now?: Date;
    batch?: number;
    onProgress?: (line: string) => void;
    /** Aborted (a shutdown): stop after the current batch. */
    signal?: AbortSignal;
  } = {},
): Promise<RetentionReport> {
  const now = options.now ?? new Date();
  const db = deps.db.forProject(projectId);
  const { retention } = await deps.projects.settings(projectId);
  const notificationsBefore = daysAgo(retention.notificationsDays, now);
  // Receipts first (children), so deleting their notifications cascades over nothing large.
  const targets: Target[] = [
    {
      table: 'notificationReceipt',
      report: 'receipts',
      where: { notification: { createdAt: { lt: notificationsBefore } } },
      select: { userId: true, notificationId: true },
      afterBatch: async (rows) => {
        await dropUnreadCounters(
          deps,
          projectId,
          rows.map((r) => r.userId!),
        );
        await forgetReplay(
          deps,
          projectId,
          rows.map((r) => ({ userId: r.userId!, notificationId: r.notificationId! })),
        );
      },
    },
    { table: 'notification', report: 'notifications', where: { createdAt: { lt: notificationsBefore } } },
    { table: 'event', report: 'events', where: { receivedAt: { lt: daysAgo(retention.eventsDays, now) } } },
    {
      table: 'auditLog',
      report: 'auditLogs',
      where: { createdAt: { lt: daysAgo(retention.auditDays, now) } },
    },
  ];
  const report: RetentionReport = {
    projectId,
    dryRun: Boolean(options.dryRun),
    receipts: 0,
    notifications: 0,
    events: 0,
    auditLogs: 0,
  };
  for (const target of targets) {
    report[target.report] = options.dryRun
      ? await countRows(db, target.table, target.where)
      : await deleteInBatches(db, target, options.batch ?? RETENTION_BATCH, options.signal);
    options.onProgress?.(
      `${projectId}: ${options.dryRun ? 'would delete' : 'deleted'} ${report[target.report]} ${target.report}`,
    );
  }
  deps.log.info(report, 'Retention applied');
  return report;
}

/** Every live project, one after the other (the job runs off-peak; one project at a time keeps load flat). */
export async function applyRetentionToAll(
  deps: Parameters<typeof applyRetention>[0],
  options: Parameters<typeof applyRetention>[2] = {},
): Promise<RetentionReport[]> {
  const projects = await deps.db.system.project.findMany({
    where: { deletedAt: null },
    select: { id: true },
  });
  const reports: RetentionReport[] = [];
  for (const { id } of projects) {
    if (options.signal?.aborted) break;
    reports.push(await applyRetention(deps, id, options));
  }
  return reports;
}
