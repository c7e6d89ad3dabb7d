// The cross-node bus: typed messages over Redis pub/sub, sharded by project so a busy tenant
// can be spread over channels. At-most-once by nature: anything that must not be lost is also
// in MySQL or a stream, and caches self-heal by version checks.
import type { Redis } from 'ioredis';
import type { Logger } from './log.js';
import type { RedisKeys } from './redis.js';

export type BusMessage =
  | { type: 'project.changed'; projectId: string }
  | { type: 'rules.changed'; projectId: string; version: number }
  /** Who holds which role changed (approval, role assignment, suspension): recipient caches drop. */
  | { type: 'recipients.changed'; projectId: string }
  /** The consumer is done with these events (stored, or dead-lettered): ingest's `?wait=` ends. */
  | { type: 'events.settled'; projectId: string; eventIds: string[] }
  | {
      type: 'gateway.publish';
      projectId: string;
      channel: string;
      event: string;
      data: string;
      excludeSocketId?: string;
      /** The sender of a client event on a presence channel (Pusher adds `user_id`). */
      userId?: string;
      /** The gateway node that already delivered it to its own subscribers: it skips this copy. */
      origin?: string;
    }
  /** One event to several users' channels (`private-user-{id}`), each with its own data. */
  | {
      type: 'gateway.deliver';
      projectId: string;
      event: string;
      deliveries: Array<{ userId: string; data: string }>;
    }
  /** A user's first connection opened (online) or their last one closed: for watchlists. */
  | { type: 'gateway.watchlist'; projectId: string; userId: string; online: boolean }
  | {
      type: 'gateway.terminate';
      projectId: string;
      userId: string;
      /** Sockets signed for the user that may not name them (see domain/user-sockets.ts). */
      socketIds?: string[];
      /** Close with a code that has the client reconnect and re-authorize (4200), not 4009. */
      reconnect?: boolean;
    };

export type BusMessageType = BusMessage['type'];
export type GatewayPublish = Extract<BusMessage, { type: 'gateway.publish' }>;
type Handler<T extends BusMessageType> = (message: Extract<BusMessage, { type: T }>) => void;

export interface Bus {
  /** Resolves once this node's subscription is active (it is retried while Redis is away). */
  ready: Promise<void>;
  publish(message: BusMessage): Promise<void>;
  on<T extends BusMessageType>(type: T, handler: Handler<T>): () => void;
  close(): Promise<void>;
}

export const BUS_SHARDS = 8;

/** FNV-1a: cheap and stable, so every node maps a project to the same shard. */
export function shardOf(projectId: string, shards = BUS_SHARDS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < projectId.length; i++) {
    hash ^= projectId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/**
 * `subscriber` becomes a dedicated pub/sub connection; `publisher` may be shared. Returns at
 * once: a process must boot (and answer /ready with 503) while Redis is away.
 */
export function createBus(deps: { publisher: Redis; subscriber: Redis; keys: RedisKeys; log: Logger }): Bus {
  const { publisher, subscriber, keys, log } = deps;
  const handlers = new Map<BusMessageType, Set<(message: BusMessage) => void>>();
  const channels = Array.from({ length: BUS_SHARDS }, (_, shard) => keys.busChannel(shard));

  subscriber.on('message', (_channel: string, raw: string) => {
    let message: BusMessage;
    try {
      message = JSON.parse(raw) as BusMessage;
    } catch {
      log.warn('Dropped a malformed bus message');
      return;
    }
    for (const handler of handlers.get(message.type) ?? []) {
      try {
        handler(message);
      } catch (err) {
        log.error({ err, type: message.type }, 'Bus handler failed');
      }
    }
  });
  // ioredis re-subscribes by itself after a reconnect.
  const ready = subscriber.subscribe(...channels).then(() => undefined);
  ready.catch((err: Error) => log.warn({ err: err.message }, 'Bus subscription failed'));

  return {
    ready,
    async publish(message) {
      await publisher.publish(keys.busChannel(shardOf(message.projectId)), JSON.stringify(message));
    },
    on(type, handler) {
      const set = handlers.get(type) ?? new Set();
      handlers.set(type, set);
      const wrapped = handler as (message: BusMessage) => void;
      set.add(wrapped);
      return () => set.delete(wrapped);
    },
    async close() {
      handlers.clear();
      await subscriber.unsubscribe(...channels).catch(() => undefined);
    },
  };
}
