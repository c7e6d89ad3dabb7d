// Provider health per (project, provider), in Redis so every worker sees it. A provider that
// fails on our side (bad credentials, wrong configuration) is marked unhealthy with the reason
// and since when; senders skip it until a cooldown passes — or at once if its credentials
// changed — instead of hammering it. The first success clears the mark.
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../../core/redis.js';
import { PROVIDERS, type Provider } from '../../domain/provider-credentials.js';

export interface UnhealthyMark {
  reason: string;
  /** ISO time of the first failure since the provider last worked. */
  since: string;
  /** Epoch ms after which a sender may try the provider again. */
  retryAt: number;
  /** Fingerprint of the credentials that failed. */
  fingerprint: string;
}

export interface ProviderHealth {
  /** The mark that says to skip this provider now, or null to go ahead. */
  skip(projectId: string, provider: Provider, fingerprint: string): Promise<UnhealthyMark | null>;
  markUnhealthy(projectId: string, provider: Provider, reason: string, fingerprint: string): Promise<void>;
  markHealthy(projectId: string, provider: Provider): Promise<void>;
  /** Every unhealthy provider of the project, for /api/v1/status. */
  unhealthy(projectId: string): Promise<Partial<Record<Provider, UnhealthyMark>>>;
  /** Every (project, provider) marked unhealthy in the cluster, for the metrics gauge. */
  unhealthyEverywhere(): Promise<Array<{ projectId: string; provider: Provider }>>;
}

export const DEFAULT_COOLDOWN_MS = 5 * 60_000;
// A forgotten mark (project deleted, provider removed) does not stay in Redis for ever.
const MARK_TTL_SECONDS = 7 * 86_400;

export function createProviderHealth(deps: {
  redis: Redis;
  keys: RedisKeys;
  cooldownMs?: number;
  now?: () => number;
}): ProviderHealth {
  const { redis, keys } = deps;
  const cooldownMs = deps.cooldownMs ?? DEFAULT_COOLDOWN_MS;
  const now = deps.now ?? Date.now;
  const key = (projectId: string, provider: Provider) =>
    keys.projectKey(projectId, 'provider-health', provider);
  // The marks' index, so the gauge needs no SCAN: members are "projectId:provider".
  const registry = keys.system('provider-health');
  const member = (projectId: string, provider: Provider) => `${projectId}:${provider}`;

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
    async markUnhealthy(projectId, provider, reason, fingerprint) {
      const k = key(projectId, provider);
      // HSETNX keeps `since` at the first failure while later ones push retryAt on.
      await redis
        .multi()
        .hsetnx(k, 'since', new Date(now()).toISOString())
        .hset(k, { reason, fingerprint, retryAt: String(now() + cooldownMs) })
        .expire(k, MARK_TTL_SECONDS)
        .sadd(registry, member(projectId, provider))
        .exec();
    },
    async markHealthy(projectId, provider) {
      await redis.multi().del(key(projectId, provider)).srem(registry, member(projectId, provider)).exec();
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
