// What a user has not acknowledged, kept in Redis for replay, so a gateway serves a subscription
// without MySQL. Per user: a sorted set of notification ids (score: when it was added, ms of
// Redis time; older than REPLAY_WINDOW_MS drops out) and a hash of their payloads, both expiring
// with the window. At most REPLAY_LIMIT are kept, the oldest: a newer one that does not fit
// marks the structure cut (for the window), and the replay then tells the client to read the
// rest from its inbox. The delivery chain adds each notification before it looks for the
// recipient online (a subscription in between is then seen online, or finds it here); an
// acknowledgement, a hide or retention removes it. A project whose structures were never built
// (first start after an upgrade, Redis lost) is rebuilt from MySQL by the worker role; until the
// project's `replay-ready` mark exists, replays end with the inbox notice.
import type { Redis, Result } from 'ioredis';
import type { DomainDeps } from './deps.js';
import { inboxItem, withNotification, type InboxItem } from './notifications.js';
import { soundUrl } from './sounds.js';

/** Notifications kept (and replayed) per user. */
export const REPLAY_LIMIT = 500;
export const REPLAY_WINDOW_MS = 7 * 86_400_000;

type ReplayDeps = Pick<DomainDeps, 'redis' | 'keys'>;

/** One user's replay keys; all under the project's hash tag, with its receipt stream. */
export const replayKeys = (deps: Pick<DomainDeps, 'keys'>, projectId: string, userId: string) => {
  const base = deps.keys.tagged(projectId, 'replay', userId);
  return { ids: base, items: `${base}:items`, cut: `${base}:cut` };
};

const readyKey = (deps: Pick<DomainDeps, 'keys'>, projectId: string) =>
  deps.keys.tagged(projectId, 'replay-ready');

const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// KEYS ids, items, cut; ARGV limit, windowMs, id, payload, score (empty: now).
// Returns 1 added, 0 already there, -1 cut (full).
const ADD = `${NOW_MS}
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - window))
if #old > 0 then
  redis.call('ZREM', KEYS[1], unpack(old))
  redis.call('HDEL', KEYS[2], unpack(old))
end
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 0 end
if redis.call('ZCARD', KEYS[1]) >= limit then
  redis.call('SET', KEYS[3], now, 'PX', window)
  return -1
end
redis.call('ZADD', KEYS[1], tonumber(ARGV[5]) or now, ARGV[3])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
redis.call('PEXPIRE', KEYS[2], window)
return 1`;

// KEYS ids, items, cut, ready; ARGV windowMs, since (ms), limit.
// Returns { now, cutAt|false, ready, ids, payloads }.
const READ = `${NOW_MS}
local min = math.max(now - tonumber(ARGV[1]), tonumber(ARGV[2]))
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], min, '+inf', 'LIMIT', 0, tonumber(ARGV[3]))
local payloads = {}
if #ids > 0 then payloads = redis.call('HMGET', KEYS[2], unpack(ids)) end
return { now, redis.call('GET', KEYS[3]), redis.call('EXISTS', KEYS[4]), ids, payloads }`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tocsinReplayAdd(
      ids: string,
      items: string,
      cut: string,
      limit: number,
      windowMs: number,
      id: string,
      payload: string,
      score: number | '',
    ): Result<number, Context>;
    tocsinReplayRead(
      ids: string,
      items: string,
      cut: string,
      ready: string,
      windowMs: number,
      since: number,
      limit: number,
    ): Result<[number, string | null, number, string[], Array<string | null>], Context>;
  }
}

const defined = new WeakSet<Redis>();
function commands(redis: Redis): Redis {
  if (!defined.has(redis)) {
    redis.defineCommand('tocsinReplayAdd', { numberOfKeys: 3, lua: ADD });
    redis.defineCommand('tocsinReplayRead', { numberOfKeys: 4, lua: READ });
    defined.add(redis);
  }
  return redis;
}

/** A payload as kept: the inbox item, and its sound's file, signed again at each replay. */
interface Kept {
  item: InboxItem;
  soundKey?: string;
}

export interface Replayable {
  userId: string;
  item: InboxItem;
  soundKey?: string;
  /** When it was received (rebuilds keep the receipt's order); default: now, in Redis time. */
  at?: Date;
}

/** Keeps these for replay, in one round trip; one already kept is left as it is. */
export async function keepForReplay(deps: ReplayDeps, projectId: string, entries: readonly Replayable[]) {
  if (entries.length === 0) return;
  const pipeline = commands(deps.redis).pipeline();
  for (const { userId, item, soundKey, at } of entries) {
    const keys = replayKeys(deps, projectId, userId);
    const kept: Kept = soundKey ? { item, soundKey } : { item };
    pipeline.tocsinReplayAdd(
      keys.ids,
      keys.items,
      keys.cut,
      REPLAY_LIMIT,
      REPLAY_WINDOW_MS,
      item.id,
      JSON.stringify(kept),
      at ? at.getTime() : '',
    );
  }
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
}

/** Removes notifications from users' replays (acknowledged through the API, hidden). */
export async function forgetReplay(
  deps: ReplayDeps,
  projectId: string,
  removed: ReadonlyArray<{ userId: string; notificationId: string }>,
) {
  if (removed.length === 0) return;
  const pipeline = deps.redis.pipeline();
  for (const { userId, notificationId } of removed) {
    const keys = replayKeys(deps, projectId, userId);
    pipeline.zrem(keys.ids, notificationId).hdel(keys.items, notificationId);
  }
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
}

export interface Replay {
  /** The payloads, oldest first. */
  items: InboxItem[];
  /** More unacknowledged notifications may wait in the inbox (cut, or not rebuilt yet). */
  incomplete: boolean;
  /** Redis time of this read: pass it as `since` to get only what was added after it. */
  readAt: number;
}

/** What the user has not acknowledged, oldest first; with `since`, only what was added since. */
export async function readReplay(
  deps: ReplayDeps & Pick<DomainDeps, 'storage' | 'config'>,
  projectId: string,
  userId: string,
  since = 0,
): Promise<Replay> {
  const keys = replayKeys(deps, projectId, userId);
  const [readAt, cutAt, ready, , payloads] = await commands(deps.redis).tocsinReplayRead(
    keys.ids,
    keys.items,
    keys.cut,
    readyKey(deps, projectId),
    REPLAY_WINDOW_MS,
    since,
    REPLAY_LIMIT,
  );
  const items = await Promise.all(
    payloads
      .filter((p): p is string => p !== null)
      .map(async (payload) => {
        const { item, soundKey } = JSON.parse(payload) as Kept;
        if (soundKey && item.sound) item.sound.url = await soundUrl(deps, { storageKey: soundKey });
        return item;
      }),
  );
  const cutSince = cutAt !== null && Number(cutAt) >= since;
  return { items, incomplete: ready === 0 || cutSince, readAt };
}

const REBUILD_PAGE = 1000;

/**
 * Builds a project's replays from MySQL when its `replay-ready` mark is missing (first start
 * after an upgrade, Redis lost): the unacknowledged, visible receipts of the window, oldest first.
 * Safe alongside live additions (an entry kept already is left alone).
 */
export async function rebuildReplay(deps: DomainDeps, projectId: string): Promise<boolean> {
  if (await deps.redis.exists(readyKey(deps, projectId))) return false;
  const receipts = deps.db.forProject(projectId).notificationReceipt;
  const from = new Date(Date.now() - REPLAY_WINDOW_MS);
  let after: { createdAt: Date; id: string } | undefined;
  for (;;) {
    const rows = await receipts.findMany({
      where: {
        acknowledgedAt: null,
        hiddenAt: null,
        createdAt: { gte: from },
        ...(after
          ? {
              OR: [
                { createdAt: { gt: after.createdAt } },
                { createdAt: after.createdAt, id: { gt: after.id } },
              ],
            }
          : {}),
      },
      include: withNotification,
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: REBUILD_PAGE,
    });
    await keepForReplay(
      deps,
      projectId,
      await Promise.all(
        rows.map(async (row) => ({
          userId: row.userId,
          item: await inboxItem(deps, row),
          soundKey: row.notification.sound?.storageKey,
          at: row.createdAt,
        })),
      ),
    );
    if (rows.length < REBUILD_PAGE) break;
    after = rows.at(-1)!;
  }
  // No expiry: the mark says "every receipt since the window started is here"; it goes only
  // with Redis's data, and then the rebuild runs again.
  await deps.redis.set(readyKey(deps, projectId), new Date().toISOString());
  return true;
}
