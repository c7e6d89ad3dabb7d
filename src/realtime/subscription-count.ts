// `pusher_internal:subscription_count`, for projects with `gateway.subscriptionCount`: when a
// channel's cluster-wide count moves, its subscribers get the new count, at most once per
// `subscriptionCountIntervalMs` per channel across the cluster. The permit is a Redis key set NX
// with that expiry; a move that finds it taken marks the channel dirty and its node asks again
// when the permit expires, so the last move is always sent, once, whichever node gets there
// first. Presence channels have member events instead (as on Pusher), and a user's own
// `#server-to-user-` channel has no count.
import type { Redis } from 'ioredis';
import type { Bus } from '../core/bus.js';
import type { Logger } from '../core/log.js';
import type { RedisKeys } from '../core/redis.js';
import type { GatewayApp } from './apps.js';
import type { Channels } from './channels.js';
import { luaScript } from './lua.js';
import { channelKind } from '../core/pusher/protocol.js';

export const SUBSCRIPTION_COUNT_EVENT = 'pusher_internal:subscription_count';

export interface SubscriptionCounts {
  /** The channel's count moved (on this node): announce it when the channel's permit allows. */
  moved(app: GatewayApp, channel: string): void;
  close(): void;
}

// KEYS: permit, dirty (both under the project's hash tag). ARGV: interval ms, 'retry' or not.
// Returns 0: announce now; -1: nothing left to announce; otherwise ms until the permit expires.
const PERMIT = luaScript(`
local interval = tonumber(ARGV[1])
if ARGV[2] == 'retry' and redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
if redis.call('SET', KEYS[1], '1', 'PX', interval, 'NX') then
  redis.call('DEL', KEYS[2])
  return 0
end
redis.call('SET', KEYS[2], '1', 'PX', 2 * interval)
return math.max(redis.call('PTTL', KEYS[1]), 1)
`);

export function createSubscriptionCounts(deps: {
  redis: Redis;
  keys: RedisKeys;
  bus: Bus;
  channels: Channels;
  log: Logger;
}): SubscriptionCounts {
  const { redis, keys, bus, channels, log } = deps;
  /** Channels (`{projectId}:{channel}`) this node asks about again once their permit expires. */
  const waiting = new Map<string, NodeJS.Timeout>();

  const announce = async (projectId: string, channel: string, intervalMs: number, retry: boolean) => {
    const permitKeys = [
      keys.tagged(projectId, 'gw-count-permit', channel),
      keys.tagged(projectId, 'gw-count-dirty', channel),
    ];
    const answer = Number(await PERMIT(redis, permitKeys, [intervalMs, retry ? 'retry' : '']));
    if (answer > 0) {
      const key = `${projectId}:${channel}`;
      if (waiting.has(key)) return;
      const timer = setTimeout(() => {
        waiting.delete(key);
        run(projectId, channel, intervalMs, true);
      }, answer);
      timer.unref();
      waiting.set(key, timer);
      return;
    }
    if (answer < 0) return;
    const count = await channels.subscriptionCount(projectId, channel);
    const data = JSON.stringify({ subscription_count: count });
    await bus.publish({ type: 'gateway.publish', projectId, channel, event: SUBSCRIPTION_COUNT_EVENT, data });
  };

  const run = (projectId: string, channel: string, intervalMs: number, retry: boolean) =>
    void announce(projectId, channel, intervalMs, retry).catch((err: Error) =>
      log.warn({ err: err.message }, 'Gateway could not announce a subscription count'),
    );

  return {
    moved(app, channel) {
      const kind = channelKind(channel);
      if (!app.settings.subscriptionCount || kind === 'presence' || kind === 'user') return;
      run(app.projectId, channel, app.settings.subscriptionCountIntervalMs, false);
    },
    close() {
      for (const timer of waiting.values()) clearTimeout(timer);
      waiting.clear();
    },
  };
}
