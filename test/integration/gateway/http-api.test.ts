// The Pusher HTTP API on both ports that serve it — the API server and the gateway (as Soketi
// serves it) — driven by the official `pusher` SDK (and by hand where the SDK would refuse to
// send): events, batches, channel state, users, termination, request signing and the limits.
// Every case runs against both ports, and the refusals are compared between them.
import { createHash, createHmac } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE } from '../../../src/core/pusher/protocol.js';
import { startHub, type TestHub } from '../../support/hub.js';
import {
  appPath,
  connectPusher,
  createGatewayProject,
  nextEvent,
  pusherServer,
  rawSocket,
  recordEvents,
  subscribed,
  within,
  type GatewayProject,
  type PusherClient,
} from '../../support/gateway.js';

let hub: TestHub;
let project: GatewayProject;
const clients: PusherClient[] = [];

/** Small, so a body over it is cheap to send; the exact edge is tested on both ports. */
const BODY_LIMIT = 32 * 1024;

beforeAll(async () => {
  hub = await startHub({ BODY_LIMIT_BYTES: String(BODY_LIMIT) });
  await hub.running.prepared;
  project = await createGatewayProject(hub.running.services);
});
afterAll(async () => {
  clients.forEach((c) => c.disconnect());
  await hub.close();
});

const client = (options?: Parameters<typeof connectPusher>[2]) => {
  const created = connectPusher(hub.gatewayPort, project, options);
  clients.push(created);
  return created;
};

/** The SDK's failure as status and parsed body. */
async function failure(promise: Promise<unknown>): Promise<{ status: number; body: any }> {
  const err = (await promise.then(
    () => expect.unreachable('the request succeeded'),
    (e: unknown) => e,
  )) as { status: number; body: string };
  return { status: err.status, body: JSON.parse(err.body) };
}

/**
 * A request signed by hand, per Pusher's spec, so each part can be got wrong on purpose. The
 * timestamp is the clock plus `skew` seconds, read right before sending; `bodyMd5: null` omits it.
 */
async function signedFetch(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  options: {
    body?: string;
    skew?: number;
    bodyMd5?: string | null;
    secret?: string;
    key?: string;
    /** Sent without Content-Length (chunked), so only reading it shows its size. */
    chunked?: boolean;
  } = {},
) {
  const params: Record<string, string> = {
    auth_key: options.key ?? project.key,
    auth_timestamp: String(Math.floor(Date.now() / 1000) + (options.skew ?? 0)),
    auth_version: '1.0',
  };
  if (options.body !== undefined && options.bodyMd5 !== null) {
    params.body_md5 = options.bodyMd5 ?? createHash('md5').update(options.body).digest('hex');
  }
  const query = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  const signature = createHmac('sha256', options.secret ?? project.secret)
    .update(`${method}\n${path}\n${query}`)
    .digest('hex');
  const text = options.body;
  const body =
    options.chunked && text !== undefined
      ? new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(text));
            controller.close();
          },
        })
      : text;
  const res = await fetch(`${base}${path}?${query}&auth_signature=${signature}`, {
    method,
    body,
    headers: text === undefined ? {} : { 'Content-Type': 'application/json' },
    ...(options.chunked ? { duplex: 'half' } : {}),
  } as RequestInit);
  return { status: res.status, body: (await res.json()) as any };
}

/** The two ports that serve the API, by base URL (read once the hub runs). */
const PORTS = [
  { name: 'API port', url: () => hub.apiUrl },
  { name: 'gateway port', url: () => `http://127.0.0.1:${hub.gatewayPort}` },
];

const eventsPath = () => `/apps/${project.appId}/events`;
const event = (data: string) => JSON.stringify({ name: 'e', channel: 'c', data });
const signatureError = {
  error: { code: 'invalid_signature', message: expect.any(String), requestId: expect.any(String) },
};

describe.each(PORTS)('on the $name', ({ url }) => {
  describe('events', () => {
    it('triggers on several channels, each subscriber receiving once', async () => {
      const pusher = client();
      const [a, b] = [await subscribed(pusher, 'alpha'), await subscribed(pusher, 'beta')];
      const got = [nextEvent(a, 'news'), nextEvent(b, 'news')];
      await pusherServer(url(), project).trigger(['alpha', 'beta'], 'news', { n: 1 });
      expect(await Promise.all(got)).toEqual([{ n: 1 }, { n: 1 }]);
    });

    it('excludes the socket named by socket_id', async () => {
      const [excluded, other] = [
        rawSocket(hub.gatewayPort, appPath(project.key)),
        rawSocket(hub.gatewayPort, appPath(project.key)),
      ];
      const excludedId = await excluded.socketId();
      await other.socketId();
      for (const socket of [excluded, other]) {
        socket.send({ event: 'pusher:subscribe', data: { channel: 'echo' } });
        await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded', 'subscription');
      }
      const api = pusherServer(url(), project);
      await api.trigger('echo', 'mine', {}, { socket_id: excludedId });
      await other.next((f) => f.event === 'mine', 'the event on the other socket');
      await api.trigger('echo', 'marker', {});
      await excluded.next((f) => f.event === 'marker', 'the marker');
      expect(excluded.frames.filter((f) => f.event === 'mine')).toEqual([]);
      excluded.ws.close();
      other.ws.close();
    });

    it('accepts data of 10 KB and refuses one byte more with 413', async () => {
      const api = pusherServer(url(), project);
      await api.trigger('big', 'e', 'x'.repeat(10 * 1024));
      const tooBig = await failure(api.trigger('big', 'e', 'x'.repeat(10 * 1024 + 1)));
      expect(tooBig).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    });

    it('accepts 100 channels and 10 batch events, and refuses more', async () => {
      const api = pusherServer(url(), project);
      const names = (n: number) => Array.from({ length: n }, (_, i) => `ch-${i}`);
      await api.trigger(names(100), 'e', {});
      // The SDK refuses 101 channels itself: send them through its signed post (which JSON-encodes
      // the body, though its typings say string).
      const post = (body: object) => api.post({ path: '/events', body: body as unknown as string });
      const many = await failure(post({ name: 'e', data: '{}', channels: names(101) }));
      expect(many).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });

      const batch = (n: number) => names(n).map((channel) => ({ channel, name: 'e', data: '{}' }));
      await api.triggerBatch(batch(10));
      const tooMany = await failure(api.triggerBatch(batch(11)));
      expect(tooMany).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
      const invalid = await failure(post({ name: 'e', data: '{}', channel: 'bad name' }));
      expect(invalid.status).toBe(400);
    });

    it('delivers a batch in order to its channels', async () => {
      const pusher = client();
      const channel = await subscribed(pusher, 'batched');
      const seen: number[] = [];
      const done = within(
        new Promise<void>((resolve) =>
          channel.bind('step', (data: { i: number }) => {
            seen.push(data.i);
            if (seen.length === 3) resolve();
          }),
        ),
        'three batched events',
      );
      const batch = [0, 1, 2].map((i) => ({ channel: 'batched', name: 'step', data: { i } }));
      await pusherServer(url(), project).triggerBatch(batch as never);
      await done;
      expect(seen).toEqual([0, 1, 2]);
    });
  });

  describe('info on triggers', () => {
    it('answers trigger and batch trigger with the attributes info asks for, per channel', async () => {
      const own = await createGatewayProject(hub.running.services);
      const join = async (userId: string) => {
        const pusher = connectPusher(hub.gatewayPort, own, { member: { user_id: userId } });
        clients.push(pusher);
        await subscribed(pusher, 'presence-room');
        return pusher;
      };
      await join('ann');
      const second = await join('ann');
      await join('ben');
      await subscribed(second, 'plain');
      const api = pusherServer(url(), own);
      const both = { info: 'user_count,subscription_count' };

      const triggered = await api.trigger(['presence-room', 'plain', 'plain'], 'e', {}, both);
      expect(await triggered.json()).toEqual({
        channels: {
          'presence-room': { user_count: 2, subscription_count: 3 },
          plain: { subscription_count: 1 },
        },
      });
      expect(await (await api.trigger('empty', 'e', {}, both)).json()).toEqual({
        channels: { empty: { subscription_count: 0 } },
      });
      expect(await (await api.trigger('plain', 'e', {})).json()).toEqual({});

      const batch = await api.triggerBatch([
        { channel: 'presence-room', name: 'e', data: '{}', info: 'user_count' },
        { channel: 'plain', name: 'e', data: '{}' },
        { channel: 'plain', name: 'e', data: '{}', info: 'subscription_count,user_count' },
      ]);
      expect(await batch.json()).toEqual({ batch: [{ user_count: 2 }, {}, { subscription_count: 1 }] });
    });
  });

  describe('channel state', () => {
    it('lists occupied channels with counts, presence users and per-channel info', async () => {
      const own = await createGatewayProject(hub.running.services);
      const join = async (userId: string) => {
        const pusher = connectPusher(hub.gatewayPort, own, { member: { user_id: userId } });
        clients.push(pusher);
        await subscribed(pusher, 'presence-lounge');
        await subscribed(pusher, 'open');
        return pusher;
      };
      await join('ann');
      await join('ann');
      await join('ben');
      const api = pusherServer(url(), own);
      const get = async (path: string, params?: Record<string, string>) =>
        (await api.get({ path, params })).json();

      expect(await get('/channels')).toEqual({ channels: { 'presence-lounge': {}, open: {} } });
      expect(await get('/channels', { filter_by_prefix: 'presence-', info: 'user_count' })).toEqual({
        channels: { 'presence-lounge': { user_count: 2 } },
      });
      expect(await get('/channels/presence-lounge', { info: 'user_count,subscription_count' })).toEqual({
        occupied: true,
        user_count: 2,
        subscription_count: 3,
      });
      expect(await get('/channels/open', { info: 'subscription_count' })).toEqual({
        occupied: true,
        subscription_count: 3,
      });
      expect(await get('/channels/empty')).toEqual({ occupied: false });
      const users = (await get('/channels/presence-lounge/users')) as { users: Array<{ id: string }> };
      expect(users.users.map((u) => u.id).sort()).toEqual(['ann', 'ben']);

      const refused = await failure(api.get({ path: '/channels/open/users' }));
      expect(refused).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
      expect((await failure(api.get({ path: '/channels', params: { info: 'user_count' } }))).status).toBe(
        400,
      );
    });

    it('terminates the connections of a signed-in user with close code 4009', async () => {
      const signIn = async (id: string) => {
        const socket = rawSocket(hub.gatewayPort, appPath(project.key));
        const userData = JSON.stringify({ id });
        const signature = createHmac('sha256', project.secret)
          .update(`${await socket.socketId()}::user::${userData}`)
          .digest('hex');
        const auth = `${project.key}:${signature}`;
        socket.send({ event: 'pusher:signin', data: { auth, user_data: userData } });
        await socket.next((f) => f.event === 'pusher:signin_success', `${id} signed in`);
        return socket;
      };
      const [dora, eve] = [await signIn('dora'), await signIn('eve')];
      await pusherServer(url(), project).terminateUserConnections('dora');
      expect(await within(dora.closed, 'the terminated connection')).toMatchObject({
        code: CLOSE.unauthorized,
      });
      // The bystander still answers on its connection.
      eve.send({ event: 'pusher:ping', data: {} });
      await eve.next((f) => f.event === 'pusher:pong', "eve's pong");
      expect(eve.ws.readyState).toBe(WebSocket.OPEN);
      eve.ws.close();
    });
  });

  describe('signing', () => {
    // The exact ±600/601 s edges are tested against a fixed clock in test/unit/signatures.test.ts;
    // over HTTP the clock moves, so these skews stay clear of the edge.
    it('accepts a correctly signed request, also with the clocks minutes apart', async () => {
      expect((await signedFetch(url(), 'POST', eventsPath(), { body: event('{}') })).status).toBe(200);
      for (const skew of [-540, 540]) {
        expect((await signedFetch(url(), 'POST', eventsPath(), { body: event('{}'), skew })).status).toBe(
          200,
        );
      }
    });

    it('refuses a bad signature, a stale or future timestamp and a missing or wrong body md5 with 401', async () => {
      const cases = [
        await signedFetch(url(), 'POST', eventsPath(), { body: event('{}'), secret: 'wrong-secret' }),
        await signedFetch(url(), 'POST', eventsPath(), { body: event('{}'), skew: -660 }),
        await signedFetch(url(), 'POST', eventsPath(), { body: event('{}'), skew: 660 }),
        await signedFetch(url(), 'POST', eventsPath(), {
          body: event('{}'),
          bodyMd5: createHash('md5').update('other').digest('hex'),
        }),
        await signedFetch(url(), 'POST', eventsPath(), { body: event('{}'), bodyMd5: null }),
        await signedFetch(url(), 'GET', `/apps/${project.appId}/channels`, { key: 'another-key' }),
      ];
      for (const res of cases) expect(res).toEqual({ status: 401, body: signatureError });
      expect(cases.map((c) => c.body.error.message)).toEqual([
        'Invalid signature',
        expect.stringContaining('auth_timestamp'),
        expect.stringContaining('auth_timestamp'),
        'body_md5 does not match the body',
        'body_md5 does not match the body',
        'Unknown auth_key',
      ]);
      const unsigned = await fetch(`${url()}/apps/${project.appId}/channels`);
      expect(unsigned.status).toBe(401);
      expect(await unsigned.json()).toEqual(signatureError);
    });

    it("refuses a disabled project's app with 403, even correctly signed", async () => {
      const disabled = await createGatewayProject(hub.running.services, { status: 'disabled' });
      const refused = await failure(pusherServer(url(), disabled).trigger('c', 'e', {}));
      expect(refused).toMatchObject({ status: 403, body: { error: { code: 'app_disabled' } } });
    });

    it("answers an unknown app with 404 and another project's credentials with 401", async () => {
      const other = await createGatewayProject(hub.running.services);
      const unknown = await failure(
        pusherServer(url(), { ...project, appId: '999999999999' }).get({ path: '/channels' }),
      );
      expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
      const crossed = pusherServer(url(), { ...other, appId: project.appId });
      expect(await failure(crossed.get({ path: '/channels' }))).toMatchObject({
        status: 401,
        body: signatureError,
      });
    });
  });
});

/** A valid batch whose JSON body is exactly `bytes` long (every event's data under 10 KB). */
function batchOfSize(bytes: number): string {
  const item = (data: string) => ({ channel: 'sized', name: 'e', data });
  const shell = (last: string) =>
    JSON.stringify({ batch: [...Array.from({ length: 3 }, () => item('x'.repeat(8000))), item(last)] });
  return shell('x'.repeat(bytes - shell('').length));
}

/** An answer with its request id blanked, so two ports' answers compare equal. */
const comparable = ({ status, body }: { status: number; body: any }) => ({
  status,
  body: body?.error ? { error: { ...body.error, requestId: '…' } } : body,
});

describe('the same answers on both ports', () => {
  let other: GatewayProject;
  let disabled: GatewayProject;
  beforeAll(async () => {
    other = await createGatewayProject(hub.running.services);
    disabled = await createGatewayProject(hub.running.services, { status: 'disabled' });
  });

  const batchPath = () => `/apps/${project.appId}/batch_events`;
  const deep = (depth: number) =>
    JSON.stringify({
      name: 'e',
      channel: 'c',
      data: '{}',
      x: JSON.parse('['.repeat(depth) + ']'.repeat(depth)),
    });
  const cases: Array<[string, (base: string) => Promise<{ status: number; body: any }>, number, string?]> = [
    [
      'a body of exactly the limit',
      (base) => signedFetch(base, 'POST', batchPath(), { body: batchOfSize(BODY_LIMIT) }),
      200,
    ],
    [
      'a body one byte over the limit',
      (base) => signedFetch(base, 'POST', batchPath(), { body: batchOfSize(BODY_LIMIT + 1) }),
      413,
      'payload_too_large',
    ],
    [
      'a chunked body one byte over the limit',
      (base) => signedFetch(base, 'POST', batchPath(), { body: batchOfSize(BODY_LIMIT + 1), chunked: true }),
      413,
      'payload_too_large',
    ],
    [
      'a chunked body of exactly the limit',
      (base) => signedFetch(base, 'POST', batchPath(), { body: batchOfSize(BODY_LIMIT), chunked: true }),
      200,
    ],
    [
      'event data over 10 KB',
      (base) => signedFetch(base, 'POST', eventsPath(), { body: event('x'.repeat(10 * 1024 + 1)) }),
      413,
      'payload_too_large',
    ],
    [
      'a bad signature',
      (base) => signedFetch(base, 'POST', eventsPath(), { body: event('{}'), secret: 'wrong-secret' }),
      401,
      'invalid_signature',
    ],
    [
      'a timestamp 11 minutes old',
      (base) => signedFetch(base, 'POST', eventsPath(), { body: event('{}'), skew: -660 }),
      401,
      'invalid_signature',
    ],
    [
      'a wrong body_md5',
      (base) => signedFetch(base, 'POST', eventsPath(), { body: event('{}'), bodyMd5: '0'.repeat(32) }),
      401,
      'invalid_signature',
    ],
    [
      'no signature',
      async (base) => {
        const res = await fetch(`${base}/apps/${project.appId}/channels`);
        return { status: res.status, body: await res.json() };
      },
      401,
      'invalid_signature',
    ],
    [
      "another project's credentials",
      (base) =>
        signedFetch(base, 'GET', `/apps/${project.appId}/channels`, { key: other.key, secret: other.secret }),
      401,
      'invalid_signature',
    ],
    ['an unknown app', (base) => signedFetch(base, 'GET', '/apps/999999999999/channels'), 404, 'not_found'],
    [
      'a disabled app',
      (base) =>
        signedFetch(base, 'GET', `/apps/${disabled.appId}/channels`, {
          key: disabled.key,
          secret: disabled.secret,
        }),
      403,
      'app_disabled',
    ],
    [
      'an unknown route',
      (base) => signedFetch(base, 'GET', `/apps/${project.appId}/nothing`),
      404,
      'route_not_found',
    ],
    [
      'a body that is not JSON',
      (base) => signedFetch(base, 'POST', eventsPath(), { body: '{"name":' }),
      400,
      'malformed_json',
    ],
    [
      'JSON nested too deep',
      (base) => signedFetch(base, 'POST', eventsPath(), { body: deep(30) }),
      400,
      'json_too_deep',
    ],
    [
      'eleven batch events',
      (base) =>
        signedFetch(base, 'POST', batchPath(), {
          body: JSON.stringify({
            batch: Array.from({ length: 11 }, () => ({ channel: 'c', name: 'e', data: '' })),
          }),
        }),
      400,
      'validation_failed',
    ],
  ];

  it.each(cases)('%s', async (_, send, status, code) => {
    const [onApi, onGateway] = await Promise.all(PORTS.map(({ url }) => send(url())));
    expect(onApi!.status).toBe(status);
    if (code) expect(onApi!.body.error.code).toBe(code);
    expect(comparable(onGateway!)).toEqual(comparable(onApi!));
  });
});

describe('the gateway port', () => {
  it("reaches the node's own subscribers without waiting for the bus, and once", async () => {
    const channel = await subscribed(client(), 'local-first');
    const seen = recordEvents(channel);
    const { bus } = hub.running.services;
    const publish = bus.publish.bind(bus);
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    // The bus (Redis) holds every message until released: only local delivery can be this fast.
    bus.publish = async (message) => {
      await held;
      return publish(message);
    };
    let answered: Promise<unknown> | undefined;
    try {
      const got = nextEvent(channel, 'quick');
      answered = pusherServer(`http://127.0.0.1:${hub.gatewayPort}`, project).trigger(
        'local-first',
        'quick',
        {
          n: 1,
        },
      );
      expect(await got).toEqual({ n: 1 });
    } finally {
      release();
      bus.publish = publish;
    }
    await answered;
    // The marker crosses the bus after the held copy: a second delivery would come before it.
    const marker = nextEvent(channel, 'marker');
    await pusherServer(hub.apiUrl, project).trigger('local-first', 'marker', {});
    await marker;
    expect(seen.map((e) => e.event)).toEqual(['quick', 'marker']);
  });

  it('drops a request its client abandons halfway through the body, and keeps serving', async () => {
    const socket = net.connect(hub.gatewayPort, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `POST /apps/${project.appId}/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        'Content-Length: 1000\r\n\r\n{"name":"e",',
    );
    socket.destroy();
    await closed;
    const api = pusherServer(`http://127.0.0.1:${hub.gatewayPort}`, project);
    expect(await (await api.trigger('after', 'e', {})).json()).toEqual({});
  });
});
