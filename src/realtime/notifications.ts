// What the gateway does for people's notifications, from Redis only (no MySQL on this path):
// replay on subscription (a client that was offline, or whose node died, gets what it has not
// acknowledged, oldest first, bounded; past the bound it is told to read the rest from its
// inbox) and acknowledgements sent over the socket (`tocsin:ack` with `{ id }`, and the alert
// events of alert-events.ts), accepted into the project's receipt stream and written to MySQL by
// the worker role.
import { UUID_PATTERN } from '../core/ids.js';
import type { DomainDeps } from '../domain/deps.js';
import { acceptAcknowledgement, acceptAlertAction, recordReplayed } from '../domain/receipt-stream.js';
import { readReplay } from '../domain/replay.js';
import { alertActionOf } from './alert-events.js';
import type { GatewayHooks } from './hooks.js';

export const ACK_EVENT = 'tocsin:ack';
/** Sent after a replay that is not everything: the client reads the rest with GET /notifications. */
export const REPLAY_TRUNCATED_EVENT = 'tocsin:replay_truncated';

/** Replay, notification acks and alert actions need only Redis. */
export function notificationHooks(
  deps: DomainDeps,
): Required<Pick<GatewayHooks, 'userChannelSubscribed' | 'customEvent'>> {
  const maxPending = deps.config.gateway.ackQueue;
  let pending = 0;
  return {
    async userChannelSubscribed(projectId, userId, since) {
      const replay = await readReplay(deps, projectId, userId, since);
      // Delivered from now on: the worker records it, the replay is not held up by it.
      recordReplayed(
        deps,
        projectId,
        userId,
        replay.items.map((item) => item.id),
      ).catch((err: unknown) =>
        deps.log.warn({ err: (err as Error).message }, 'Could not record a replay as delivered'),
      );
      const events = replay.items.map((item) => ({ event: 'notification', data: JSON.stringify(item) }));
      if (replay.incomplete) {
        // Others wait in the inbox: say so, or a client would never ask.
        const notice = { replayed: events.length, inbox: '/api/v1/notifications?acknowledged=false' };
        events.push({ event: REPLAY_TRUNCATED_EVENT, data: JSON.stringify(notice) });
      }
      return { events, readAt: replay.readAt };
    },
    customEvent(projectId, _socketId, userId, event, data) {
      if (!userId) return 'unknown';
      const alert = alertActionOf(event, data);
      const id = (data as { id?: unknown } | null)?.id;
      let accept: () => Promise<void>;
      if (alert) accept = () => acceptAlertAction(deps, projectId, userId, alert.alertId, alert.action);
      else if (event === ACK_EVENT && typeof id === 'string' && UUID_PATTERN.test(id))
        accept = () => acceptAcknowledgement(deps, projectId, userId, id.toLowerCase());
      else return 'unknown';
      // Bounded: with Redis slow or away, acknowledgements wait in this process; past the
      // bound the sender is told to back off (it reconnects, is replayed, and acks again).
      if (pending >= maxPending) return 'overloaded';
      pending++;
      accept()
        .catch((err: unknown) =>
          deps.log.warn({ err: (err as Error).message }, 'Acknowledgement over the socket failed'),
        )
        .finally(() => pending--);
      return 'accepted';
    },
  };
}
