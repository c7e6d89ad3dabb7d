// One recipient's push: their devices over FCM/APNs. Devices already reached for this
// notification are remembered in Redis, so a job retried after a partial batch never sends
// twice; invalid tokens are removed at once; transient failures retry with backoff.
import type { DomainDeps } from '../../domain/deps.js';
import type { DeliveryProviders } from '../push/providers.js';
import { loadDeliveries, pushInputs } from './content.js';
import type { PushJob } from './queue.js';
import { countDelivered, recordAttempt } from './receipts.js';

export interface PushDeps extends DomainDeps {
  providers: Pick<DeliveryProviders, 'sendToDevices'>;
}

/** Thrown to make BullMQ retry the job with backoff. */
export class RetryablePushError extends Error {}

const SENT_TTL_SECONDS = 7 * 86_400;

export async function pushToDevices(deps: PushDeps, job: PushJob): Promise<void> {
  const { projectId, notificationId, userId } = job;
  const db = deps.db.forProject(projectId);
  const deliveries = await loadDeliveries(deps, projectId, notificationId, [userId]);
  if (!deliveries.size) return; // hidden or gone: nothing to push
  const devices = await db.device.findMany({
    where: { userId },
    select: { id: true, token: true, platform: true },
  });
  if (!devices.length) {
    deps.metrics.notifications.inc({ project: projectId, channel: 'push', outcome: 'no_devices' });
    await recordAttempt(
      db,
      notificationId,
      userId,
      'no devices registered',
      !deliveries.get(userId)!.deliveredAt,
    );
    return;
  }
  const sentKey = deps.keys.projectKey(projectId, 'push-sent', notificationId, userId);
  const alreadySent = new Set(await deps.redis.smembers(sentKey));
  const targets = devices.filter((d) => !alreadySent.has(d.id));
  if (!targets.length) return;

  const input = (await pushInputs(deps, projectId, deliveries)).get(userId)!;
  const results = await deps.providers.sendToDevices(projectId, targets, input);
  const errors: string[] = [];
  let retry = false;
  for (const [i, result] of results.entries()) {
    const device = targets[i]!;
    const channel = device.platform === 'ios' ? 'apns' : 'fcm';
    if (result.outcome === 'delivered') {
      countDelivered(deps.metrics, projectId, channel, [deliveries.get(userId)!.receivedAt]);
      await deps.redis.multi().sadd(sentKey, device.id).expire(sentKey, SENT_TTL_SECONDS).exec();
      await markPushed(deps, projectId, notificationId, userId, channel);
    } else {
      deps.metrics.notifications.inc({ project: projectId, channel, outcome: result.outcome });
      errors.push(`${channel}: ${result.error ?? result.outcome}`);
      if (result.outcome === 'invalid_token') await db.device.deleteMany({ where: { id: device.id } });
      if (result.outcome === 'retry') retry = true;
    }
  }
  if (errors.length) await recordAttempt(db, notificationId, userId, errors.join('; '));
  if (retry) throw new RetryablePushError(errors.join('; '));
}

/** The receipt names the push channel; its first delivery time is kept. */
async function markPushed(
  deps: DomainDeps,
  projectId: string,
  notificationId: string,
  userId: string,
  channel: 'fcm' | 'apns',
) {
  const receipts = deps.db.forProject(projectId).notificationReceipt;
  const where = { notificationId, userId };
  const attempts = { increment: 1 };
  const first = await receipts.updateMany({
    where: { ...where, deliveredAt: null },
    data: { deliveredAt: new Date(), channel, attempts },
  });
  if (first.count === 0) await receipts.updateMany({ where, data: { channel, attempts } });
}
