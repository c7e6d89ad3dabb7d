// What the gateway does for people's notifications: replay on subscription (a client that was
// offline, or whose node died, gets what it has not acknowledged, oldest first, bounded) and
// acknowledgements sent over the socket (`tocsin:ack` with `{ id }`).
import { UUID_PATTERN } from '../core/ids.js';
import type { DomainDeps } from '../domain/deps.js';
import { acknowledgeNotification, inboxItem, withNotification } from '../domain/notifications.js';
import type { GatewayHooks } from './hooks.js';

export const ACK_EVENT = 'tocsin:ack';
export const REPLAY_LIMIT = 100;
export const REPLAY_WINDOW_MS = 7 * 86_400_000;

export function notificationHooks(
  deps: DomainDeps,
): Required<Pick<GatewayHooks, 'userChannelSubscribed' | 'customEvent'>> {
  return {
    async userChannelSubscribed(projectId, userId) {
      const receipts = deps.db.forProject(projectId).notificationReceipt;
      const rows = await receipts.findMany({
        where: {
          userId,
          acknowledgedAt: null,
          hiddenAt: null,
          createdAt: { gte: new Date(Date.now() - REPLAY_WINDOW_MS) },
        },
        include: withNotification,
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: REPLAY_LIMIT,
      });
      const undelivered = rows.filter((r) => !r.deliveredAt).map((r) => r.id);
      if (undelivered.length) {
        const { count } = await receipts.updateMany({
          where: { id: { in: undelivered }, deliveredAt: null },
          data: { deliveredAt: new Date(), channel: 'gateway' },
        });
        // Not timed: the latency of a replay is how long the person was away.
        deps.metrics.notifications.inc(
          { project: projectId, channel: 'gateway', outcome: 'replayed' },
          count,
        );
      }
      return Promise.all(
        rows.map(async (row) => ({
          event: 'notification',
          data: JSON.stringify(await inboxItem(deps, row)),
        })),
      );
    },
    customEvent(projectId, _socketId, userId, event, data) {
      const id = (data as { id?: unknown } | null)?.id;
      if (event !== ACK_EVENT || !userId || typeof id !== 'string' || !UUID_PATTERN.test(id)) return false;
      acknowledgeNotification(deps, projectId, userId, id).catch((err: unknown) =>
        deps.log.debug({ err: (err as Error).message }, 'Acknowledgement over the socket refused'),
      );
      return true;
    },
  };
}
