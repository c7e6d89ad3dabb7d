// What a delivery sends: the notification as its recipient sees it (the inbox item), and the
// push fields derived from it.
import { deliverableWhere } from '../../domain/alerting/alerts.js';
import type { DomainDeps } from '../../domain/deps.js';
import { inboxItem, withNotification, type InboxItem } from '../../domain/notifications.js';
import { unreadCounts } from '../../domain/unread.js';
import type { PushInput } from '../push/payload.js';

/** The live event name on `private-user-{id}` (gateway and hosted Pusher alike). */
export const NOTIFICATION_EVENT = 'notification';

/** The recipients' receipts of one notification, with the notification, keyed by user. */
export async function loadDeliveries(
  deps: DomainDeps,
  projectId: string,
  notificationId: string,
  userIds: string[],
) {
  const rows = await deps.db.forProject(projectId).notificationReceipt.findMany({
    where: { notificationId, userId: { in: userIds }, hiddenAt: null, ...deliverableWhere },
    include: {
      ...withNotification,
      notification: {
        include: {
          ...withNotification.notification.include,
          event: { select: { type: true, receivedAt: true } },
        },
      },
    },
  });
  const items = new Map<
    string,
    {
      item: InboxItem;
      /** The sound's file, for a replay to sign its URL again. */
      soundKey: string | undefined;
      eventType: string | null;
      /** When ingest accepted the event (none for digests): the start of the delivery latency. */
      receivedAt: Date | null;
      deliveredAt: Date | null;
      acknowledgedAt: Date | null;
    }
  >();
  for (const row of rows) {
    items.set(row.userId, {
      item: await inboxItem(deps, row),
      soundKey: row.notification.sound?.storageKey,
      eventType: row.notification.event?.type ?? null,
      receivedAt: row.notification.event?.receivedAt ?? null,
      deliveredAt: row.deliveredAt,
      acknowledgedAt: row.acknowledgedAt,
    });
  }
  return items;
}

export async function pushInputs(
  deps: DomainDeps,
  projectId: string,
  deliveries: Map<string, { item: InboxItem; eventType: string | null }>,
): Promise<Map<string, PushInput>> {
  const userIds = [...deliveries.keys()];
  const badges = await unreadCounts(deps, projectId, userIds);
  const inputs = new Map<string, PushInput>();
  for (const userId of userIds) {
    const { item, eventType } = deliveries.get(userId)!;
    inputs.set(userId, {
      notificationId: item.id,
      projectId,
      ruleId: item.ruleId,
      eventType,
      title: item.title,
      body: item.body,
      sound: item.sound ? { fileName: item.sound.fileName, url: item.sound.url } : null,
      badge: badges.get(userId) ?? 0,
      priority: item.priority,
    });
  }
  return inputs;
}
