// Connections per project across the cluster, for the `maxConnections` setting: each node
// counts its own in one field of a project hash, so a dead node's share is dropped by the reaper.
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../core/redis.js';
import { luaScript } from './lua.js';

export interface ConnectionQuota {
  /** Counts a new connection unless the project is at `max`; false when it is. */
  acquire(projectId: string, max: number): Promise<boolean>;
  release(projectId: string): Promise<void>;
  count(projectId: string): Promise<number>;
  reap(projectId: string, nodeId: string): Promise<void>;
}

// KEYS: the project's per-node counts. ARGV: node id, max.
const ACQUIRE = luaScript(`
local total = 0
for _, n in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(n) end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return 1
`);

export function createConnectionQuota(deps: {
  redis: Redis;
  keys: RedisKeys;
  nodeId: () => string;
}): ConnectionQuota {
  const { redis, keys } = deps;
  const countsKey = (projectId: string) => keys.projectKey(projectId, 'gw', 'connections');
  return {
    async acquire(projectId, max) {
      return (await ACQUIRE(redis, [countsKey(projectId)], [deps.nodeId(), max])) === 1;
    },
    async release(projectId) {
      await redis.hincrby(countsKey(projectId), deps.nodeId(), -1);
    },
    async count(projectId) {
      const counts = await redis.hvals(countsKey(projectId));
      return counts.reduce((sum, n) => sum + Number(n), 0);
    },
    async reap(projectId, nodeId) {
      await redis.hdel(countsKey(projectId), nodeId);
    },
  };
}
