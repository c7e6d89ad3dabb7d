// What the gateway does for people's notifications: replay on subscription (a client that was
// offline, or whose node died, gets what it has not acknowledged, oldest first, bounded; past the
// bound it is told to read the rest from its inbox) and acknowledgements sent over the socket
// (`tocsin:ack` with `{ id }`).
import { AppError } from '../core/errors.js';
import { UUID_PATTERN } from '../core/ids.js';
import { deliverableWhere } from '../domain/alerting/alerts.js';
import type { DomainDeps } from '../domain/deps.js';
import { acknowledgeNotification, inboxItem, withNotification } from '../domain/notifications.js';
import { handleAlertEvent } from './alert-events.js';
import type { GatewayHooks } from './hooks.js';

export const ACK_EVENT = 'tocsin:ack';
/** Sent after a replay cut at REPLAY_LIMIT: the client reads the rest with GET /notifications. */
export const REPLAY_TRUNCATED_EVENT = 'tocsin:replay_truncated';
/**
 * Notifications replayed on one subscription. A few hundred bytes each, so a full replay stays
 * well under the socket's buffered-bytes bound (a slow client is not closed by its own replay).
 */
export const REPLAY_LIMIT = 500;
export const REPLAY_WINDOW_MS = 7 * 86_400_000;
/**
 * Socket acknowledgements written at once per process: all but two of the MySQL pool's
 * connections. A reconnect storm (every replayed notification acknowledged at once) then waits
 * here instead of in the pool, where past the acquire timeout an ack was dropped, and replays
 * still find a connection.
 */
export const ackConcurrency = (poolSize: number) => Math.max(1, poolSize - 2);

/** Runs at most `max` tasks at a time; the others wait, first come first served. */
function limiter(max: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (active < max) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, so none can jump the queue.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

export function notificationHooks(
  deps: DomainDeps,
): Required<Pick<GatewayHooks, 'userChannelSubscribed' | 'customEvent'>> {
  const acknowledging = limiter(ackConcurrency(deps.config.database.poolSize));
  return {
    async userChannelSubscribed(projectId, userId) {
      const receipts = deps.db.forProject(projectId).notificationReceipt;
      const rows = await receipts.findMany({
        where: {
          userId,
          acknowledgedAt: null,
          hiddenAt: null,
          createdAt: { gte: new Date(Date.now() - REPLAY_WINDOW_MS) },
          ...deliverableWhere,
        },
        include: withNotification,
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: REPLAY_LIMIT + 1, // one more tells whether the replay is cut
      });
      const truncated = rows.length > REPLAY_LIMIT;
      if (truncated) rows.pop();
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
      const replayed = await Promise.all(
        rows.map(async (row) => ({
          event: 'notification',
          data: JSON.stringify(await inboxItem(deps, row)),
        })),
      );
      if (!truncated) return replayed;
      // Newer unacknowledged ones wait in the inbox: say so, or a client would never ask.
      const notice = { replayed: rows.length, inbox: '/api/v1/notifications?acknowledged=false' };
      return [...replayed, { event: REPLAY_TRUNCATED_EVENT, data: JSON.stringify(notice) }];
    },
    customEvent(projectId, _socketId, userId, event, data) {
      if (handleAlertEvent(deps, projectId, userId, event, data)) return true;
      const id = (data as { id?: unknown } | null)?.id;
      if (event !== ACK_EVENT || !userId || typeof id !== 'string' || !UUID_PATTERN.test(id)) return false;
      acknowledging(() => acknowledgeNotification(deps, projectId, userId, id)).catch((err: unknown) => {
        // Refused (another user's or an unknown id): the client's mistake. Anything else loses an ack.
        if (err instanceof AppError)
          deps.log.debug({ err: err.message }, 'Acknowledgement over the socket refused');
        else deps.log.warn({ err: (err as Error).message }, 'Acknowledgement over the socket failed');
      });
      return true;
    },
  };
}
