// Provider health per (project, provider), in Redis so every worker sees it. A provider that
// fails on our side (bad credentials, wrong configuration) is marked unhealthy with the reason
// and since when; senders skip it until a cooldown passes — or at once if its credentials
// changed — instead of hammering it. The first success clears the mark.
// Each failure episode (healthy → unhealthy → healthy) also tells the tenant: the internal
// events `provider.credentials_failed` and `provider.recovered` go into the project's stream and
// its rules decide who is alerted. The mark's HSETNX of `since` names the episode; the events'
// idempotency keys carry it, so workers failing at once (or one repeating after a crash) emit once.
import type { Redis } from 'ioredis';
import type { Metrics } from '../../core/metrics.js';
import type { RedisKeys } from '../../core/redis.js';
import { appendEvents } from '../../domain/events.js';
import { PROVIDERS, type Provider } from '../../domain/provider-credentials.js';
import { classifiedCause } from './classify.js';

export const CREDENTIALS_FAILED_EVENT = 'provider.credentials_failed';
export const RECOVERED_EVENT = 'provider.recovered';

export interface UnhealthyMark {
  reason: string;
  /** ISO time of the first failure since the provider last worked. */
  since: string;
  /** Epoch ms after which a sender may try the provider again. */
  retryAt: number;
  /** Fingerprint of the credentials that failed. */
  fingerprint: string;
}

/** What readers (status, gauges, senders' skip) need: no events. */
export interface HealthReader {
  /** The mark that says to skip this provider now, or null to go ahead. */
  skip(projectId: string, provider: Provider, fingerprint: string): Promise<UnhealthyMark | null>;
  /** Every unhealthy provider of the project, for /api/v1/status. */
  unhealthy(projectId: string): Promise<Partial<Record<Provider, UnhealthyMark>>>;
  /** Every (project, provider) marked unhealthy in the cluster, for the metrics gauge. */
  unhealthyEverywhere(): Promise<Array<{ projectId: string; provider: Provider }>>;
}

export interface ProviderHealth extends HealthReader {
  /** Marks the provider unhealthy; the first failure of an episode emits credentials_failed. */
  markUnhealthy(projectId: string, provider: Provider, reason: string, fingerprint: string): Promise<void>;
  /** Clears the mark; clearing one emits recovered. */
  markHealthy(projectId: string, provider: Provider): Promise<void>;
}

export const DEFAULT_COOLDOWN_MS = 5 * 60_000;
// A forgotten mark (project deleted, provider removed) does not stay in Redis for ever.
const MARK_TTL_SECONDS = 7 * 86_400;
// Sets `announced` only on the episode that was announced: a mark cleared (or replaced by a new
// episode) meanwhile is left alone, and no mark without `since` or TTL is created.
const ANNOUNCED = `
if redis.call('HGET', KEYS[1], 'since') == ARGV[1] then redis.call('HSET', KEYS[1], 'announced', '1') end
return 0
`;

interface HealthDeps {
  redis: Redis;
  keys: RedisKeys;
}

const markKey = (keys: RedisKeys, projectId: string, provider: Provider) =>
  keys.projectKey(projectId, 'provider-health', provider);
// The marks' index, so the gauge needs no SCAN: members are "projectId:provider".
const registryKey = (keys: RedisKeys) => keys.system('provider-health');
const member = (projectId: string, provider: Provider) => `${projectId}:${provider}`;

export function createHealthReader(deps: HealthDeps & { now?: () => number }): HealthReader {
  const { redis, keys } = deps;
  const now = deps.now ?? Date.now;
  const key = (projectId: string, provider: Provider) => markKey(keys, projectId, provider);
  const registry = registryKey(keys);

  const read = async (projectId: string, provider: Provider): Promise<UnhealthyMark | null> => {
    const mark = await redis.hgetall(key(projectId, provider));
    if (!mark.since) return null;
    return {
      reason: mark.reason ?? '',
      since: mark.since,
      retryAt: Number(mark.retryAt),
      fingerprint: mark.fingerprint ?? '',
    };
  };

  return {
    async skip(projectId, provider, fingerprint) {
      const mark = await read(projectId, provider);
      return mark && mark.fingerprint === fingerprint && now() < mark.retryAt ? mark : null;
    },
    async unhealthy(projectId) {
      const marks = await Promise.all(PROVIDERS.map(async (p) => [p, await read(projectId, p)] as const));
      return Object.fromEntries(marks.filter(([, mark]) => mark !== null));
    },
    async unhealthyEverywhere() {
      const members = await redis.smembers(registry);
      const marked = members.map((m) => {
        const at = m.lastIndexOf(':');
        return { projectId: m.slice(0, at), provider: m.slice(at + 1) as Provider };
      });
      const check = redis.pipeline();
      for (const m of marked) check.exists(key(m.projectId, m.provider));
      const exists = ((await check.exec()) ?? []).map(([err, found]) => {
        if (err) throw err; // unknown is not expired: keep the index entry
        return found === 1;
      });
      // A mark that expired (project gone, provider removed) leaves the index here.
      const expired = marked.filter((_, i) => !exists[i]).map((m) => member(m.projectId, m.provider));
      if (expired.length) await redis.srem(registry, ...expired);
      return marked.filter((_, i) => exists[i]);
    },
  };
}

/** The registry with its writes, which emit the episode's events (worker role). */
export function createProviderHealth(
  deps: HealthDeps & { metrics: Metrics; cooldownMs?: number; now?: () => number },
): ProviderHealth {
  const { redis, keys } = deps;
  const cooldownMs = deps.cooldownMs ?? DEFAULT_COOLDOWN_MS;
  const now = deps.now ?? Date.now;
  const emit = (projectId: string, type: string, provider: Provider, payload: Record<string, unknown>) =>
    appendEvents(deps, projectId, [
      {
        type,
        source: 'tocsin',
        payload: { provider, ...payload },
        idempotencyKey: `provider:${provider}:${type}:${String(payload.since)}`,
      },
    ]);

  return {
    ...createHealthReader(deps),
    async markUnhealthy(projectId, provider, reason, fingerprint) {
      const k = markKey(keys, projectId, provider);
      // HSETNX keeps `since` at the first failure while later ones push retryAt on.
      const replies = await redis
        .multi()
        .hsetnx(k, 'since', new Date(now()).toISOString())
        .hset(k, { reason, fingerprint, retryAt: String(now() + cooldownMs) })
        .expire(k, MARK_TTL_SECONDS)
        .sadd(registryKey(keys), member(projectId, provider))
        .hmget(k, 'since', 'announced')
        .exec();
      const [error, read] = replies?.[4] ?? [];
      if (error) throw error;
      const [since, announced] = (read ?? []) as Array<string | null>;
      if (!since || announced) return;
      // Not yet announced: the episode's first failure, or a retry after a crash before
      // `announced` was set. The idempotency key makes either emit once.
      await emit(projectId, CREDENTIALS_FAILED_EVENT, provider, { reason: classifiedCause(reason), since });
      await redis.eval(ANNOUNCED, 1, k, since);
    },
    async markHealthy(projectId, provider) {
      const k = markKey(keys, projectId, provider);
      // Read, emit, then delete: a crash in between emits again on the next success, and the
      // idempotency key drops the repeat. A healthy provider costs one HGET per send.
      const since = await redis.hget(k, 'since');
      if (!since) return;
      await emit(projectId, RECOVERED_EVENT, provider, { since });
      await redis.multi().del(k).srem(registryKey(keys), member(projectId, provider)).exec();
    },
  };
}
