// The fallback chain for one notification's recipients (docs/architecture.md §3): Tocsin's gateway
// for those online → hosted Pusher when the project has it → FCM/APNs to their devices. Those
// reached live get a delayed ack check: no acknowledgement within ackTimeoutMs → push.
import type { Queue } from 'bullmq';
import type { GatewayApi } from '../../realtime/api.js';
import { userChannel } from '../../core/pusher/protocol.js';
import type { DomainDeps } from '../../domain/deps.js';
import { keepForReplay } from '../../domain/replay.js';
import type { DeliveryProviders } from '../push/providers.js';
import { loadDeliveries, NOTIFICATION_EVENT } from './content.js';
import { enqueueAckTimeout, enqueuePush, type AckTimeoutJob, type DeliverJob } from './queue.js';
import { countDelivered, markDelivered, recordAttempt } from './receipts.js';

export interface ChainDeps extends DomainDeps {
  gateway: Pick<GatewayApi, 'onlineAmong' | 'deliverToUsers'>;
  providers: Pick<DeliveryProviders, 'triggerPusher'>;
  deliveryQueue: Queue;
  pushQueue: Queue;
}

const projectSettings = async (deps: DomainDeps, projectId: string) =>
  (await deps.projects.settings(projectId)).delivery;

async function pushTo(deps: ChainDeps, job: DeliverJob, userIds: string[], maxAttempts: number) {
  await Promise.all(
    userIds.map((userId) =>
      enqueuePush(
        deps.pushQueue,
        { projectId: job.projectId, notificationId: job.notificationId, userId },
        maxAttempts,
      ),
    ),
  );
}

export async function deliverNotification(deps: ChainDeps, job: DeliverJob): Promise<void> {
  const { projectId, notificationId } = job;
  const settings = await projectSettings(deps, projectId);
  const db = deps.db.forProject(projectId);
  const deliveries = await loadDeliveries(deps, projectId, notificationId, job.userIds);
  // A retried job skips those already reached.
  const pending = [...deliveries].filter(([, d]) => !d.deliveredAt).map(([userId]) => userId);
  if (!pending.length) return;
  // Kept before anyone is looked up online: a subscription racing this either is seen online
  // below or finds the notification in its replay.
  await keepForReplay(
    deps,
    projectId,
    pending.map((userId) => ({ userId, ...deliveries.get(userId)! })).filter((d) => !d.acknowledgedAt),
  );

  const live: string[] = [];
  const receivedAt = (userIds: string[]) => userIds.map((userId) => deliveries.get(userId)!.receivedAt);
  let rest = pending;
  if (settings.useGateway) {
    const online = await deps.gateway.onlineAmong(projectId, rest);
    const reached = rest.filter((userId) => online.has(userId));
    await deps.gateway.deliverToUsers(
      projectId,
      NOTIFICATION_EVENT,
      reached.map((userId) => ({ userId, data: JSON.stringify(deliveries.get(userId)!.item) })),
    );
    await markDelivered(db, notificationId, reached, 'gateway');
    countDelivered(deps.metrics, projectId, 'gateway', receivedAt(reached));
    live.push(...reached);
    rest = rest.filter((userId) => !reached.includes(userId));
  }

  if (rest.length && settings.usePusher) {
    const results = await deps.providers.triggerPusher(
      projectId,
      rest.map((userId) => ({
        id: userId,
        channel: userChannel(userId),
        name: NOTIFICATION_EVENT,
        data: deliveries.get(userId)!.item,
      })),
    );
    const reached = results.filter((r) => r.outcome === 'delivered').map((r) => r.id);
    await markDelivered(db, notificationId, reached, 'pusher');
    countDelivered(deps.metrics, projectId, 'pusher', receivedAt(reached));
    // Counted like push failures, so one alert on the outcomes covers every provider.
    for (const { outcome } of results.filter((r) => r.outcome !== 'delivered'))
      deps.metrics.notifications.inc({ project: projectId, channel: 'pusher', outcome });
    live.push(...reached);
    rest = rest.filter((userId) => !reached.includes(userId));
  }

  if (settings.usePush) {
    await pushTo(deps, job, rest, settings.maxAttempts);
    if (live.length && settings.ackTimeoutMs > 0) {
      await enqueueAckTimeout(
        deps.deliveryQueue,
        { projectId, notificationId, userIds: live },
        settings.ackTimeoutMs,
      );
    }
  } else {
    await Promise.all(
      rest.map((userId) => recordAttempt(db, notificationId, userId, 'no delivery channel available', true)),
    );
    deps.metrics.notifications.inc(
      { project: projectId, channel: 'none', outcome: 'undeliverable' },
      rest.length,
    );
  }
}

/** Escalates to push for live recipients who have not acknowledged. */
export async function checkAcknowledged(deps: ChainDeps, job: AckTimeoutJob): Promise<void> {
  const settings = await projectSettings(deps, job.projectId);
  const deliveries = await loadDeliveries(deps, job.projectId, job.notificationId, job.userIds);
  const unacknowledged = [...deliveries].filter(([, d]) => !d.acknowledgedAt).map(([userId]) => userId);
  if (unacknowledged.length) {
    deps.log.info(
      { notificationId: job.notificationId, users: unacknowledged.length },
      'Not acknowledged in time: pushing',
    );
    await pushTo(deps, { ...job, userIds: unacknowledged }, unacknowledged, settings.maxAttempts);
  }
}
