// The delivery queues' contract: job names, data and options. Producers (the consumer, the
// digest worker, the ack-timeout check) only enqueue; the workers in ./index.ts process.
import type { JobsOptions, Queue } from 'bullmq';

/** `notification-delivery`: walk the fallback chain for these recipients of one notification. */
export interface DeliverJob {
  projectId: string;
  notificationId: string;
  userIds: string[];
}

/** `notification-delivery`, delayed by ackTimeoutMs: push to those who did not acknowledge. */
export interface AckTimeoutJob {
  projectId: string;
  notificationId: string;
  userIds: string[];
}

/** `push-notification`: one recipient's devices. */
export interface PushJob {
  projectId: string;
  notificationId: string;
  userId: string;
}

// BullMQ job ids may not contain ":".
export const JOB = { deliver: 'deliver', ackTimeout: 'ack-timeout', push: 'push' } as const;

const retrying = (attempts: number): JobsOptions => ({
  attempts,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: 1_000,
  removeOnFail: 5_000,
});

export function enqueueDelivery(queue: Queue, job: DeliverJob, attempts: number) {
  // The job id makes a redispatched notification (a redelivered event) one job while it waits.
  return queue.add(JOB.deliver, job, { ...retrying(attempts), jobId: `deliver-${job.notificationId}` });
}

export function enqueueAckTimeout(queue: Queue, job: AckTimeoutJob, delayMs: number) {
  return queue.add(JOB.ackTimeout, job, {
    ...retrying(3),
    delay: delayMs,
    jobId: `ack-timeout-${job.notificationId}-${job.userIds.length === 1 ? job.userIds[0] : 'batch'}`,
  });
}

export function enqueuePush(queue: Queue, job: PushJob, attempts: number) {
  return queue.add(JOB.push, job, {
    ...retrying(attempts),
    jobId: `push-${job.notificationId}-${job.userId}`,
  });
}
