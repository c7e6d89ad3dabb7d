// Per-user unread counters, served from Redis so GET /notifications/unread-count (and push
// badges) never scan receipts.
//
// "Unread" means a receipt with readAt and hiddenAt both null. The counter follows the rows:
// - whoever inserts receipts calls incrementUnread() after the commit, with the users whose
//   receipts that insert really created;
// - a receipt leaves the unread state only through a conditional UPDATE (`… AND readAt IS NULL
//   AND hiddenAt IS NULL`); the one caller whose UPDATE changed the row calls decrementUnread().
//   Row locks make concurrent reads, acks and hides of one receipt change it exactly once.
// - A missing counter (new user, Redis flushed, expired) is rebuilt from MySQL on its next read.
//   Deltas never create a counter, so one can't start from a partial value. A rebuild racing a
//   write may miss or double that write; the counter's TTL bounds how long such an error lives.
import type { Redis, Result } from 'ioredis';
import type { DomainDeps } from './deps.js';

type UnreadDeps = Pick<DomainDeps, 'db' | 'redis' | 'keys'>;

/** How long a counter lives before it is recounted from MySQL. */
export const UNREAD_COUNTER_TTL_SECONDS = 3600;

const counterKey = (deps: UnreadDeps, projectId: string, userId: string) =>
  deps.keys.projectKey(projectId, 'unread', userId);

// Only an existing counter moves (KEEPTTL: a delta must not extend its life); never below zero.
const ADJUST = `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if value < 0 then
  redis.call('SET', KEYS[1], 0, 'KEEPTTL')
  return 0
end
return value`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tocsinUnreadAdjust(counter: string, delta: number): Result<number | null, Context>;
  }
}

const defined = new WeakSet<Redis>();

/** One round trip for any number of users. */
async function adjustAll(deps: UnreadDeps, projectId: string, userIds: readonly string[], delta: number) {
  if (userIds.length === 0) return;
  const { redis } = deps;
  if (!defined.has(redis)) {
    redis.defineCommand('tocsinUnreadAdjust', { numberOfKeys: 1, lua: ADJUST });
    defined.add(redis);
  }
  const pipeline = redis.pipeline();
  for (const userId of userIds) pipeline.tocsinUnreadAdjust(counterKey(deps, projectId, userId), delta);
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
}

/** After receipts were inserted for these users (one receipt each). */
export const incrementUnread = (deps: UnreadDeps, projectId: string, userIds: readonly string[]) =>
  adjustAll(deps, projectId, userIds, 1);

/** After these users' receipts left the unread state, by UPDATEs of this caller (one each). */
export const decrementUnread = (deps: UnreadDeps, projectId: string, userIds: readonly string[]) =>
  adjustAll(deps, projectId, userIds, -1);

/** After receipts were deleted (retention): the next read recounts these users from MySQL. */
export async function dropUnreadCounters(deps: UnreadDeps, projectId: string, userIds: readonly string[]) {
  const counters = [...new Set(userIds)].map((userId) => counterKey(deps, projectId, userId));
  if (counters.length) await deps.redis.del(...counters);
}

/** The scan the counter saves: also what rebuilds it. */
export const countUnread = (deps: UnreadDeps, projectId: string, userId: string) =>
  deps.db
    .forProject(projectId)
    .notificationReceipt.count({ where: { userId, readAt: null, hiddenAt: null } });

async function rebuild(deps: UnreadDeps, projectId: string, userId: string): Promise<number> {
  const count = await countUnread(deps, projectId, userId);
  const key = counterKey(deps, projectId, userId);
  // NX: a counter another reader rebuilt meanwhile may already hold later deltas; keep it.
  if ((await deps.redis.set(key, count, 'EX', UNREAD_COUNTER_TTL_SECONDS, 'NX')) === 'OK') return count;
  return Number((await deps.redis.get(key)) ?? count);
}

/** Unread counts of several users of one project (push badges), rebuilding missing counters. */
export async function unreadCounts(
  deps: UnreadDeps,
  projectId: string,
  userIds: readonly string[],
): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const cached = await deps.redis.mget(userIds.map((userId) => counterKey(deps, projectId, userId)));
  const counts = await Promise.all(
    userIds.map((userId, i) => (cached[i] == null ? rebuild(deps, projectId, userId) : Number(cached[i]))),
  );
  return new Map(userIds.map((userId, i) => [userId, counts[i]!]));
}

export async function unreadCount(deps: UnreadDeps, projectId: string, userId: string): Promise<number> {
  return (await unreadCounts(deps, projectId, [userId])).get(userId)!;
}
