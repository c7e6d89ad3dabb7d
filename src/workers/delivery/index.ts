// The delivery workers: `notification-delivery` (the fallback chain and ack checks) and
// `push-notification` (devices). Job data always carries the project id.
import { Queue, Worker, type Job } from 'bullmq';
import { bullConnection, QUEUE_NAMES } from '../../core/queues.js';
import type { DomainDeps } from '../../domain/deps.js';
import type { DeliveryProviders } from '../push/providers.js';
import { checkAcknowledged, deliverNotification, type ChainDeps } from './chain.js';
import { pushToDevices } from './push.js';
import { enqueueDelivery, JOB, type AckTimeoutJob, type DeliverJob, type PushJob } from './queue.js';
import type { Dispatch } from '../notifications.js';
import { recordAttempt } from './receipts.js';

export interface DeliveryQueues {
  delivery: Queue;
  push: Queue;
  close(): Promise<void>;
}

export function createDeliveryQueues(deps: Pick<DomainDeps, 'config' | 'keys' | 'log'>): DeliveryQueues {
  const options = { connection: bullConnection(deps.config.redis.url), prefix: deps.keys.bullPrefix };
  const delivery = new Queue(QUEUE_NAMES.delivery, options);
  const push = new Queue(QUEUE_NAMES.push, options);
  for (const queue of [delivery, push])
    queue.on('error', (err) => deps.log.warn({ err: err.message }, 'Queue error'));
  return {
    delivery,
    push,
    close: async () => void (await Promise.all([delivery.close(), push.close()])),
  };
}

/** The pipeline's hand-over: one `deliver` job per committed notification. */
export function deliveryDispatch(deps: Pick<DomainDeps, 'projects'>, queue: Queue): Dispatch {
  return async (projectId, notifications) => {
    const { maxAttempts } = (await deps.projects.settings(projectId)).delivery;
    await Promise.all(
      notifications.map((n) =>
        enqueueDelivery(
          queue,
          { projectId, notificationId: n.notificationId, userIds: n.userIds },
          maxAttempts,
        ),
      ),
    );
  };
}

export interface DeliveryWorkers {
  close(): Promise<void>;
}

export function startDeliveryWorkers(
  deps: DomainDeps,
  parts: { queues: DeliveryQueues; gateway: ChainDeps['gateway']; providers: DeliveryProviders },
  options: { concurrency?: number } = {},
): DeliveryWorkers {
  const connection = bullConnection(deps.config.redis.url);
  const prefix = deps.keys.bullPrefix;
  const chain: ChainDeps = {
    ...deps,
    gateway: parts.gateway,
    providers: parts.providers,
    deliveryQueue: parts.queues.delivery,
    pushQueue: parts.queues.push,
  };
  const delivery = new Worker(
    QUEUE_NAMES.delivery,
    async (job: Job) =>
      job.name === JOB.ackTimeout
        ? checkAcknowledged(chain, job.data as AckTimeoutJob)
        : deliverNotification(chain, job.data as DeliverJob),
    { connection, prefix, concurrency: options.concurrency ?? 8 },
  );
  const pushDeps = { ...deps, providers: parts.providers };
  const push = new Worker(QUEUE_NAMES.push, async (job: Job<PushJob>) => pushToDevices(pushDeps, job.data), {
    connection,
    prefix,
    concurrency: options.concurrency ?? 8,
  });
  push.on('failed', (job, err) => {
    // Out of attempts: the receipt says the push failed for good.
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
      const { projectId, notificationId, userId } = job.data;
      void recordAttempt(
        deps.db.forProject(projectId),
        notificationId,
        userId,
        `gave up: ${err.message}`,
        true,
      ).catch((e: unknown) => deps.log.error({ err: e }, 'Could not record a failed push'));
    }
  });
  for (const worker of [delivery, push]) {
    worker.on('error', (err) => deps.log.warn({ err: err.message }, 'Delivery worker error'));
  }
  return {
    // Worker.close() waits for the jobs in hand.
    close: async () => void (await Promise.all([delivery.close(), push.close()])),
  };
}
