// The worker role: the stream consumer, the receipt writer (gateway acks and replays), the
// replay rebuilds, the suppression digests, the bucket monitor, the retention job and the
// backlog gauges, started once the database is prepared. Closing stops
// reading, lets the batch and the jobs in hand finish, then releases the connections.
import { Queue } from 'bullmq';
import { bullConnection, logQueueEvents, QUEUE_NAMES } from '../core/queues.js';
import { createRedis } from '../core/redis.js';
import { createSuppression } from '../engine/suppression.js';
import { recordAlertEvents } from '../domain/alerting/alerts.js';
import type { DomainDeps } from '../domain/deps.js';
import { checkHeartbeats } from '../domain/heartbeats.js';
import { createRecipientIndex } from '../domain/recipients.js';
import { incrementUnread } from '../domain/unread.js';
import { startBacklogGauges } from './backlog.js';
import { startBucketMonitor, type BucketMonitor } from './buckets.js';
import { eventStreams, startConsumer, type Consumer, type ConsumerOptions } from './consumer.js';
import { createDigestScheduler, startDigestWorker } from './digests.js';
import { startEscalation, type Escalation } from './escalation.js';
import type { Dispatch } from './notifications.js';
import { recordFailure } from './failures.js';
import { processEntries, type PipelineDeps } from './pipeline.js';
import { createProjectRulesCache } from './project-rules.js';
import { startReceiptWriter } from './receipt-changes.js';
import { startReplayRebuilds } from './replay.js';
import { startRetentionJob } from './retention.js';
import { runEvery } from './every.js';

const REPLAY_REBUILD_INTERVAL_MS = 60_000;
/** A silent source is reported within this much of its deadline. */
const HEARTBEAT_CHECK_INTERVAL_MS = 15_000;

export interface Workers {
  consumer: Consumer;
  bucketMonitor: BucketMonitor;
  escalation: Escalation;
  close(): Promise<void>;
}

export interface WorkerOptions extends Partial<ConsumerOptions> {
  /**
   * Called with each batch of committed notifications (the composition root enqueues their
   * delivery jobs). A failure leaves the events unacknowledged, so they are handed over again.
   * Without it notifications are stored and not delivered (tests of the pipeline alone).
   */
  onDispatch?: Dispatch;
}

export function startWorkers(deps: DomainDeps, options: WorkerOptions = {}): Workers {
  const { config, log, redis, keys } = deps;
  const { onDispatch, ...overrides } = options;
  const dispatch: Dispatch = async (projectId, notifications) => {
    if (notifications.length) await onDispatch?.(projectId, notifications);
  };
  const bull = { redisUrl: config.redis.url, prefix: keys.bullPrefix };
  const reader = createRedis(config.redis.url, 'tocsin-consumer');
  reader.on('error', (err) => log.warn({ err: err.message }, 'Consumer Redis connection error'));
  const digestQueue = new Queue(QUEUE_NAMES.digests, {
    connection: bullConnection(bull.redisUrl),
    prefix: bull.prefix,
  });
  logQueueEvents(log, 'Digest', { queue: digestQueue });
  const suppression = createSuppression(deps);
  const recipients = createRecipientIndex(deps);
  // Counters heal from MySQL by themselves: a failed increment must not hold back the ack.
  const onReceipts = (projectId: string, userIds: string[]) =>
    incrementUnread(deps, projectId, userIds).catch((err: unknown) =>
      log.warn({ err: (err as Error).message, projectId }, 'Unread counters not incremented'),
    );
  const escalation = startEscalation({ ...deps, recipients, dispatch, onReceipts });
  const pipeline: PipelineDeps = {
    ...deps,
    alerts: {
      record: (projectId, matches) => recordAlertEvents(deps, projectId, matches),
      kick: () => escalation.kick(),
    },
    rules: createProjectRulesCache(deps),
    recipients,
    suppression,
    digests: createDigestScheduler(digestQueue),
    dispatch,
    onReceipts,
  };
  const consumer = startConsumer(
    {
      redis,
      reader,
      source: eventStreams(keys),
      log,
      processed: deps.metrics.eventsProcessed,
      process: (projectId, entries, options) => processEntries(pipeline, projectId, entries, options),
      recordFailure: (projectId, entry, failure) => recordFailure(deps, projectId, entry, failure),
      onSettled: (projectId, eventIds) => deps.bus.publish({ type: 'events.settled', projectId, eventIds }),
    },
    { maxAttempts: config.pipeline.maxAttempts, claimIdleMs: config.pipeline.claimIdleMs, ...overrides },
  );
  const digestWorker = startDigestWorker({ ...deps, suppression, recipients, dispatch, onReceipts }, bull);
  const bucketMonitor = startBucketMonitor(deps, {
    ...bull,
    intervalMs: config.pipeline.bucketMonitorIntervalMs,
  });
  const retention = startRetentionJob(deps, { ...bull, intervalMs: config.retention.intervalMs });
  const backlog = startBacklogGauges(deps);
  const receipts = startReceiptWriter(deps, overrides);
  const replays = startReplayRebuilds(deps, { intervalMs: REPLAY_REBUILD_INTERVAL_MS });
  const heartbeats = runEvery(
    HEARTBEAT_CHECK_INTERVAL_MS,
    async () => void (await checkHeartbeats(deps)),
    (err) => log.warn({ err: err.message }, 'Heartbeat check failed'),
  );
  return {
    consumer,
    bucketMonitor,
    escalation,
    async close() {
      await Promise.all([consumer.close(), receipts.close(), replays.close(), heartbeats.close()]);
      await escalation.close();
      await Promise.all([digestWorker.close(), bucketMonitor.close(), retention.close(), backlog.close()]);
      await digestQueue.close();
      await reader.quit().catch(() => reader.disconnect());
    },
  };
}
