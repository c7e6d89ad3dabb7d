// Gateway test helpers: a project made directly in the database (a Pusher app), real clients —
// pusher-js (Node build) signed by the real `pusher` server SDK, and a raw `ws` socket for
// what pusher-js hides — and waits that fail with a message instead of hanging.
import { randomBytes } from 'node:crypto';
import PusherServer from 'pusher';
import PusherModule, { type Channel, type Options } from 'pusher-js';
import WebSocket from 'ws';
import { encryptSecret, randomBase62 } from '../../src/core/crypto.js';
import type { Db } from '../../src/core/db.js';
import type { Config } from '../../src/core/config.js';

// The Node build is CommonJS (`module.exports = Pusher`) while its typings declare an ES default.
const Pusher = PusherModule as unknown as typeof PusherModule.default;
export type PusherClient = InstanceType<typeof Pusher>;

export interface GatewayProject {
  id: string;
  appId: string;
  key: string;
  secret: string;
}

let counter = 0;

export async function createGatewayProject(
  deps: { db: Db; config: Config },
  options: { settings?: Record<string, unknown>; status?: 'active' | 'disabled' } = {},
): Promise<GatewayProject> {
  const unique = `${process.pid}-${Date.now().toString(36)}-${counter++}`;
  const secret = randomBase62(24);
  const key = randomBase62(16);
  const appId = `${Date.now() % 1e9}${counter}`;
  const project = await deps.db.system.project.create({
    data: {
      name: `Gateway ${unique}`,
      slug: `gw-${unique}`.slice(0, 48),
      apiKeyHash: randomBytes(32).toString('hex'),
      apiKeyPrefix: 'test',
      gatewayAppId: appId,
      gatewayKey: key,
      gatewaySecretEnc: encryptSecret(secret, deps.config.secrets.encryptionKey),
      status: options.status ?? 'active',
      settings: (options.settings ?? {}) as object,
    },
  });
  return { id: project.id, appId, key, secret };
}

/** The `pusher` server SDK pointed at the local API: signs HTTP requests and subscriptions. */
export function pusherServer(apiUrl: string, project: GatewayProject): PusherServer {
  const url = new URL(apiUrl);
  return new PusherServer({
    appId: project.appId,
    key: project.key,
    secret: project.secret,
    host: url.hostname,
    port: url.port,
    useTLS: false,
    // For private-encrypted- channels: the SDK derives each channel's shared secret from it.
    encryptionMasterKeyBase64: Buffer.alloc(32, 7).toString('base64'),
  });
}

export interface ClientOptions {
  /** The presence member this client claims (signed by the server SDK). */
  member?: { user_id: string; user_info?: Record<string, unknown> };
  /** The user it signs in as (`pusher:signin`). */
  user?: { id: string; [key: string]: unknown };
  /** Signs with another secret: every private subscription then fails. */
  signer?: PusherServer;
}

/** A pusher-js client configured only with host, port and key; auth comes from the server SDK. */
export function connectPusher(
  port: number,
  project: GatewayProject,
  options: ClientOptions = {},
): PusherClient {
  const signer = options.signer ?? pusherServer('http://127.0.0.1:1', project);
  const config: Options = {
    cluster: 'local',
    wsHost: '127.0.0.1',
    wsPort: port,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      endpoint: 'unused',
      transport: 'ajax',
      customHandler: ({ socketId, channelName }, callback) =>
        callback(null, signer.authorizeChannel(socketId, channelName, options.member)),
    },
    userAuthentication: {
      endpoint: 'unused',
      transport: 'ajax',
      customHandler: ({ socketId }, callback) =>
        callback(null, signer.authenticateUser(socketId, options.user ?? { id: 'nobody' })),
    },
  };
  return new Pusher(project.key, config);
}

export async function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function connected(client: PusherClient): Promise<string> {
  return within(
    new Promise<string>((resolve) => {
      if (client.connection.state === 'connected') return resolve(client.connection.socket_id);
      client.connection.bind('connected', () => resolve(client.connection.socket_id));
    }),
    'the connection',
  );
}

export function subscribed(client: PusherClient, channelName: string): Promise<Channel> {
  const channel = client.subscribe(channelName);
  return within(
    new Promise<Channel>((resolve, reject) => {
      channel.bind('pusher:subscription_succeeded', () => resolve(channel));
      channel.bind('pusher:subscription_error', (err: unknown) => reject(new Error(JSON.stringify(err))));
    }),
    `the subscription to ${channelName}`,
  );
}

export function nextEvent<T = unknown>(channel: Channel, event: string, ms?: number): Promise<T> {
  return within(
    new Promise<T>((resolve) => {
      const handler = (data: T) => {
        channel.unbind(event, handler);
        resolve(data);
      };
      channel.bind(event, handler);
    }),
    `${event} on ${channel.name}`,
    ms,
  );
}

/** Collects every event of a channel (to assert what did not arrive). */
export function recordEvents(channel: Channel): Array<{ event: string; data: unknown }> {
  const seen: Array<{ event: string; data: unknown }> = [];
  channel.bind_global((event: string, data: unknown) => {
    if (!event.startsWith('pusher')) seen.push({ event, data });
  });
  return seen;
}

export interface Frame {
  event: string;
  channel?: string;
  data?: any;
}

/** A plain WebSocket speaking the protocol by hand, recording every frame it receives. */
export interface RawSocket {
  ws: WebSocket;
  frames: Frame[];
  send(frame: unknown): void;
  /** The first frame matching, after the one `next` returned last. */
  next(match: (frame: Frame) => boolean, what: string, ms?: number): Promise<Frame>;
  closed: Promise<{ code: number; reason: string }>;
  socketId(): Promise<string>;
}

export function rawSocket(port: number, path: string): RawSocket {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (raw) => {
    const frame = JSON.parse(raw.toString()) as Frame;
    if (typeof frame.data === 'string' && frame.event !== 'pusher:error') {
      try {
        frame.data = JSON.parse(frame.data);
      } catch {
        // opaque data stays a string
      }
    }
    frames.push(frame);
    for (const waiter of waiters) waiter();
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  // Frames are consumed in order: `next` finds the first match after the last one it returned.
  let cursor = 0;
  const next = (match: (frame: Frame) => boolean, what: string, ms?: number) => {
    return within(
      new Promise<Frame>((resolve) => {
        const check = () => {
          for (let i = cursor; i < frames.length; i++) {
            if (match(frames[i]!)) {
              cursor = i + 1;
              waiters.delete(check);
              return resolve(frames[i]!);
            }
          }
        };
        waiters.add(check);
        check();
      }),
      what,
      ms,
    );
  };
  return {
    ws,
    frames,
    closed,
    next,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    socketId: async () =>
      (await next((f) => f.event === 'pusher:connection_established', 'connection_established')).data
        .socket_id,
  };
}

export const appPath = (key: string) => `/app/${key}?protocol=7&client=js&version=8.6.0`;

/** Polls until `check` holds, for state only visible in Redis; fails at the deadline. */
export async function eventually(check: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
