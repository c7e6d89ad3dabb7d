// The sockets this node holds, and delivery to them. Every channel is a uWS topic namespaced by
// project (`{projectId}:{channel}`), so identical channel names of two projects never meet.
import type { Metrics } from '../core/metrics.js';
import type { GatewayApp } from '../realtime/apps.js';
import { CLOSE, LIMITS } from '../core/pusher/protocol.js';
import type { TemplatedApp, WebSocket } from './uws.js';

/** Per-connection state: kept small, it exists once per socket. */
export interface SocketState {
  socketId: string;
  app: GatewayApp | undefined;
  /** Set when the upgrade was refused: the socket is closed with it as soon as it opens. */
  refusal?: { code: number; message: string };
  /** Channel → presence user id ('' for other channels). */
  channels: Map<string, string>;
  /** Who this socket is (sign-in or user channel), once known. */
  userId: string | undefined;
  /** The users whose online status it follows (signed in with a `watchlist`). */
  watchlist?: string[];
  open: boolean;
  /** Holds one of the project's connection slots. */
  counted: boolean;
  lastSeen: number;
  pingSentAt: number;
  /** Frames per second, each kind against its limit (4301 past it). */
  clientEvents: RateWindow;
  subscriptions: RateWindow;
  customEvents: RateWindow;
  /** This socket's last replay: re-subscribing within GATEWAY_REPLAY_REPEAT_MS sends only what is new. */
  replay?: { at: number; readAt: number };
}

/** Frames counted in the current one-second window. */
export interface RateWindow {
  start: number;
  count: number;
}

/** Starts with the first frame counted, so a burst is judged within one window. */
export const rateWindow = (): RateWindow => ({ start: 0, count: 0 });

/** Counts one frame; true when it is over `perSecond`. */
export function overRate(window: RateWindow, perSecond: number, now: number): boolean {
  if (now - window.start >= 1000) {
    window.start = now;
    window.count = 0;
  }
  return ++window.count > perSecond;
}

export type Socket = WebSocket<SocketState>;

export const topicOf = (projectId: string, channel: string): string => `${projectId}:${channel}`;

export interface LocalSockets {
  add(ws: Socket): void;
  remove(ws: Socket): void;
  get(socketId: string): Socket | undefined;
  ofProject(projectId: string): Socket[];
  all(): IterableIterator<Socket>;
  size(): number;
  subscribe(ws: Socket, channel: string): void;
  unsubscribe(ws: Socket, channel: string): void;
  /** Sends a frame to the project channel's local subscribers, except `excludeSocketId`. */
  publish(projectId: string, channel: string, frame: string, excludeSocketId?: string): void;
  /** Closes `ws` with 4100 once more than LIMITS.bufferedBytes wait to be sent to it; true if so. */
  shed(ws: Socket): boolean;
}

/**
 * A slow consumer is closed while its buffer is still under uWS's maxBackpressure (set above
 * LIMITS.bufferedBytes): past that uWS drops every frame, the close frame too, and the client
 * would see a bare 1006 instead of 4100. So the bound is checked on every frame sent, not only
 * by the once-a-second sweep.
 */
function shedSlowConsumer(ws: Socket): boolean {
  if (ws.getBufferedAmount() <= LIMITS.bufferedBytes || !ws.getUserData().open) return false;
  ws.end(CLOSE.overCapacity, 'Slow consumer');
  return true;
}

export function createLocalSockets(
  uws: TemplatedApp,
  metrics: Pick<Metrics, 'gatewayMessages'>,
): LocalSockets {
  const bySocketId = new Map<string, Socket>();
  const byProject = new Map<string, Set<Socket>>();
  // Topic → this node's subscribers, for the slow-consumer check after each publish.
  const byTopic = new Map<string, Set<Socket>>();
  const leave = (ws: Socket, topic: string) => {
    const set = byTopic.get(topic);
    if (set?.delete(ws) && set.size === 0) byTopic.delete(topic);
  };
  return {
    add(ws) {
      const { socketId, app } = ws.getUserData();
      bySocketId.set(socketId, ws);
      if (!app) return;
      const set = byProject.get(app.projectId) ?? new Set();
      byProject.set(app.projectId, set.add(ws));
    },
    remove(ws) {
      const { socketId, app, channels } = ws.getUserData();
      bySocketId.delete(socketId);
      if (!app) return;
      for (const channel of channels.keys()) leave(ws, topicOf(app.projectId, channel));
      const set = byProject.get(app.projectId);
      if (set?.delete(ws) && set.size === 0) byProject.delete(app.projectId);
    },
    get: (socketId) => bySocketId.get(socketId),
    ofProject: (projectId) => [...(byProject.get(projectId) ?? [])],
    all: () => bySocketId.values(),
    size: () => bySocketId.size,
    subscribe(ws, channel) {
      const topic = topicOf(ws.getUserData().app!.projectId, channel);
      ws.subscribe(topic);
      const set = byTopic.get(topic) ?? new Set();
      byTopic.set(topic, set.add(ws));
    },
    unsubscribe(ws, channel) {
      const { app, open } = ws.getUserData();
      const topic = topicOf(app!.projectId, channel);
      if (open) ws.unsubscribe(topic);
      leave(ws, topic);
    },
    shed: shedSlowConsumer,
    publish(projectId, channel, frame, excludeSocketId) {
      const topic = topicOf(projectId, channel);
      const sender = excludeSocketId === undefined ? undefined : bySocketId.get(excludeSocketId);
      let recipients = uws.numSubscribers(topic);
      // A socket publishing reaches every subscriber but itself.
      if (sender && sender.getUserData().app?.projectId === projectId && sender.isSubscribed(topic)) {
        sender.publish(topic, frame);
        recipients--;
      } else {
        uws.publish(topic, frame);
      }
      if (recipients > 0) metrics.gatewayMessages.inc({ project: projectId, direction: 'out' }, recipients);
      // On the hot path: one native call per subscriber, and the (rare) closes after the loop,
      // as closing a socket removes it from the set.
      let slow: Socket[] | undefined;
      for (const ws of byTopic.get(topic) ?? []) {
        if (ws.getBufferedAmount() > LIMITS.bufferedBytes) (slow ??= []).push(ws);
      }
      slow?.forEach(shedSlowConsumer);
    },
  };
}
