// Alert-storm suppression per (project, rule): a sliding window in Redis allows at most
// `maxMatches` notifications per `windowSeconds`; further matches are suppressed and counted for
// one digest per period. Every step is one Lua script, so concurrent consumers agree. Decisions
// are idempotent per event id: a redelivered event gets the decision it got the first time.
import type { Redis, Result } from 'ioredis';
import { uuidv7Time } from '../core/ids.js';
import type { RedisKeys } from '../core/redis.js';

export interface SuppressionLimit {
  maxMatches: number;
  windowSeconds: number;
}

/** The rule's own limits where it sets them, the project's otherwise. */
export function limitOf(
  rule: { suppression?: Partial<SuppressionLimit> | null },
  projectDefault: SuppressionLimit,
): SuppressionLimit {
  return {
    maxMatches: rule.suppression?.maxMatches ?? projectDefault.maxMatches,
    windowSeconds: rule.suppression?.windowSeconds ?? projectDefault.windowSeconds,
  };
}

/**
 * When a suppressed match's digest is due: one window after its period began (the period id is
 * a uuidv7 made when it began; the digest job is delayed by the window from then).
 */
export const digestDueAt = (periodId: string, limit: SuppressionLimit): Date =>
  new Date(uuidv7Time(periodId) + limit.windowSeconds * 1000);

export type SuppressionDecision =
  | { suppressed: false }
  /** `periodId` names the digest period; `startsPeriod` is true for its first suppressed match. */
  | { suppressed: true; periodId: string; startsPeriod: boolean };

export interface SuppressionCheck {
  projectId: string;
  ruleId: string;
  eventId: string;
  limit: SuppressionLimit;
  /** Used as the period id if this match starts a new digest period. */
  newPeriodId: string;
}

// KEYS: allowed (zset eventId → ms), suppressed (set of eventIds), period (string)
// ARGV: now ms, window ms, max matches, event id, new period id
// Returns { suppressed 0|1, period id, starts period 0|1 }.
const CHECK = `
local now, window, max, member = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
if redis.call('ZSCORE', KEYS[1], member) then return {0, '', 0} end
if redis.call('SISMEMBER', KEYS[2], member) == 1 then
  return {1, redis.call('GET', KEYS[3]) or '', 0}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < max then
  redis.call('ZADD', KEYS[1], now, member)
  redis.call('PEXPIRE', KEYS[1], window)
  return {0, '', 0}
end
redis.call('SADD', KEYS[2], member)
local starts = 0
if redis.call('SCARD', KEYS[2]) == 1 then
  redis.call('SET', KEYS[3], ARGV[5])
  starts = 1
end
-- Kept until the digest job, due one window later, has claimed them (with a margin).
redis.call('PEXPIRE', KEYS[2], window * 2 + 60000)
redis.call('PEXPIRE', KEYS[3], window * 2 + 60000)
return {1, redis.call('GET', KEYS[3]), starts}
`;

// KEYS: suppressed, period, claimed (per period) · ARGV: period id
// Moves the period's count into `claimed` once, so a retried digest job sends the same count.
const CLAIM = `
local claimed = redis.call('GET', KEYS[3])
if claimed then return tonumber(claimed) end
local count = 0
if redis.call('GET', KEYS[2]) == ARGV[1] then
  count = redis.call('SCARD', KEYS[1])
  redis.call('DEL', KEYS[1], KEYS[2])
end
redis.call('SET', KEYS[3], count, 'EX', 86400)
return count
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tocsinSuppressionCheck(
      allowed: string,
      suppressed: string,
      period: string,
      ...args: Array<string | number>
    ): Result<[number, string, number], Context>;
    tocsinSuppressionClaim(
      suppressed: string,
      period: string,
      claimed: string,
      periodId: string,
    ): Result<number, Context>;
  }
}

export interface Suppression {
  /** One decision per check, in order, in one round trip. */
  check(checks: readonly SuppressionCheck[], now?: number): Promise<SuppressionDecision[]>;
  /** How many matches the period suppressed; the same answer on every call for one period. */
  claimDigest(projectId: string, ruleId: string, periodId: string): Promise<number>;
}

/**
 * Whether a match of the rule now would be suppressed, and when its digest would be due, read
 * without recording anything (for `POST /rules/test`).
 */
export async function previewSuppression(
  deps: { redis: Redis; keys: RedisKeys },
  projectId: string,
  ruleId: string,
  limit: SuppressionLimit,
  now = Date.now(),
): Promise<{ suppressed: false } | { suppressed: true; digestDueAt: Date }> {
  const key = (part: string) => deps.keys.suppression(projectId, ruleId, part);
  const [allowed, periodId] = await Promise.all([
    deps.redis.zcount(key('allowed'), `(${now - limit.windowSeconds * 1000}`, '+inf'),
    deps.redis.get(key('period')),
  ]);
  if (allowed < limit.maxMatches) return { suppressed: false };
  return {
    suppressed: true,
    digestDueAt: periodId ? digestDueAt(periodId, limit) : new Date(now + limit.windowSeconds * 1000),
  };
}

export function createSuppression(deps: { redis: Redis; keys: RedisKeys }): Suppression {
  const { redis, keys } = deps;
  redis.defineCommand('tocsinSuppressionCheck', { numberOfKeys: 3, lua: CHECK });
  redis.defineCommand('tocsinSuppressionClaim', { numberOfKeys: 3, lua: CLAIM });
  return {
    async check(checks, now = Date.now()) {
      if (checks.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const c of checks) {
        const key = (part: string) => keys.suppression(c.projectId, c.ruleId, part);
        pipeline.tocsinSuppressionCheck(
          key('allowed'),
          key('suppressed'),
          key('period'),
          now,
          c.limit.windowSeconds * 1000,
          c.limit.maxMatches,
          c.eventId,
          c.newPeriodId,
        );
      }
      const results = (await pipeline.exec()) ?? [];
      return results.map(([error, reply]): SuppressionDecision => {
        if (error) throw error;
        const [suppressed, periodId, startsPeriod] = reply as [number, string, number];
        return suppressed === 1
          ? { suppressed: true, periodId, startsPeriod: startsPeriod === 1 }
          : { suppressed: false };
      });
    },
    claimDigest(projectId, ruleId, periodId) {
      const key = (part: string) => keys.suppression(projectId, ruleId, part);
      return redis.tocsinSuppressionClaim(
        key('suppressed'),
        key('period'),
        key(`digest:${periodId}`),
        periodId,
      );
    },
  };
}
