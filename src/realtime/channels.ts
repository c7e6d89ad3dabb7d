// Channel occupancy shared by every node in Redis: how many subscriptions each channel of a
// project has in the cluster, and how many of them each node holds (so the reaper can take a
// dead node's share back). A change reports whether the channel became occupied or vacated,
// exactly once across nodes.
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../core/redis.js';
import { luaScript } from './lua.js';

export type Occupancy = 'occupied' | 'vacated' | undefined;

export interface Channels {
  /** Adds `delta` subscriptions (negative to remove) held by this node. */
  change(projectId: string, channel: string, delta: number): Promise<Occupancy>;
  /** Channel → subscription count, for the project's occupied channels. */
  occupied(projectId: string): Promise<Map<string, number>>;
  subscriptionCount(projectId: string, channel: string): Promise<number>;
  /** Removes a (dead) node's subscriptions in a project; returns the channels whose count moved. */
  reap(projectId: string, nodeId: string): Promise<Array<{ channel: string; vacated: boolean }>>;
}

// KEYS: cluster counts, this node's counts. ARGV: channel, delta. Returns the cluster count.
const CHANGE = luaScript(`
if redis.call('HINCRBY', KEYS[2], ARGV[1], ARGV[2]) <= 0 then redis.call('HDEL', KEYS[2], ARGV[1]) end
local total = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if total <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return total
`);

export function createChannels(deps: { redis: Redis; keys: RedisKeys; nodeId: () => string }): Channels {
  const { redis, keys } = deps;
  const totalKey = (projectId: string) => keys.projectKey(projectId, 'gw', 'channels');
  const nodeKey = (projectId: string, nodeId: string) =>
    keys.projectKey(projectId, 'gw', 'node', nodeId, 'channels');

  const changeOn = async (projectId: string, channel: string, delta: number, nodeId: string) => {
    const total = Number(
      await CHANGE(redis, [totalKey(projectId), nodeKey(projectId, nodeId)], [channel, delta]),
    );
    if (delta > 0 && total === delta) return 'occupied';
    if (delta < 0 && total <= 0) return 'vacated';
    return undefined;
  };

  return {
    change: (projectId, channel, delta) => changeOn(projectId, channel, delta, deps.nodeId()),
    async occupied(projectId) {
      const counts = await redis.hgetall(totalKey(projectId));
      return new Map(Object.entries(counts).map(([channel, count]) => [channel, Number(count)]));
    },
    async subscriptionCount(projectId, channel) {
      return Number((await redis.hget(totalKey(projectId), channel)) ?? 0);
    },
    async reap(projectId, nodeId) {
      const held = await redis.hgetall(nodeKey(projectId, nodeId));
      const moved: Array<{ channel: string; vacated: boolean }> = [];
      for (const [channel, count] of Object.entries(held)) {
        const change = await changeOn(projectId, channel, -Number(count), nodeId);
        moved.push({ channel, vacated: change === 'vacated' });
      }
      await redis.del(nodeKey(projectId, nodeId));
      return moved;
    },
  };
}
