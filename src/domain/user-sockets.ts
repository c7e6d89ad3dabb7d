// Which gateway sockets a user's signatures were issued for, so their access can be cut there.
// A socket only names its user when it signs in or joins its user channel; one subscribed to
// private-project alone would otherwise outlive its user's suspension. The channel-auth
// endpoint remembers (user, socket id) when it signs; closing a user's sockets closes those and
// every socket that named the user, on every gateway node (the bus).
import type { DomainDeps } from './deps.js';

type Deps = Pick<DomainDeps, 'redis' | 'keys' | 'bus'>;

/** Newest socket ids kept per user: a client reconnecting for weeks does not grow the set. */
const MAX_SOCKETS = 200;
/** Longer than any socket lives without re-authorizing after a reconnect. */
const TTL_SECONDS = 7 * 86_400;

const keyOf = (deps: Deps, projectId: string, userId: string) =>
  deps.keys.projectKey(projectId, 'user-sockets', userId);

export async function rememberUserSocket(
  deps: Deps,
  projectId: string,
  userId: string,
  socketId: string,
): Promise<void> {
  const key = keyOf(deps, projectId, userId);
  await deps.redis
    .multi()
    .zadd(key, Date.now(), socketId)
    .zremrangebyrank(key, 0, -MAX_SOCKETS - 1)
    .expire(key, TTL_SECONDS)
    .exec();
}

/**
 * Closes the user's gateway sockets on every node. `revoked` (suspension): closed with 4009,
 * which Pusher clients do not retry. `reauthorize` (their roles changed): closed with 4200, so
 * the client reconnects at once and asks again for each channel, now judged by current roles.
 */
export async function closeUserSockets(
  deps: Deps,
  projectId: string,
  userId: string,
  why: 'revoked' | 'reauthorize',
): Promise<void> {
  const key = keyOf(deps, projectId, userId);
  const socketIds = await deps.redis.zrange(key, 0, -1);
  if (why === 'revoked') await deps.redis.del(key);
  await deps.bus.publish({
    type: 'gateway.terminate',
    projectId,
    userId,
    socketIds,
    reconnect: why === 'reauthorize',
  });
}
