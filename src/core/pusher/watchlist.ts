// Watchlist events: a user signed in (`pusher:signin`) with a `watchlist` of user ids in its
// user_data hears when they come online (their first connection in the project) and go offline
// (their last one closed, or reaped with a dead node), as `pusher_internal:watchlist_events`.
// Each socket subscribes to one uWS topic per watched user; a change is one `gateway.watchlist`
// bus message, which every node sends to its own watchers.
import { LIMITS, encode } from './protocol.js';

export const WATCHLIST_EVENT = 'pusher_internal:watchlist_events';

export interface WatchlistEvent {
  name: 'online' | 'offline';
  user_ids: string[];
}

/** The topic of a watched user: `#` names are refused from clients, so none can subscribe to it. */
export const watchChannel = (userId: string): string => `#watchlist-${userId}`;

export const watchlistFrame = (events: WatchlistEvent[]): string => encode(WATCHLIST_EVENT, { events });

export type ParsedWatchlist = { ok: true; userIds: string[] } | { ok: false; reason: string };

/** The watchlist of signed user_data: absent is empty; otherwise distinct non-empty ids, bounded. */
export function parseWatchlist(value: unknown): ParsedWatchlist {
  if (value === undefined) return { ok: true, userIds: [] };
  if (
    !Array.isArray(value) ||
    !value.every((id) => typeof id === 'string' && id !== '' && id.length <= LIMITS.channelNameLength)
  ) {
    return { ok: false, reason: 'user_data.watchlist must be an array of user id strings' };
  }
  const userIds = [...new Set(value as string[])];
  if (userIds.length > LIMITS.watchlistUsers) {
    return { ok: false, reason: `A watchlist holds at most ${LIMITS.watchlistUsers} user ids` };
  }
  return { ok: true, userIds };
}
