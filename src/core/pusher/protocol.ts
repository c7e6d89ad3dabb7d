// The Pusher Channels protocol v7 as data: close and error codes, channel kinds and names,
// limits, and the encoding of frames both ways. No I/O here.

/** WebSocket close codes (and `pusher:error` codes) of the protocol. */
export const CLOSE = {
  unknownApp: 4001,
  appDisabled: 4003,
  overQuota: 4004,
  unsupportedProtocol: 4007,
  unauthorized: 4009,
  // "Over capacity": clients back off, then reconnect (slow consumers, or Redis/MySQL away).
  overCapacity: 4100,
  serverShutdown: 4200,
  pongTimeout: 4201,
  // 4300-4399 are "any other error": a frame refused (badMessage, without closing the socket);
  // a frame over LIMITS.hardFrameBytes closes with it, which Pusher clients do not retry unchanged.
  badMessage: 4300,
  frameTooLarge: 4300,
  /** Too many frames of one kind (client events, subscriptions, acknowledgements): back off. */
  rateLimited: 4301,
} as const;

export const PROTOCOL_VERSION = 7;
/** Seconds of silence after which either side pings; pusher-js uses min(this, its own). */
export const ACTIVITY_TIMEOUT_SEC = 120;
export const PONG_TIMEOUT_MS = 30_000;

export const LIMITS = {
  /** Largest frame handled; up to hardFrameBytes a larger one gets `pusher:error`. */
  frameBytes: 16 * 1024,
  /** Larger frames close the socket with CLOSE.frameTooLarge. */
  hardFrameBytes: 64 * 1024,
  /** uWS's own limit, above ours so ours answers with a Pusher code; past it uWS cuts (1006). */
  transportFrameBytes: 1024 * 1024,
  /** Pusher's limit on an event's data (client events and the HTTP API). */
  dataBytes: 10 * 1024,
  channelNameLength: 164,
  eventNameLength: 200,
  userInfoBytes: 1024,
  presenceMembers: 100,
  /** User ids in a signed-in user's `watchlist` (its online/offline events). */
  watchlistUsers: 100,
  channelsPerTrigger: 100,
  batchEvents: 10,
  /** Bytes buffered for one socket before it is closed as a slow consumer. */
  bufferedBytes: 1024 * 1024,
} as const;

export type ChannelKind = 'public' | 'private' | 'encrypted' | 'presence' | 'user';

/** `#server-to-user-{id}`: what pusher-js subscribes to after `pusher:signin` (`sendToUser`). */
export const SERVER_TO_USER_PREFIX = '#server-to-user-';
/** Each person's notification channel (a private channel signed for its owner only). */
export const USER_CHANNEL_PREFIX = 'private-user-';

export const userChannel = (userId: string): string => `${USER_CHANNEL_PREFIX}${userId}`;

export function channelKind(channel: string): ChannelKind {
  if (channel.startsWith('private-encrypted-')) return 'encrypted';
  if (channel.startsWith('private-')) return 'private';
  if (channel.startsWith('presence-')) return 'presence';
  if (channel.startsWith(SERVER_TO_USER_PREFIX)) return 'user';
  return 'public';
}

export const needsAuth = (kind: ChannelKind): boolean =>
  kind === 'private' || kind === 'encrypted' || kind === 'presence';

const CHANNEL_NAME = /^#?[A-Za-z0-9_\-=@,.;]+$/;

export function isValidChannelName(channel: unknown): channel is string {
  return (
    typeof channel === 'string' &&
    channel.length > 0 &&
    channel.length <= LIMITS.channelNameLength &&
    CHANNEL_NAME.test(channel) &&
    (!channel.startsWith('#') || channel.startsWith(SERVER_TO_USER_PREFIX))
  );
}

/** A frame from a client: `{ event, data?, channel? }`. */
export interface ClientMessage {
  event: string;
  data: unknown;
  channel?: string;
}

export type Parsed = { ok: true; message: ClientMessage } | { ok: false; reason: string };

export function parseClientMessage(raw: ArrayBuffer): Parsed {
  if (raw.byteLength > LIMITS.frameBytes) {
    return { ok: false, reason: `Frame exceeds ${LIMITS.frameBytes} bytes` };
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    return { ok: false, reason: 'Malformed JSON' };
  }
  if (typeof value !== 'object' || value === null || typeof (value as ClientMessage).event !== 'string') {
    return { ok: false, reason: 'A message is a JSON object with an "event" string' };
  }
  const { event, data, channel } = value as Record<string, unknown>;
  return {
    ok: true,
    message: { event: event as string, data, channel: typeof channel === 'string' ? channel : undefined },
  };
}

/** An object's field, or the field of its JSON string form (clients send `data` both ways). */
export function dataObject(data: unknown): Record<string, unknown> | undefined {
  let value = data;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Encodes a frame. Pusher sends `data` as a JSON string, except for `pusher:error`. */
export function encode(event: string, data: unknown, channel?: string, userId?: string): string {
  const frame: Record<string, unknown> = { event };
  if (channel !== undefined) frame.channel = channel;
  frame.data = typeof data === 'string' ? data : JSON.stringify(data);
  if (userId !== undefined) frame.user_id = userId;
  return JSON.stringify(frame);
}

export function encodeError(code: number | null, message: string, channel?: string): string {
  return JSON.stringify({ event: 'pusher:error', data: { code, message }, ...(channel ? { channel } : {}) });
}

/** Socket ids look like `1234.5678`; clients pass them back to exclude themselves. */
export const SOCKET_ID = /^\d+\.\d+$/;
