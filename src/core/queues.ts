// BullMQ queue names and connection settings, shared by producers (api) and workers.
import { Queue, type ConnectionOptions, type Worker } from 'bullmq';
import type { Logger } from './log.js';
import { redisOptions } from './redis.js';

export const QUEUE_NAMES = {
  delivery: 'notification-delivery',
  push: 'push-notification',
  digests: 'suppression-digest',
  buckets: 'bucket-monitor',
  webhooks: 'webhooks',
  retention: 'retention',
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

/** BullMQ's blocking workers require `maxRetriesPerRequest: null`. */
export function bullConnection(redisUrl: string): ConnectionOptions {
  // bullmq types its own option shape; ioredis options are what it passes through.
  return redisOptions(redisUrl, { maxRetriesPerRequest: null }) as ConnectionOptions;
}

export function createQueue(name: QueueName, options: { redisUrl: string; prefix: string }): Queue {
  return new Queue(name, { connection: bullConnection(options.redisUrl), prefix: options.prefix });
}

/** Logs a worker's failed jobs and errors and a queue's errors, as "<label> job failed" etc. */
export function logQueueEvents(log: Logger, label: string, parts: { worker?: Worker; queue?: Queue }): void {
  parts.worker?.on('failed', (job, err) => log.warn({ err, jobId: job?.id }, `${label} job failed`));
  parts.worker?.on('error', (err) => log.warn({ err: err.message }, `${label} worker error`));
  parts.queue?.on('error', (err) => log.warn({ err: err.message }, `${label} queue error`));
}
