// The Pusher protocol v7 as clients see it: the handshake and its refusals, every channel type,
// failed authorizations, sign-in, liveness and bad frames.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayApi } from '../../../src/realtime/api.js';
import { startGateway } from '../../../src/gateway/server.js';
import { startHub, type TestHub } from '../../support/hub.js';
import {
  appPath,
  connectPusher,
  connected,
  createGatewayProject,
  eventually,
  nextEvent,
  pusherServer,
  rawSocket,
  subscribed,
  within,
  type GatewayProject,
  type PusherClient,
} from '../../support/gateway.js';

let hub: TestHub;
let project: GatewayProject;
const clients: PusherClient[] = [];
const client = (options?: Parameters<typeof connectPusher>[2]) => {
  const created = connectPusher(hub.gatewayPort, project, options);
  clients.push(created);
  return created;
};

beforeAll(async () => {
  hub = await startHub();
  await hub.running.prepared;
  project = await createGatewayProject(hub.running.services);
});
afterAll(async () => {
  clients.forEach((c) => c.disconnect());
  await hub.close();
});

describe('handshake', () => {
  it('establishes a connection with a socket id and the activity timeout', async () => {
    const socket = rawSocket(hub.gatewayPort, appPath(project.key));
    const established = await socket.next((f) => f.event === 'pusher:connection_established', 'handshake');
    expect(established.data).toEqual({
      socket_id: expect.stringMatching(/^\d+\.\d+$/),
      activity_timeout: 120,
    });
    socket.ws.close();
  });

  it.each([
    ['an unknown key', () => appPath('no-such-key'), 4001],
    ['no protocol version', () => `/app/${project.key}`, 4007],
    ['an unsupported protocol version', () => `/app/${project.key}?protocol=3`, 4007],
  ])('refuses %s with pusher:error and close code', async (_, path, code) => {
    const socket = rawSocket(hub.gatewayPort, path());
    expect((await within(socket.closed, 'close')).code).toBe(code);
    expect(socket.frames).toEqual([{ event: 'pusher:error', data: { code, message: expect.any(String) } }]);
  });

  it('refuses a disabled project with 4003 and closes its sockets when it is disabled', async () => {
    const disabled = await createGatewayProject(hub.running.services, { status: 'disabled' });
    const refused = rawSocket(hub.gatewayPort, appPath(disabled.key));
    expect((await within(refused.closed, 'close')).code).toBe(4003);

    const live = await createGatewayProject(hub.running.services);
    const socket = rawSocket(hub.gatewayPort, appPath(live.key));
    await socket.socketId();
    await hub.running.services.db.system.project.update({
      where: { id: live.id },
      data: { status: 'disabled' },
    });
    await hub.running.services.bus.publish({ type: 'project.changed', projectId: live.id });
    expect((await within(socket.closed, 'close')).code).toBe(4003);
  });

  it('answers pusher:ping with pusher:pong', async () => {
    const socket = rawSocket(hub.gatewayPort, appPath(project.key));
    await socket.socketId();
    socket.send({ event: 'pusher:ping', data: {} });
    await socket.next((f) => f.event === 'pusher:pong', 'pong');
    socket.ws.close();
  });
});

describe('channels', () => {
  it('subscribes to public, private, encrypted and presence channels and receives events on each', async () => {
    const pusher = client({ member: { user_id: 'u1', user_info: { name: 'Ada' } } });
    await connected(pusher);
    const api = pusherServer(hub.apiUrl, project);
    for (const name of ['public-1', 'private-1', 'presence-1']) {
      const channel = await subscribed(pusher, name);
      const got = nextEvent(channel, 'ping');
      await api.trigger(name, 'ping', { on: name });
      expect(await got).toEqual({ on: name });
    }
    // Encrypted channels are relayed opaque: pusher-js would decrypt, so read them raw.
    const socket = rawSocket(hub.gatewayPort, appPath(project.key));
    const socketId = await socket.socketId();
    const { auth } = api.authorizeChannel(socketId, 'private-encrypted-1');
    socket.send({ event: 'pusher:subscribe', data: { channel: 'private-encrypted-1', auth } });
    await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded', 'encrypted subscription');
    await api.trigger('private-encrypted-1', 'secret', { launch: 'codes' }); // the SDK encrypts
    const frame = await socket.next((f) => f.event === 'secret', 'encrypted event');
    expect(frame.data).toEqual({ nonce: expect.any(String), ciphertext: expect.any(String) });
    socket.ws.close();
  });

  it('sends presence data on subscription and member_added/removed once per user', async () => {
    const [a1, a2, b] = [
      client({ member: { user_id: 'alice', user_info: { name: 'Alice' } } }),
      client({ member: { user_id: 'alice', user_info: { name: 'Alice' } } }),
      client({ member: { user_id: 'bob', user_info: { name: 'Bob' } } }),
    ];
    const watcher = await subscribed(b, 'presence-room');
    const events: string[] = [];
    watcher.bind('pusher:member_added', (m: { id: string }) => events.push(`+${m.id}`));
    watcher.bind('pusher:member_removed', (m: { id: string }) => events.push(`-${m.id}`));

    const added = nextEvent<{ id: string; info: unknown }>(watcher, 'pusher:member_added');
    const first = await subscribed(a1, 'presence-room');
    expect(await added).toEqual({ id: 'alice', info: { name: 'Alice' } });
    expect((first as unknown as { members: { count: number } }).members.count).toBe(2);
    await subscribed(a2, 'presence-room'); // alice's second connection: no member_added

    const removed = nextEvent<{ id: string }>(watcher, 'pusher:member_removed');
    a1.unsubscribe('presence-room');
    a2.disconnect();
    expect(await removed).toMatchObject({ id: 'alice' });
    expect(events).toEqual(['+alice', '-alice']);
  });

  it('fails a subscription with a bad signature with pusher:error 4009 and keeps the connection', async () => {
    const forger = pusherServer('http://127.0.0.1:1', { ...project, secret: 'not-the-secret' });
    const socket = rawSocket(hub.gatewayPort, appPath(project.key));
    const socketId = await socket.socketId();
    for (const channel of ['private-x', 'presence-x']) {
      const { auth, channel_data } = forger.authorizeChannel(socketId, channel, { user_id: 'mallory' });
      socket.send({ event: 'pusher:subscribe', data: { channel, auth, channel_data } });
      const error = await socket.next((f) => f.event === 'pusher:error', `error for ${channel}`);
      expect(error.data).toEqual({ code: 4009, message: expect.stringContaining(channel) });
    }
    // A presence signature does not cover other channel_data than what was signed.
    const signed = pusherServer('http://127.0.0.1:1', project).authorizeChannel(socketId, 'presence-y', {
      user_id: 'alice',
    });
    socket.send({
      event: 'pusher:subscribe',
      data: { channel: 'presence-y', auth: signed.auth, channel_data: JSON.stringify({ user_id: 'root' }) },
    });
    expect((await socket.next((f) => f.event === 'pusher:error', 'tampered channel_data')).data.code).toBe(
      4009,
    );
    socket.send({ event: 'pusher:subscribe', data: { channel: 'still-here' } });
    await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded', 'public subscription');
    socket.ws.close();
  });

  it('signs users in and delivers sendToUser on #server-to-user', async () => {
    const pusher = client({ user: { id: 'carol', name: 'Carol' } });
    await connected(pusher);
    pusher.signin();
    await within(pusher.user.signinDonePromise!, 'sign-in');
    const userChannel = pusher.user.serverToUserChannel!;
    if (!userChannel.subscribed) await nextEvent(userChannel, 'pusher:subscription_succeeded');
    const received = within(
      new Promise((resolve) => pusher.user.bind('greeting', resolve)),
      'the user event',
    );
    await pusherServer(hub.apiUrl, project).sendToUser('carol', 'greeting', { hi: 1 });
    expect(await received).toEqual({ hi: 1 });
  });

  it('refuses #server-to-user of another user and a sign-in with a bad signature', async () => {
    const socket = rawSocket(hub.gatewayPort, appPath(project.key));
    const socketId = await socket.socketId();
    socket.send({ event: 'pusher:subscribe', data: { channel: '#server-to-user-carol' } });
    expect((await socket.next((f) => f.event === 'pusher:error', 'refusal')).data.code).toBe(4009);
    const forged = pusherServer('http://127.0.0.1:1', { ...project, secret: 'wrong' }).authenticateUser(
      socketId,
      {
        id: 'carol',
      },
    );
    socket.send({ event: 'pusher:signin', data: forged });
    expect((await socket.next((f) => f.event === 'pusher:error', 'sign-in refusal')).data.code).toBe(4009);
    socket.ws.close();
  });

  it("refuses a signed-in user another user's #server-to-user channel", async () => {
    const socket = rawSocket(hub.gatewayPort, appPath(project.key));
    const signin = pusherServer('http://127.0.0.1:1', project).authenticateUser(await socket.socketId(), {
      id: 'dave',
    });
    socket.send({ event: 'pusher:signin', data: signin });
    await socket.next((f) => f.event === 'pusher:signin_success', 'sign-in');
    socket.send({ event: 'pusher:subscribe', data: { channel: '#server-to-user-carol' } });
    const refusal = await socket.next((f) => f.event === 'pusher:error', 'refusal');
    expect(refusal).toMatchObject({ channel: '#server-to-user-carol', data: { code: 4009 } });
    socket.send({ event: 'pusher:subscribe', data: { channel: '#server-to-user-dave' } });
    const own = await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded', 'own channel');
    expect(own.channel).toBe('#server-to-user-dave');
    expect(socket.frames.filter((f) => f.event === 'pusher_internal:subscription_succeeded')).toHaveLength(1);
    socket.ws.close();
  });

  it('limits channels per connection', async () => {
    const limited = await createGatewayProject(hub.running.services, {
      settings: { gateway: { maxChannelsPerConnection: 2 } },
    });
    const socket = rawSocket(hub.gatewayPort, appPath(limited.key));
    await socket.socketId();
    for (const channel of ['a', 'b', 'c']) socket.send({ event: 'pusher:subscribe', data: { channel } });
    const error = await socket.next((f) => f.event === 'pusher:error', 'the limit');
    expect(error).toMatchObject({ channel: 'c', data: { message: expect.stringContaining('2 channels') } });
    expect(socket.frames.filter((f) => f.event === 'pusher_internal:subscription_succeeded')).toHaveLength(2);
    socket.ws.close();
  });

  it('closes connections over the project quota with 4004', async () => {
    const small = await createGatewayProject(hub.running.services, {
      settings: { gateway: { maxConnections: 2 } },
    });
    const [first, second] = [
      rawSocket(hub.gatewayPort, appPath(small.key)),
      rawSocket(hub.gatewayPort, appPath(small.key)),
    ];
    await Promise.all([first.socketId(), second.socketId()]);
    const third = rawSocket(hub.gatewayPort, appPath(small.key));
    expect((await within(third.closed, 'close')).code).toBe(4004);
    first.ws.close();
    await first.closed;
    // The slot is released in Redis once the close is processed.
    let admitted = false;
    for (let attempt = 0; attempt < 50 && !admitted; attempt++) {
      const retry = rawSocket(hub.gatewayPort, appPath(small.key));
      admitted = await Promise.race([retry.socketId().then(() => true), retry.closed.then(() => false)]);
      retry.ws.close();
    }
    expect(admitted).toBe(true);
    second.ws.close();
  });
});

describe('bad input', () => {
  it('answers malformed JSON, unknown events and oversize frames with pusher:error and keeps serving', async () => {
    const socket = rawSocket(hub.gatewayPort, appPath(project.key));
    await socket.socketId();
    socket.send('{not json');
    expect((await socket.next((f) => f.event === 'pusher:error', 'malformed')).data.message).toBe(
      'Malformed JSON',
    );
    socket.send({ event: 'pusher:frobnicate', data: {} });
    expect((await socket.next((f) => f.event === 'pusher:error', 'unknown')).data.message).toMatch(
      /Unknown event/,
    );
    socket.send({ event: 'pusher:ping', data: 'x'.repeat(20_000) });
    expect((await socket.next((f) => f.event === 'pusher:error', 'oversize')).data.message).toMatch(
      /exceeds/,
    );
    socket.send([1, 2]);
    await socket.next((f) => f.event === 'pusher:error', 'not an object');
    socket.send({ event: 'pusher:subscribe', data: { channel: 'bad name!' } });
    await socket.next((f) => f.event === 'pusher:error', 'bad channel name');
    socket.send({ event: 'pusher:ping', data: {} });
    await socket.next((f) => f.event === 'pusher:pong', 'still serving');

    // Beyond the hard limit the socket is closed with a Pusher code (the next test has the
    // details); the process serves on.
    socket.send({ event: 'x', data: 'x'.repeat(100_000) });
    expect((await within(socket.closed, 'close')).code).toBe(4300);
    const after = rawSocket(hub.gatewayPort, appPath(project.key));
    await after.socketId();
    after.ws.close();
  });

  it('closes a frame over the hard limit with a Pusher code (4300), not a bare transport cut', async () => {
    for (const size of [64 * 1024 + 1, 512 * 1024]) {
      const socket = rawSocket(hub.gatewayPort, appPath(project.key));
      await socket.socketId();
      socket.send({ event: 'pusher:ping', data: 'x'.repeat(size) });
      const closed = await within(socket.closed, `close after a ${size}-byte frame`);
      expect(closed.code).toBe(4300);
      expect(socket.frames.at(-1)).toEqual({
        event: 'pusher:error',
        data: { code: 4300, message: 'Frame exceeds 65536 bytes' },
      });
    }
  });
});

describe('liveness', () => {
  it('pings a silent client and closes it with 4201 when no pong comes', async () => {
    const gateway = await startGateway({
      port: 0,
      services: hub.running.services,
      activityTimeoutSec: 1,
      pongTimeoutMs: 500,
    });
    try {
      const socket = rawSocket(gateway.port, appPath(project.key));
      expect(
        (await socket.next((f) => f.event === 'pusher:connection_established', 'handshake')).data,
      ).toMatchObject({
        activity_timeout: 1,
      });
      await socket.next((f) => f.event === 'pusher:ping', 'first ping', 5_000);
      socket.send({ event: 'pusher:pong', data: {} });
      await socket.next((f) => f.event === 'pusher:ping', 'second ping', 5_000);
      expect((await within(socket.closed, 'close', 5_000)).code).toBe(4201);
    } finally {
      await gateway.close();
    }
  });
});

describe('user channel and hook points', () => {
  it('marks the user online, replays through the hook, accepts custom events and reports occupancy', async () => {
    const occupancy: string[] = [];
    const gateway = await startGateway({
      port: 0,
      services: hub.running.services,
      hooks: {
        channelOccupied: (_, channel) => occupancy.push(`+${channel}`),
        channelVacated: (_, channel) => occupancy.push(`-${channel}`),
        userChannelSubscribed: async (_, userId) => ({
          events: [{ event: 'notification', data: JSON.stringify({ userId }) }],
          readAt: 1,
        }),
        customEvent: (_, __, userId, event, data) =>
          event === 'tocsin:ack' && userId === 'u7' && data !== null ? 'accepted' : 'unknown',
      },
    });
    const api = createGatewayApi(hub.running.services);
    try {
      const socket = rawSocket(gateway.port, appPath(project.key));
      const socketId = await socket.socketId();
      const { auth } = pusherServer('http://127.0.0.1:1', project).authorizeChannel(
        socketId,
        'private-user-u7',
      );
      socket.send({ event: 'pusher:subscribe', data: { channel: 'private-user-u7', auth } });
      await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded', 'subscription');
      expect(await socket.next((f) => f.event === 'notification', 'the replayed event')).toEqual({
        event: 'notification',
        channel: 'private-user-u7',
        data: { userId: 'u7' },
      });
      await eventually(() => api.isUserOnline(project.id, 'u7'), 'u7 is online');
      expect(await api.onlineUsers(project.id)).toContain('u7');

      const delivered = socket.next(
        (f) => f.event === 'notification' && f.data.id === 'n1',
        'a live delivery',
      );
      await api.deliverToUser(project.id, 'u7', 'notification', JSON.stringify({ id: 'n1' }));
      await delivered;

      socket.send({ event: 'tocsin:ack', data: { id: 'n1' } });
      socket.send({ event: 'pusher:ping', data: {} });
      await socket.next((f) => f.event === 'pusher:pong', 'pong');
      expect(socket.frames.some((f) => f.event === 'pusher:error')).toBe(false);

      socket.ws.close();
      await eventually(async () => !(await api.isUserOnline(project.id, 'u7')), 'u7 is offline');
      await eventually(async () => occupancy.length === 2, 'occupancy reported');
      expect(occupancy).toEqual(['+private-user-u7', '-private-user-u7']);
    } finally {
      await gateway.close();
    }
  });
});
