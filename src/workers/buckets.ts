// The transfer-bucket monitor: a repeatable BullMQ job per project with buckets re-checks all of
// them every BUCKET_MONITOR_INTERVAL_MS (a backstop for crossings: balance and threshold changes
// are checked as they happen). Schedulers are upserted for projects found with buckets, on start
// and then once per interval, so a project's first bucket is monitored within one interval.
import { Queue, Worker, type Job } from 'bullmq';
import type { Logger } from '../core/log.js';
import { bullConnection, logQueueEvents, QUEUE_NAMES } from '../core/queues.js';
import { checkProjectBuckets } from '../domain/buckets.js';
import type { DomainDeps } from '../domain/deps.js';

export interface BucketMonitor {
  /** Upserts the schedulers of projects not seen yet (also run every interval). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export function startBucketMonitor(
  deps: Pick<DomainDeps, 'db' | 'redis' | 'keys' | 'metrics'> & { log: Logger },
  options: { redisUrl: string; prefix: string; intervalMs: number },
): BucketMonitor {
  const connection = bullConnection(options.redisUrl);
  const queue = new Queue(QUEUE_NAMES.buckets, { connection, prefix: options.prefix });
  const worker = new Worker(
    QUEUE_NAMES.buckets,
    (job: Job<{ projectId: string }>) => checkProjectBuckets(deps, job.data.projectId),
    { connection, prefix: options.prefix },
  );
  logQueueEvents(deps.log, 'Bucket monitor', { worker, queue });

  const scheduled = new Set<string>();
  const sync = async () => {
    const projects = await deps.db.system.transferBucket.findMany({
      distinct: ['projectId'],
      select: { projectId: true },
    });
    for (const { projectId } of projects.filter((p) => !scheduled.has(p.projectId))) {
      await queue.upsertJobScheduler(
        `bucket-monitor-${projectId}`,
        { every: options.intervalMs },
        { name: 'check', data: { projectId }, opts: { removeOnComplete: 100, removeOnFail: 1000 } },
      );
      scheduled.add(projectId);
    }
  };
  const run = () =>
    sync().catch((err: unknown) =>
      deps.log.warn({ err: (err as Error).message }, 'Bucket monitor sync failed'),
    );
  void run();
  const timer = setInterval(run, options.intervalMs);
  timer.unref();

  return {
    sync,
    async close() {
      clearInterval(timer);
      await worker.close();
      await queue.close();
    },
  };
}
