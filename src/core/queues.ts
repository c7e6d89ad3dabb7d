// BullMQ queue names and connection settings, shared by producers (api) and workers.
import { Queue, type ConnectionOptions } from 'bullmq';
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
