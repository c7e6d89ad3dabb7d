// One client connection speaking the Pusher protocol: the handshake, then subscribe,
// unsubscribe, sign-in, ping and client events. Shared state changes go to Redis (presence,
// channel counts, connection quota) and events to other sockets go through the bus, so every
// node delivers them to its own subscribers exactly once.
import type { Bus } from '../core/bus.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import { isCacheChannel, type ChannelCache } from '../realtime/cache.js';
import type { GatewayApp } from '../realtime/apps.js';
import type { Channels } from '../realtime/channels.js';
import type { GatewayHooks } from '../realtime/hooks.js';
import { overRate, topicOf, type LocalSockets, type Socket, type SocketState } from './local.js';
import type { NodeRegistry } from '../realtime/nodes.js';
import { ONLINE, type Presence } from '../realtime/presence.js';
import {
  CLOSE,
  LIMITS,
  USER_CHANNEL_PREFIX,
  SERVER_TO_USER_PREFIX,
  channelKind,
  dataObject,
  encode,
  encodeError,
  isValidChannelName,
  needsAuth,
  parseClientMessage,
  type ClientMessage,
} from '../core/pusher/protocol.js';
import type { ConnectionQuota } from '../realtime/quota.js';
import { channelAuthString, userAuthString, verifyAuth } from '../core/pusher/signatures.js';
import type { SubscriptionCounts } from '../realtime/subscription-count.js';
import {
  parseWatchlist,
  watchChannel,
  watchlistFrame,
  type WatchlistEvent,
} from '../core/pusher/watchlist.js';

export interface SessionDeps {
  bus: Bus;
  log: Logger;
  presence: Presence;
  channels: Channels;
  cache: ChannelCache;
  counts: SubscriptionCounts;
  quota: ConnectionQuota;
  nodes: NodeRegistry;
  local: LocalSockets;
  hooks: GatewayHooks;
  activityTimeoutSec: number;
  limits: Pick<Config['gateway'], 'replayRepeatMs' | 'subscribesPerSecond' | 'acksPerSecond'>;
  metrics: Pick<Metrics, 'gatewayConnections' | 'gatewaySubscriptions' | 'gatewayMessages'>;
}

export interface Session {
  open(ws: Socket): Promise<void>;
  message(ws: Socket, raw: ArrayBuffer): void;
  close(ws: Socket): void;
}

export function createSession(deps: SessionDeps): Session {
  const { bus, log, presence, channels, cache, counts, quota, local, hooks, metrics, limits } = deps;

  /** Sends when the socket is still open; corked, since this may run after an await. */
  const send = (ws: Socket, frame: string): void => {
    const state = ws.getUserData();
    if (!state.open) return;
    ws.cork(() => ws.send(frame));
    local.shed(ws);
    if (state.app) metrics.gatewayMessages.inc({ project: state.app.projectId, direction: 'out' });
  };

  const fail = (ws: Socket, message: string, code: number = CLOSE.badMessage, channel?: string) =>
    send(ws, encodeError(code, message, channel));

  /** Closes with 4301: Pusher clients back off before they reconnect. */
  const rateLimited = (ws: Socket, message: string) => {
    send(ws, encodeError(CLOSE.rateLimited, message));
    ws.end(CLOSE.rateLimited, message);
  };

  /** Shared-state writes are ordered per connection by ioredis; a failure is logged, not fatal. */
  const background = (work: Promise<unknown>, what: string) =>
    void work.catch((err: Error) => log.warn({ err: err.message }, `Gateway could not ${what}`));

  /** Publishes through the bus, so every node (this one included) delivers it once. */
  const broadcast = (
    projectId: string,
    channel: string,
    event: string,
    data: string,
    excludeSocketId?: string,
    userId?: string,
  ) =>
    background(
      bus.publish({ type: 'gateway.publish', projectId, channel, event, data, excludeSocketId, userId }),
      'publish',
    );

  const countSubscription = (state: SocketState, channel: string, delta: 1 | -1) => {
    const app = state.app!;
    const projectId = app.projectId;
    metrics.gatewaySubscriptions.inc({ project: projectId }, delta);
    background(
      channels.change(projectId, channel, delta).then((change) => {
        if (change === 'occupied') hooks.channelOccupied?.(projectId, channel);
        if (change === 'vacated') hooks.channelVacated?.(projectId, channel);
        counts.moved(app, channel);
      }),
      'count a subscription',
    );
  };

  /** Tells every node's watchers that the user came online or went offline, if the project wants. */
  const watched = (app: GatewayApp, userId: string, online: boolean) => {
    if (!app.settings.watchlistEvents) return;
    const message = { type: 'gateway.watchlist', projectId: app.projectId, userId, online } as const;
    background(bus.publish(message), 'publish a watchlist event');
  };

  const leavePresence = (projectId: string, channel: string, socketId: string) =>
    background(
      presence.leave(projectId, channel, socketId).then((userId) => {
        if (userId === undefined) return;
        broadcast(projectId, channel, 'pusher_internal:member_removed', JSON.stringify({ user_id: userId }));
        hooks.memberRemoved?.(projectId, channel, userId);
      }),
      'remove a presence member',
    );

  /** Gives the socket an identity (once), and counts that user online. */
  const identify = (state: SocketState, userId: string) => {
    if (state.userId !== undefined) return state.userId === userId;
    state.userId = userId;
    const projectId = state.app!.projectId;
    background(
      presence.join(projectId, ONLINE, state.socketId, { userId }).then((joined) => {
        if (joined.status === 'joined' && joined.firstConnection) watched(state.app!, userId, true);
      }),
      'mark a user online',
    );
    return true;
  };

  const dropChannel = (ws: Socket, state: SocketState, channel: string) => {
    const projectId = state.app!.projectId;
    const member = state.channels.get(channel);
    if (member === undefined) return;
    local.unsubscribe(ws, channel);
    state.channels.delete(channel);
    countSubscription(state, channel, -1);
    if (member !== '') leavePresence(projectId, channel, state.socketId);
  };

  const succeed = (ws: Socket, state: SocketState, channel: string, data: unknown) => {
    local.subscribe(ws, channel);
    send(ws, encode('pusher_internal:subscription_succeeded', data, channel));
  };

  async function subscribe(ws: Socket, state: SocketState, data: unknown): Promise<void> {
    const app = state.app!;
    const fields = dataObject(data) ?? {};
    const channel = fields.channel;
    if (!isValidChannelName(channel)) return fail(ws, 'Invalid channel name');
    if (state.channels.has(channel)) return;
    if (state.channels.size >= app.settings.maxChannelsPerConnection) {
      return fail(
        ws,
        `At most ${app.settings.maxChannelsPerConnection} channels per connection`,
        CLOSE.badMessage,
        channel,
      );
    }
    const kind = channelKind(channel);
    const channelData = typeof fields.channel_data === 'string' ? fields.channel_data : undefined;
    if (kind === 'user' && channel !== `${SERVER_TO_USER_PREFIX}${state.userId}`) {
      return fail(ws, 'Sign in as this user first', CLOSE.unauthorized, channel);
    }
    // channel_data, when sent, is part of what was signed (presence channels require it).
    if (
      needsAuth(kind) &&
      !verifyAuth(app, channelAuthString(state.socketId, channel, channelData), fields.auth)
    ) {
      return fail(ws, `Invalid signature for ${channel}`, CLOSE.unauthorized, channel);
    }
    if (
      channel.startsWith(USER_CHANNEL_PREFIX) &&
      !identify(state, channel.slice(USER_CHANNEL_PREFIX.length))
    ) {
      return fail(ws, 'This connection belongs to another user', CLOSE.unauthorized, channel);
    }
    if (kind !== 'presence') {
      state.channels.set(channel, '');
      countSubscription(state, channel, 1);
      succeed(ws, state, channel, {});
      if (channel.startsWith(USER_CHANNEL_PREFIX)) await replay(ws, state, channel);
      else if (isCacheChannel(channel)) await sendCached(ws, state, channel);
      return;
    }
    const member = presenceMember(channelData);
    if (!member)
      return fail(
        ws,
        'channel_data must hold a user_id and a user_info under 1 KB',
        CLOSE.unauthorized,
        channel,
      );
    // Counted before the await, so a close while joining removes exactly what was added.
    state.channels.set(channel, member.userId);
    countSubscription(state, channel, 1);
    const joined = await presence.join(
      app.projectId,
      channel,
      state.socketId,
      member,
      LIMITS.presenceMembers,
    );
    if (joined.status === 'full') {
      dropChannel(ws, state, channel);
      return fail(
        ws,
        `Presence channels hold at most ${LIMITS.presenceMembers} members`,
        CLOSE.badMessage,
        channel,
      );
    }
    if (joined.firstConnection) {
      const added = JSON.stringify({ user_id: member.userId, user_info: JSON.parse(member.info ?? 'null') });
      broadcast(app.projectId, channel, 'pusher_internal:member_added', added, state.socketId);
      hooks.memberAdded?.(app.projectId, channel, member.userId);
    }
    if (!state.open || state.channels.get(channel) !== member.userId) return; // left while joining
    const ids = [...joined.members.keys()];
    succeed(ws, state, channel, {
      presence: { ids, hash: Object.fromEntries(joined.members), count: ids.length },
    });
    if (isCacheChannel(channel)) await sendCached(ws, state, channel);
  }

  /** A cache channel's last event to a new subscriber, or `pusher:cache_miss` (no data). */
  async function sendCached(ws: Socket, state: SocketState, channel: string) {
    const projectId = state.app!.projectId;
    const last = await cache.last(projectId, channel);
    if (!state.channels.has(channel)) return; // left meanwhile
    send(ws, last ? encode(last.event, last.data, channel) : encode('pusher:cache_miss', undefined, channel));
    if (!last) hooks.cacheMiss?.(projectId, channel);
  }

  /** A socket re-subscribing soon after its last replay gets only what came after it. */
  async function replay(ws: Socket, state: SocketState, channel: string) {
    if (!hooks.userChannelSubscribed) return;
    const now = Date.now();
    const since = state.replay && now - state.replay.at < limits.replayRepeatMs ? state.replay.readAt : 0;
    const { events, readAt } = await hooks.userChannelSubscribed(state.app!.projectId, state.userId!, since);
    if (since === 0) state.replay = { at: now, readAt };
    else state.replay!.readAt = readAt;
    for (const { event, data } of events) send(ws, encode(event, data, channel));
  }

  function signin(ws: Socket, state: SocketState, data: unknown) {
    const fields = dataObject(data) ?? {};
    const userData = typeof fields.user_data === 'string' ? fields.user_data : '';
    const user = dataObject(userData);
    const id = user?.id;
    if (
      typeof id !== 'string' ||
      id === '' ||
      !verifyAuth(state.app!, userAuthString(state.socketId, userData), fields.auth)
    ) {
      return fail(ws, 'Invalid sign-in signature or user_data', CLOSE.unauthorized);
    }
    // Not read at all (as on Pusher) unless the project enabled watchlist events.
    const watchlist = parseWatchlist(state.app!.settings.watchlistEvents ? user?.watchlist : undefined);
    if (!watchlist.ok) return fail(ws, watchlist.reason);
    if (!identify(state, id)) return fail(ws, 'This connection belongs to another user', CLOSE.unauthorized);
    send(ws, encode('pusher:signin_success', { user_data: userData }));
    if (watchlist.userIds.length) background(watch(ws, state, watchlist.userIds), 'send watchlist events');
  }

  /** Follows the users' changes from now on, then sends their current status. */
  async function watch(ws: Socket, state: SocketState, userIds: string[]) {
    const projectId = state.app!.projectId;
    for (const userId of state.watchlist ?? []) ws.unsubscribe(topicOf(projectId, watchChannel(userId)));
    state.watchlist = userIds;
    for (const userId of userIds) ws.subscribe(topicOf(projectId, watchChannel(userId)));
    const online = await presence.presentAmong(projectId, ONLINE, userIds);
    if (!state.open || state.watchlist !== userIds) return;
    const events: WatchlistEvent[] = [
      { name: 'online', user_ids: userIds.filter((userId) => online.has(userId)) },
      { name: 'offline', user_ids: userIds.filter((userId) => !online.has(userId)) },
    ];
    send(ws, watchlistFrame(events.filter((event) => event.user_ids.length > 0)));
  }

  function clientEvent(ws: Socket, state: SocketState, message: ClientMessage) {
    const app = state.app!;
    const { channel, event } = message;
    if (!app.settings.clientEvents)
      return fail(ws, 'Client events are not enabled for this app', CLOSE.badMessage, channel);
    const kind = channel === undefined ? undefined : channelKind(channel);
    if (
      channel === undefined ||
      !state.channels.has(channel) ||
      (kind !== 'private' && kind !== 'presence')
    ) {
      return fail(
        ws,
        'Client events are only allowed on private and presence channels you subscribed to',
        CLOSE.badMessage,
        channel,
      );
    }
    if (overRate(state.clientEvents, app.settings.clientEventsPerSecond, Date.now())) {
      return rateLimited(ws, 'Client event rate limit exceeded');
    }
    const data = typeof message.data === 'string' ? message.data : JSON.stringify(message.data ?? null);
    if (Buffer.byteLength(data) > LIMITS.dataBytes || event.length > LIMITS.eventNameLength) {
      return fail(ws, `Event data is limited to ${LIMITS.dataBytes} bytes`, CLOSE.badMessage, channel);
    }
    const userId = kind === 'presence' ? state.channels.get(channel) : undefined;
    broadcast(app.projectId, channel, event, data, state.socketId, userId);
    hooks.clientEvent?.({ projectId: app.projectId, channel, event, data, socketId: state.socketId, userId });
  }

  function dispatch(ws: Socket, state: SocketState, message: ClientMessage) {
    switch (message.event) {
      case 'pusher:ping':
        return send(ws, encode('pusher:pong', {}));
      case 'pusher:pong':
        return;
      case 'pusher:subscribe':
      case 'pusher:unsubscribe':
        if (overRate(state.subscriptions, limits.subscribesPerSecond, Date.now())) {
          return rateLimited(ws, `At most ${limits.subscribesPerSecond} subscribe/unsubscribe per second`);
        }
        if (message.event === 'pusher:subscribe')
          return background(subscribe(ws, state, message.data), 'subscribe');
        return unsubscribe(ws, state, message.data);
      case 'pusher:signin':
        return signin(ws, state, message.data);
    }
    if (message.event.startsWith('client-')) return clientEvent(ws, state, message);
    if (overRate(state.customEvents, limits.acksPerSecond, Date.now())) {
      return rateLimited(ws, `At most ${limits.acksPerSecond} acknowledgements per second`);
    }
    const app = state.app!;
    const outcome = hooks.customEvent?.(
      app.projectId,
      state.socketId,
      state.userId,
      message.event,
      message.data,
    );
    if (outcome === 'accepted') return;
    if (outcome === 'overloaded') return rateLimited(ws, 'Too many acknowledgements waiting; retry later');
    fail(ws, `Unknown event ${JSON.stringify(message.event.slice(0, LIMITS.eventNameLength))}`);
  }

  function unsubscribe(ws: Socket, state: SocketState, data: unknown) {
    const channel = dataObject(data)?.channel;
    if (typeof channel === 'string') dropChannel(ws, state, channel);
  }

  return {
    async open(ws) {
      const state = ws.getUserData();
      if (state.refusal) {
        ws.send(encodeError(state.refusal.code, state.refusal.message));
        return ws.end(state.refusal.code, state.refusal.message);
      }
      local.add(ws);
      const app = state.app!;
      let admitted: boolean;
      try {
        await deps.nodes.holds(app.projectId);
        admitted = await quota.acquire(app.projectId, app.settings.maxConnections);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'Gateway could not admit a connection');
        if (state.open) ws.cork(() => ws.end(CLOSE.overCapacity, 'Temporarily unavailable, retry later'));
        return;
      }
      if (!state.open) {
        if (admitted) background(quota.release(app.projectId), 'release a connection slot');
        return;
      }
      state.counted = admitted;
      if (!admitted) {
        fail(ws, 'Over the connection quota', CLOSE.overQuota);
        ws.cork(() => ws.end(CLOSE.overQuota, 'Over the connection quota'));
        return;
      }
      metrics.gatewayConnections.inc({ project: app.projectId });
      const established = { socket_id: state.socketId, activity_timeout: deps.activityTimeoutSec };
      send(ws, encode('pusher:connection_established', established));
    },

    message(ws, raw) {
      const state = ws.getUserData();
      state.lastSeen = Date.now();
      state.pingSentAt = 0;
      if (state.app) metrics.gatewayMessages.inc({ project: state.app.projectId, direction: 'in' });
      const parsed = parseClientMessage(raw);
      if (!parsed.ok) return fail(ws, parsed.reason);
      if (!state.counted) return; // not admitted yet: the handshake comes first
      dispatch(ws, state, parsed.message);
    },

    close(ws) {
      const state = ws.getUserData();
      state.open = false;
      local.remove(ws);
      if (!state.app) return;
      for (const channel of [...state.channels.keys()]) dropChannel(ws, state, channel);
      if (state.userId !== undefined) {
        const app = state.app;
        background(
          presence.leave(app.projectId, ONLINE, state.socketId).then((userId) => {
            if (userId !== undefined) watched(app, userId, false);
          }),
          'mark a user offline',
        );
      }
      if (state.counted) {
        metrics.gatewayConnections.dec({ project: state.app.projectId });
        background(quota.release(state.app.projectId), 'release a connection slot');
      }
    },
  };
}

/** The presence member a client claims in `channel_data` (already covered by the signature). */
function presenceMember(channelData: string | undefined) {
  const fields = dataObject(channelData);
  const userId = fields?.user_id;
  if (typeof userId !== 'string' && typeof userId !== 'number') return undefined;
  const info = fields?.user_info === undefined ? undefined : JSON.stringify(fields.user_info);
  if (String(userId) === '' || (info !== undefined && Buffer.byteLength(info) > LIMITS.userInfoBytes))
    return undefined;
  return { userId: String(userId), info };
}
