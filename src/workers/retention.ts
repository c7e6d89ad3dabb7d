// The scheduled retention job: every RETENTION_INTERVAL_MS, `applyRetentionToAll` deletes what
// each project's retention settings no longer keep. Every worker process upserts the same BullMQ
// job scheduler, so the cluster runs one job per interval whatever the number of workers (a
// timer per process would run it once per process). The first run comes one interval after the
// scheduler is created, so deploying or restarting never starts with a burst of deletes;
// `tocsin retention` runs it at once. Deletes are idempotent: a run cut short (a shutdown stops it
// after the current batch, or a failure) leaves the rest to the next one.
import { Worker, type Queue } from 'bullmq';
import type { Logger } from '../core/log.js';
import { bullConnection, createQueue, logQueueEvents, QUEUE_NAMES } from '../core/queues.js';
import type { DomainDeps } from '../domain/deps.js';
import { applyRetentionToAll, type RetentionReport } from '../domain/retention.js';

/** One id for the whole cluster: upserting it again only changes its interval. */
export const RETENTION_SCHEDULER_ID = 'retention';

export interface RetentionSummary {
  projects: number;
  receipts: number;
  notifications: number;
  events: number;
  auditLogs: number;
}

function summarize(reports: readonly RetentionReport[]): RetentionSummary {
  const summary = { projects: reports.length, receipts: 0, notifications: 0, events: 0, auditLogs: 0 };
  for (const report of reports) {
    summary.receipts += report.receipts;
    summary.notifications += report.notifications;
    summary.events += report.events;
    summary.auditLogs += report.auditLogs;
  }
  return summary;
}

/**
 * Creates the scheduler, or changes its interval. An unchanged one is left alone: upserting it
 * again would move its next run one interval later, so workers restarted more often than the
 * interval would never let it run.
 */
async function schedule(queue: Queue, intervalMs: number): Promise<void> {
  const existing = await queue.getJobScheduler(RETENTION_SCHEDULER_ID);
  if (existing && Number(existing.every) === intervalMs) return;
  await queue.upsertJobScheduler(
    RETENTION_SCHEDULER_ID,
    { every: intervalMs, startDate: Date.now() + intervalMs },
    { name: 'apply', opts: { removeOnComplete: 30, removeOnFail: 30 } },
  );
}

export function startRetentionJob(
  deps: Pick<DomainDeps, 'db' | 'redis' | 'keys' | 'projects'> & { log: Logger },
  options: { redisUrl: string; prefix: string; intervalMs: number },
): { scheduled: Promise<void>; close(): Promise<void> } {
  const queue = createQueue(QUEUE_NAMES.retention, options);
  // Closing stops a run after its current batch, so a shutdown never waits on a long run.
  const stopping = new AbortController();
  const worker = new Worker(
    QUEUE_NAMES.retention,
    async (): Promise<RetentionSummary> => {
      const summary = summarize(await applyRetentionToAll(deps, { signal: stopping.signal }));
      deps.log.info(summary, 'Retention run finished');
      return summary; // kept with the completed job, for operators looking at the queue
    },
    { connection: bullConnection(options.redisUrl), prefix: options.prefix },
  );
  logQueueEvents(deps.log, 'Retention', { worker, queue });

  // While Redis is away this waits for it (no retry limit on this connection).
  const scheduled = schedule(queue, options.intervalMs).catch((err: unknown) =>
    deps.log.error({ err: (err as Error).message }, 'Retention job not scheduled'),
  );

  return {
    scheduled,
    async close() {
      // The scheduler stays: it belongs to the cluster, not to this process.
      stopping.abort();
      await worker.close();
      await queue.close();
    },
  };
}
