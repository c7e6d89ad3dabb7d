// What the rest of Tocsin uses to reach people through the gateway, from any process role:
// publish events (through the bus, so every gateway node delivers to its own subscribers once),
// deliver to a user's channel, ask who is online and what channels hold. Reads come from
// Redis, never from a gateway node. On a gateway node, events are published local-first: the
// node's own subscribers get them at once, and the bus copy, tagged with the node's id, is
// skipped by that node (gateway/server.ts), so each subscriber still receives each event once.
// Nothing here loads uWS, so API-only and worker processes use it (docs/architecture.md).
import type { GatewayPublish } from '../core/bus.js';
import type { DomainDeps } from '../domain/deps.js';
import { readSettings } from '../domain/settings.js';
import { createAppDirectory, type AppDirectory } from './apps.js';
import { createChannelCache, isCacheChannel } from './cache.js';
import { createChannels } from './channels.js';
import { ONLINE, createPresence } from './presence.js';

export interface TriggerEvent {
  channels: string[];
  name: string;
  data: string;
  /** A socket that must not receive the event (its own sender). */
  socketId?: string;
}

export interface ChannelInfo {
  occupied: boolean;
  subscriptionCount: number;
  /** Distinct users, for presence channels. */
  userCount?: number;
}

export interface GatewayApi {
  apps: AppDirectory;
  trigger(projectId: string, events: TriggerEvent[]): Promise<void>;
  /** Sends `event` on the user's channel `private-user-{userId}`, wherever their sockets are. */
  deliverToUser(projectId: string, userId: string, event: string, data: string): Promise<void>;
  /** The same for several users, each with its data: one bus message. */
  deliverToUsers(
    projectId: string,
    event: string,
    deliveries: Array<{ userId: string; data: string }>,
  ): Promise<void>;
  /** Whether the user has a socket on any gateway node (signed in or on their user channel). */
  isUserOnline(projectId: string, userId: string): Promise<boolean>;
  /** Which of these users are online, in one Redis call. */
  onlineAmong(projectId: string, userIds: readonly string[]): Promise<Set<string>>;
  onlineUsers(projectId: string): Promise<string[]>;
  /** Occupied channels (optionally by name prefix) with their subscription counts. */
  channels(projectId: string, prefix?: string): Promise<Map<string, number>>;
  channel(projectId: string, channel: string): Promise<ChannelInfo>;
  presenceUserIds(projectId: string, channel: string): Promise<string[]>;
  terminateUserConnections(projectId: string, userId: string): Promise<void>;
}

/** A gateway node's own delivery, for local-first publishing. */
export interface LocalDelivery {
  /** Tags the bus copy; read per event, as the id changes after a lost lease. */
  nodeId(): string;
  publish(message: GatewayPublish): void;
}

/** The shared services the gateway is built from (a subset of every process's services). */
export type GatewayServices = Pick<
  DomainDeps,
  'config' | 'log' | 'db' | 'redis' | 'keys' | 'bus' | 'metrics'
>;

/** A gateway node passes its own app directory (one cache per process) and its delivery. */
export function createGatewayApi(
  deps: GatewayServices,
  options: { apps?: AppDirectory; local?: LocalDelivery } = {},
): GatewayApi {
  const { local } = options;
  const { bus, redis, keys } = deps;
  // Queries only: these never write under a node id.
  const nodeId = () => 'api';
  const presence = createPresence({ redis, keys, nodeId });
  const channels = createChannels({ redis, keys, nodeId });
  const apps =
    options.apps ??
    createAppDirectory({
      db: deps.db,
      redis,
      keys,
      bus,
      encryptionKey: deps.config.secrets.encryptionKey,
      log: deps.log,
    });

  const cache = createChannelCache({ redis, keys });
  const defaultCacheTtl = readSettings(undefined).gateway.cacheTtlSeconds;

  /** Cache channels keep their last event, stored first: a subscriber after the publish finds it. */
  const remember = async (projectId: string, events: TriggerEvent[]) => {
    const cached = events.flatMap((e) =>
      e.channels.filter(isCacheChannel).map((channel) => ({ channel, event: e.name, data: e.data })),
    );
    if (cached.length === 0) return;
    const ttl = (await apps.byProjectId(projectId))?.settings.cacheTtlSeconds ?? defaultCacheTtl;
    await Promise.all(cached.map(({ channel, ...last }) => cache.remember(projectId, channel, last, ttl)));
  };

  const trigger: GatewayApi['trigger'] = async (projectId, events) => {
    await remember(projectId, events);
    await Promise.all(
      events.flatMap(({ channels: names, name, data, socketId }) =>
        names.map((channel) => {
          const message: GatewayPublish = {
            type: 'gateway.publish',
            projectId,
            channel,
            event: name,
            data,
            excludeSocketId: socketId,
            origin: local?.nodeId(),
          };
          // Before the bus: this node's subscribers need no Redis round trip.
          local?.publish(message);
          return bus.publish(message);
        }),
      ),
    );
  };

  const deliverToUsers: GatewayApi['deliverToUsers'] = async (projectId, event, deliveries) => {
    if (deliveries.length) await bus.publish({ type: 'gateway.deliver', projectId, event, deliveries });
  };

  return {
    apps,
    trigger,
    deliverToUsers,
    deliverToUser: (projectId, userId, event, data) => deliverToUsers(projectId, event, [{ userId, data }]),
    isUserOnline: (projectId, userId) => presence.isPresent(projectId, ONLINE, userId),
    onlineAmong: (projectId, userIds) => presence.presentAmong(projectId, ONLINE, userIds),
    onlineUsers: (projectId) => presence.userIds(projectId, ONLINE),
    async channels(projectId, prefix = '') {
      const all = await channels.occupied(projectId);
      return new Map([...all].filter(([name]) => name.startsWith(prefix)));
    },
    async channel(projectId, channel) {
      const subscriptionCount = await channels.subscriptionCount(projectId, channel);
      const info: ChannelInfo = { occupied: subscriptionCount > 0, subscriptionCount };
      if (channel.startsWith('presence-')) info.userCount = await presence.count(projectId, channel);
      return info;
    },
    presenceUserIds: (projectId, channel) => presence.userIds(projectId, channel),
    async terminateUserConnections(projectId, userId) {
      await bus.publish({ type: 'gateway.terminate', projectId, userId });
    },
  };
}
