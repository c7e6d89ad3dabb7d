// How far behind the asynchronous work is: each BullMQ queue's job counts and, per project
// stream, what the consumer group has not finished. Read by GET /api/v1/status, and sampled
// into the queue-depth and stream-lag gauges every few seconds in the worker role, with the
// providers marked unhealthy (the values live in Redis, so any worker process reports the same
// cluster-wide numbers).
import { Queue } from 'bullmq';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import { QUEUE_NAMES } from '../core/queues.js';
import type { DomainDeps } from '../domain/deps.js';
import { CONSUMER_GROUP, toRecord } from './consumer.js';
import { createHealthReader } from './push/health.js';

export const SAMPLE_EVERY_MS = 5_000;

export interface QueueCounts {
  name: string;
  waiting: number;
  prioritized: number;
  delayed: number;
  active: number;
  failed: number;
  completed: number;
}

export interface StreamLag {
  projectId: string;
  /** Entries not yet delivered to any consumer. */
  lag: number;
  /** Entries delivered but not acknowledged (in hand, or held by a dead consumer until claimed). */
  pending: number;
}

type BacklogDeps = Pick<DomainDeps, 'redis' | 'keys'>;

/** One Queue per queue name on the shared connection (no new sockets), only to count jobs. */
export function openQueues(deps: BacklogDeps): Queue[] {
  return Object.values(QUEUE_NAMES).map(
    (name) => new Queue(name, { connection: deps.redis, prefix: deps.keys.bullPrefix }),
  );
}

export function queueCounts(queues: readonly Queue[]): Promise<QueueCounts[]> {
  return Promise.all(
    queues.map(async (queue) => {
      const counts = await queue.getJobCounts(
        'waiting',
        'prioritized',
        'delayed',
        'active',
        'failed',
        'completed',
      );
      return {
        name: queue.name,
        waiting: counts.waiting ?? 0,
        prioritized: counts.prioritized ?? 0,
        delayed: counts.delayed ?? 0,
        active: counts.active ?? 0,
        failed: counts.failed ?? 0,
        completed: counts.completed ?? 0,
      };
    }),
  );
}

/** Every registered project stream (the set ingest adds to), in one round trip. */
export async function streamLags(deps: BacklogDeps): Promise<StreamLag[]> {
  const { redis, keys } = deps;
  const projectIds = await redis.smembers(keys.activeStreams());
  if (projectIds.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const id of projectIds) pipeline.xlen(keys.projectStream(id)).xinfo('GROUPS', keys.projectStream(id));
  const replies = (await pipeline.exec()) ?? [];
  return projectIds.map((projectId, i) => {
    const [, length] = replies[2 * i] ?? [];
    const [missing, groups] = replies[2 * i + 1] ?? [];
    const entries = Number(length ?? 0);
    const group = missing
      ? undefined // no stream yet
      : (groups as Array<Array<string | number>>).map(toRecord).find((g) => g.name === CONSUMER_GROUP);
    if (!group) return { projectId, lag: entries, pending: 0 }; // no consumer has read it yet
    const pending = Number(group.pending);
    // Redis cannot always tell the lag (after deletions inside the stream): the entries not in
    // hand are then an upper bound.
    const lag = group.lag == null ? Math.max(0, entries - pending) : Number(group.lag);
    return { projectId, lag, pending };
  });
}

/** Samples the queue-depth, stream-lag and unhealthy-provider gauges now and every `intervalMs`. */
export function startBacklogGauges(
  deps: BacklogDeps & {
    metrics: Pick<Metrics, 'queueDepth' | 'streamLag' | 'providerUnhealthy'>;
    log: Logger;
  },
  options = { intervalMs: SAMPLE_EVERY_MS },
): { close(): Promise<void> } {
  const { metrics } = deps;
  const queues = openQueues(deps);
  const health = createHealthReader(deps);
  let busy = false;
  const sample = async () => {
    const [counts, lags, unhealthy] = await Promise.all([
      queueCounts(queues),
      streamLags(deps),
      health.unhealthyEverywhere(),
    ]);
    // Reset before setting: a stream that left the registry leaves the gauge too.
    metrics.queueDepth.reset();
    for (const c of counts) metrics.queueDepth.set({ queue: c.name }, c.waiting + c.prioritized + c.delayed);
    metrics.streamLag.reset();
    for (const s of lags) metrics.streamLag.set({ project: s.projectId }, s.lag + s.pending);
    metrics.providerUnhealthy.reset();
    for (const u of unhealthy)
      metrics.providerUnhealthy.set({ project: u.projectId, provider: u.provider }, 1);
  };
  const tick = () => {
    if (busy) return; // a slow Redis must not stack samples
    busy = true;
    sample()
      .catch((err: unknown) => deps.log.warn({ err: (err as Error).message }, 'Backlog gauges not sampled'))
      .finally(() => (busy = false));
  };
  tick();
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return {
    async close() {
      clearInterval(timer);
      // The shared connection stays open: the process's closers release it.
      await Promise.all(queues.map((queue) => queue.close()));
    },
  };
}
