// Cache channels (`cache-`, `private-cache-`, `private-encrypted-cache-`, `presence-cache-`): the
// last event triggered on one is kept in Redis for the project's `cacheTtlSeconds` and sent to
// each new subscriber right after `subscription_succeeded`; without one it gets
// `pusher:cache_miss`. Stored under the project's hash tag, so every node reads the same entry
// (and a project's entries share one Redis Cluster slot). Client events are not cached, as on
// Pusher.
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../core/redis.js';

export interface CachedEvent {
  event: string;
  data: string;
}

export interface ChannelCache {
  remember(projectId: string, channel: string, cached: CachedEvent, ttlSeconds: number): Promise<void>;
  last(projectId: string, channel: string): Promise<CachedEvent | undefined>;
}

const CACHE_CHANNEL = /^(private-encrypted-|private-|presence-)?cache-/;

export const isCacheChannel = (channel: string): boolean => CACHE_CHANNEL.test(channel);

export function createChannelCache(deps: { redis: Redis; keys: RedisKeys }): ChannelCache {
  const { redis, keys } = deps;
  const keyOf = (projectId: string, channel: string) => keys.tagged(projectId, 'gw-cache', channel);
  return {
    async remember(projectId, channel, { event, data }, ttlSeconds) {
      await redis.set(keyOf(projectId, channel), JSON.stringify({ event, data }), 'EX', ttlSeconds);
    },
    async last(projectId, channel) {
      const raw = await redis.get(keyOf(projectId, channel));
      return raw === null ? undefined : (JSON.parse(raw) as CachedEvent);
    },
  };
}
