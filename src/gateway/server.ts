// The WebSocket gateway: a uWS app on its own port with /health, /metrics and the Pusher HTTP
// API (/apps/:appId/…), holding Pusher clients under /app/:key. It wires the protocol
// (session.ts) to the shared state in Redis (src/realtime/), the bus (events published anywhere
// reach this node's subscribers once; those triggered here reach them without the bus) and the
// node lease (realtime/nodes.ts).
// Closing stops listening first, then closes every socket with 4200 ("server going away,
// reconnect") so Pusher clients reconnect to another node.
import { randomInt } from 'node:crypto';
import type { GatewayPublish } from '../core/bus.js';
import { createGatewayApi, type GatewayServices } from '../realtime/api.js';
import { createAppDirectory, type GatewayApp } from '../realtime/apps.js';
import { createChannelCache } from '../realtime/cache.js';
import { createChannels } from '../realtime/channels.js';
import type { GatewayHooks } from '../realtime/hooks.js';
import { createLocalSockets, rateWindow, type Socket, type SocketState } from './local.js';
import { createPusherHttpApi } from '../realtime/http-api.js';
import { metricsHandler } from './metrics.js';
import { createNodeRegistry } from '../realtime/nodes.js';
import { ONLINE, createPresence } from '../realtime/presence.js';
import {
  ACTIVITY_TIMEOUT_SEC,
  CLOSE,
  LIMITS,
  PONG_TIMEOUT_MS,
  PROTOCOL_VERSION,
  encode,
  userChannel,
  encodeError,
} from '../core/pusher/protocol.js';
import { createConnectionQuota } from '../realtime/quota.js';
import { createSession } from './session.js';
import { createSubscriptionCounts } from '../realtime/subscription-count.js';
import uWS, { LISTEN_EXCLUSIVE_PORT, type us_listen_socket } from './uws.js';
import { uwsHttpHandler } from './uws-http.js';
import { watchChannel, watchlistFrame } from '../core/pusher/watchlist.js';

export interface Gateway {
  port: number;
  nodeId(): string;
  connectionCount(): number;
  close(): Promise<void>;
}

export interface GatewayOptions {
  port: number;
  services: GatewayServices;
  hooks?: GatewayHooks;
  /** Seconds of client silence before the server pings (sent to clients in the handshake). */
  activityTimeoutSec?: number;
  pongTimeoutMs?: number;
  leaseMs?: number;
}

const STOP_TIMEOUT_MS = 2_000;

const newSocketId = () => `${randomInt(1, 2 ** 47)}.${randomInt(1, 2 ** 47)}`;

function initialState(app: GatewayApp | undefined, refusal?: SocketState['refusal']): SocketState {
  const now = Date.now();
  return {
    socketId: newSocketId(),
    app,
    refusal,
    channels: new Map(),
    userId: undefined,
    open: true,
    counted: false,
    lastSeen: now,
    pingSentAt: 0,
    clientEvents: rateWindow(),
    subscriptions: rateWindow(),
    customEvents: rateWindow(),
  };
}

export function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { services } = options;
  const { log, bus, redis, keys } = services;
  const hooks = options.hooks ?? {};
  const activityTimeoutSec = options.activityTimeoutSec ?? ACTIVITY_TIMEOUT_SEC;
  const pongTimeoutMs = options.pongTimeoutMs ?? PONG_TIMEOUT_MS;
  const uws = uWS.App();
  const local = createLocalSockets(uws, services.metrics);
  const apps = createAppDirectory({
    db: services.db,
    redis,
    keys,
    bus,
    encryptionKey: services.config.secrets.encryptionKey,
    log,
  });
  const nodeId = () => nodes.id();
  const presence = createPresence({ redis, keys, nodeId });
  const channels = createChannels({ redis, keys, nodeId });
  const quota = createConnectionQuota({ redis, keys, nodeId });
  const counts = createSubscriptionCounts({ redis, keys, bus, channels, log });
  const closeAll = (code: number, reason: string) => {
    for (const ws of [...local.all()]) ws.end(code, reason);
  };
  const nodes = createNodeRegistry({
    redis,
    keys,
    log,
    leaseMs: options.leaseMs,
    connections: () => local.size(),
    onLeaseLost: () => closeAll(CLOSE.serverShutdown, 'Reconnect'),
    // Counts first: a client that sees member_removed and then asks the API sees it all gone.
    async reapProject(projectId, deadNode) {
      await quota.reap(projectId, deadNode);
      // For its subscription-count and watchlist settings; unknown (MySQL and the Redis copy
      // away), the counts wait for the channels' next move and watchers hear nothing.
      const app = await apps.byProjectId(projectId).catch(() => undefined);
      for (const { channel, vacated } of await channels.reap(projectId, deadNode)) {
        if (vacated) hooks.channelVacated?.(projectId, channel);
        else if (app) counts.moved(app, channel);
      }
      for (const { group, userId } of await presence.reap(projectId, deadNode)) {
        if (group === ONLINE) {
          if (app?.settings.watchlistEvents)
            await bus.publish({ type: 'gateway.watchlist', projectId, userId, online: false });
          continue;
        }
        const data = JSON.stringify({ user_id: userId });
        await bus.publish({
          type: 'gateway.publish',
          projectId,
          channel: group,
          event: 'pusher_internal:member_removed',
          data,
        });
        hooks.memberRemoved?.(projectId, group, userId);
      }
    },
  });
  const session = createSession({
    bus,
    log,
    presence,
    channels,
    cache: createChannelCache({ redis, keys }),
    counts,
    quota,
    nodes,
    local,
    hooks,
    activityTimeoutSec,
    limits: services.config.gateway,
    metrics: services.metrics,
  });

  const publishHere = (m: GatewayPublish) =>
    local.publish(m.projectId, m.channel, encode(m.event, m.data, m.channel, m.userId), m.excludeSocketId);
  // The Pusher HTTP API, as on the API port (realtime/http-api.ts); its events reach this node's
  // subscribers first, and the node skips their bus copy below.
  const gatewayApi = createGatewayApi(services, { apps, local: { nodeId, publish: publishHere } });
  const httpApi = createPusherHttpApi({ gateway: gatewayApi, log });

  const unsubscribers = [
    // A copy from an older id of this node cannot meet its subscribers: a lost lease closed them.
    bus.on('gateway.publish', (m) => {
      if (m.origin !== nodes.id()) publishHere(m);
    }),
    bus.on('gateway.deliver', ({ projectId, event, deliveries }) => {
      for (const { userId, data } of deliveries) {
        const channel = userChannel(userId);
        local.publish(projectId, channel, encode(event, data, channel));
      }
    }),
    bus.on('gateway.watchlist', ({ projectId, userId, online }) => {
      const frame = watchlistFrame([{ name: online ? 'online' : 'offline', user_ids: [userId] }]);
      local.publish(projectId, watchChannel(userId), frame);
    }),
    bus.on('gateway.terminate', ({ projectId, userId, socketIds = [], reconnect }) => {
      const signed = new Set(socketIds);
      for (const ws of local.ofProject(projectId)) {
        const state = ws.getUserData();
        if (state.userId !== userId && !signed.has(state.socketId)) continue;
        if (reconnect) ws.end(CLOSE.serverShutdown, 'Reconnect: your access changed');
        else ws.end(CLOSE.unauthorized, 'Connections terminated');
      }
    }),
    apps.onChange((projectId, app) => {
      for (const ws of local.ofProject(projectId)) {
        if (!app) ws.end(CLOSE.unknownApp, 'App not found');
        else if (!app.enabled) ws.end(CLOSE.appDisabled, 'App disabled');
        else ws.getUserData().app = app;
      }
    }),
  ];

  // Pings silent clients, closes those that never answer, and sheds slow consumers.
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const ws of [...local.all()]) {
        const state = ws.getUserData();
        if (local.shed(ws)) continue;
        if (state.pingSentAt !== 0 && now - state.pingSentAt > pongTimeoutMs) {
          ws.end(CLOSE.pongTimeout, 'Pong reply not received');
        } else if (state.pingSentAt === 0 && now - state.lastSeen > activityTimeoutSec * 1000) {
          state.pingSentAt = now;
          ws.cork(() => ws.send(encode('pusher:ping', {})));
        }
      }
    },
    Math.min(1_000, activityTimeoutSec * 250),
  );
  sweep.unref();

  uws
    .get('/health', (res) => {
      res.cork(() => {
        res
          .writeHeader('Content-Type', 'application/json')
          .end(JSON.stringify({ status: 'ok', connections: local.size() }));
      });
    })
    .get('/metrics', metricsHandler(services.metrics, services.config.metricsToken))
    .any('/apps/*', uwsHttpHandler(httpApi, services.config.http.bodyLimitBytes))
    .ws<SocketState>('/app/:key', {
      maxPayloadLength: LIMITS.transportFrameBytes,
      // Room above LIMITS.bufferedBytes (checked on every frame sent, see local.ts), so the 4100
      // close frame still fits behind what is queued: past this uWS drops frames, that one too.
      maxBackpressure: 2 * LIMITS.bufferedBytes,
      idleTimeout: 0, // liveness is the protocol's ping/pong (4201), swept above
      sendPingsAutomatically: false,
      upgrade: (res, req, context) => {
        const key = req.getParameter(0) ?? '';
        const protocol = req.getQuery('protocol');
        const headers = [
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
        ] as const;
        let aborted = false;
        res.onAborted(() => void (aborted = true));
        const upgrade = (state: SocketState) => {
          if (!aborted) res.cork(() => res.upgrade(state, ...headers, context));
        };
        if (protocol !== String(PROTOCOL_VERSION)) {
          const message = `Unsupported protocol version ${JSON.stringify(protocol)}; use ${PROTOCOL_VERSION}`;
          return upgrade(initialState(undefined, { code: CLOSE.unsupportedProtocol, message }));
        }
        apps.byKey(key).then(
          (app) => {
            if (!app)
              upgrade(
                initialState(undefined, { code: CLOSE.unknownApp, message: `App key ${key} not found` }),
              );
            else if (!app.enabled)
              upgrade(initialState(undefined, { code: CLOSE.appDisabled, message: 'App disabled' }));
            else upgrade(initialState(app));
          },
          (err: Error) => {
            log.warn({ err: err.message }, 'Gateway could not resolve an app key');
            upgrade(
              initialState(undefined, { code: CLOSE.overCapacity, message: 'Temporarily unavailable' }),
            );
          },
        );
      },
      open: (ws: Socket) => session.open(ws),
      message: (ws: Socket, raw) => {
        if (raw.byteLength <= LIMITS.hardFrameBytes) return session.message(ws, raw);
        const reason = `Frame exceeds ${LIMITS.hardFrameBytes} bytes`;
        ws.cork(() => ws.send(encodeError(CLOSE.frameTooLarge, reason)));
        ws.end(CLOSE.frameTooLarge, reason);
      },
      close: (ws: Socket) => session.close(ws),
    })
    .any('/*', (res) => {
      res.cork(() => {
        res.writeStatus('404 Not Found').writeHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ error: { code: 'route_not_found', message: 'Not found' } }));
      });
    });

  let listenSocket: us_listen_socket | undefined;
  return new Promise((resolve, reject) => {
    // Exclusive: uWS sets SO_REUSEPORT otherwise, and a second process would silently take
    // half of the connections.
    uws.listen(options.port, LISTEN_EXCLUSIVE_PORT, (token) => {
      if (!token) {
        reject(new Error(`Gateway could not listen on port ${options.port} (in use?)`));
        return;
      }
      listenSocket = token;
      const port = uWS.us_socket_local_port(token);
      nodes.start();
      log.info({ port, nodeId: nodes.id() }, 'Gateway listening');
      resolve({
        port,
        nodeId,
        connectionCount: () => local.size(),
        async close() {
          if (listenSocket) uWS.us_listen_socket_close(listenSocket);
          listenSocket = undefined;
          clearInterval(sweep);
          counts.close();
          closeAll(CLOSE.serverShutdown, 'Server shutting down');
          unsubscribers.forEach((off) => off());
          apps.close();
          // Removes what this node still holds in Redis; bounded, so a missing Redis cannot
          // hold the shutdown (the lease then runs out and another node reaps it).
          let timer: NodeJS.Timeout | undefined;
          const deadline = new Promise<void>((done) => (timer = setTimeout(done, STOP_TIMEOUT_MS)));
          await Promise.race([
            nodes.stop().catch((err: Error) => log.warn({ err: err.message }, 'Gateway could not clean up')),
            deadline,
          ]);
          clearTimeout(timer);
        },
      });
    });
  });
}
