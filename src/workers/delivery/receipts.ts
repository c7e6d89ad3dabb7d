// Receipt bookkeeping for the delivery chain: every attempt is counted with its last error;
// delivery is recorded once (the first channel that reached the person wins).
import type { ProjectDb } from '../../core/db.js';
import type { Metrics } from '../../core/metrics.js';

type Channel = 'gateway' | 'pusher' | 'fcm' | 'apns';

/**
 * Counts recipients reached over `channel` and observes, for each, the time since ingest
 * accepted the event (`receivedAt`; null for digests, which summarise many events: not timed).
 */
export function countDelivered(
  metrics: Pick<Metrics, 'notifications' | 'deliveryLatency'>,
  projectId: string,
  channel: Channel,
  receivedAt: ReadonlyArray<Date | null>,
) {
  if (!receivedAt.length) return;
  metrics.notifications.inc({ project: projectId, channel, outcome: 'delivered' }, receivedAt.length);
  const now = Date.now();
  for (const at of receivedAt) {
    if (at) metrics.deliveryLatency.observe({ project: projectId, channel }, (now - at.getTime()) / 1000);
  }
}

export async function markDelivered(
  db: ProjectDb,
  notificationId: string,
  userIds: string[],
  channel: Channel,
) {
  if (!userIds.length) return;
  await db.notificationReceipt.updateMany({
    where: { notificationId, userId: { in: userIds }, deliveredAt: null },
    data: { deliveredAt: new Date(), channel, attempts: { increment: 1 }, lastError: null },
  });
}

export async function recordAttempt(
  db: ProjectDb,
  notificationId: string,
  userId: string,
  error: string,
  failed = false,
) {
  await db.notificationReceipt.updateMany({
    where: { notificationId, userId },
    data: {
      attempts: { increment: 1 },
      lastError: error.slice(0, 1000),
      ...(failed ? { failedAt: new Date() } : {}),
    },
  });
}
