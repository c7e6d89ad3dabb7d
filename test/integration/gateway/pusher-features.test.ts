// The Pusher Channels features beyond plain pub/sub, on two gateway nodes sharing Redis:
// `pusher_internal:subscription_count` (a project setting, rate-limited per channel), cache
// channels (last event on subscribe, `pusher:cache_miss` otherwise, kept for the project's TTL)
// and watchlist online/offline events for signed-in users (bounded watchlists).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayApi, type GatewayApi } from '../../../src/realtime/api.js';
import { createChannels } from '../../../src/realtime/channels.js';
import { nodeKeys } from '../../../src/realtime/nodes.js';
import { ONLINE, createPresence } from '../../../src/realtime/presence.js';
import { LIMITS } from '../../../src/core/pusher/protocol.js';
import { startGateway, type Gateway } from '../../../src/gateway/server.js';
import { api, expectError, superAdminToken } from '../../support/api.js';
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
  type Frame,
  type GatewayProject,
  type PusherClient,
  type RawSocket,
} from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';

let hub: TestHub;
/** A second node in this process: its own uWS app and node id, the same Redis and bus. */
let second: Gateway;
let gateway: GatewayApi;
const cacheMisses: string[] = [];
const clients: PusherClient[] = [];
const sockets: RawSocket[] = [];

beforeAll(async () => {
  hub = await startHub({}, ['api', 'gateway']);
  await hub.running.prepared;
  second = await startGateway({
    port: 0,
    services: hub.running.services,
    hooks: { cacheMiss: (projectId, channel) => cacheMisses.push(`${projectId}/${channel}`) },
  });
  gateway = createGatewayApi(hub.running.services);
});
afterAll(async () => {
  clients.forEach((c) => c.disconnect());
  sockets.forEach((s) => s.ws.close());
  await second?.close();
  await hub.close();
});

const ports = () => [hub.gatewayPort, second.port] as const;

function client(node: 0 | 1, project: GatewayProject, options?: Parameters<typeof connectPusher>[2]) {
  const created = connectPusher(ports()[node], project, options);
  clients.push(created);
  return created;
}

/** A raw socket on a node, subscribed to `channel` (signed when it must be). */
async function rawSubscribed(node: 0 | 1, project: GatewayProject, channel: string, userId = 'u1') {
  const socket = rawSocket(ports()[node], appPath(project.key));
  sockets.push(socket);
  const socketId = await socket.socketId();
  const signer = pusherServer('http://127.0.0.1:1', project);
  const data: Record<string, unknown> = { channel };
  if (channel.startsWith('presence-')) {
    Object.assign(data, signer.authorizeChannel(socketId, channel, { user_id: userId }));
  } else if (channel.startsWith('private-')) {
    Object.assign(data, signer.authorizeChannel(socketId, channel));
  }
  socket.send({ event: 'pusher:subscribe', data });
  await socket.next(
    (f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === channel,
    `the subscription to ${channel}`,
  );
  return socket;
}

/** The frame right after `subscription_succeeded` on that channel. */
const firstAfterSubscribe = (socket: RawSocket, channel: string) =>
  socket.next((f) => f.channel === channel, `the first frame on ${channel}`);

const updateSettings = (projectId: string, gatewaySettings: Record<string, unknown>, sa: string) =>
  api(hub, 'PUT', `/api/v1/projects/${projectId}`, { settings: { gateway: gatewaySettings } }, { token: sa });

describe('settings of these features', () => {
  it('bounds the subscription-count interval and the cache TTL, refusing one past each end', async () => {
    const sa = await superAdminToken(hub);
    const project = await createGatewayProject(hub.running.services);
    for (const accepted of [
      { subscriptionCountIntervalMs: 100 },
      { subscriptionCountIntervalMs: 60_000 },
      { cacheTtlSeconds: 1 },
      { cacheTtlSeconds: 1_800 },
    ]) {
      const res = await updateSettings(project.id, { subscriptionCount: true, ...accepted }, sa);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.settings.gateway).toMatchObject(accepted);
    }
    for (const refused of [
      { subscriptionCountIntervalMs: 99 },
      { subscriptionCountIntervalMs: 60_001 },
      { cacheTtlSeconds: 0 },
      { cacheTtlSeconds: 1_801 },
    ]) {
      expectError(await updateSettings(project.id, refused, sa), 400);
    }
  });

  it('leaves subscription counting and watchlist events off by default', async () => {
    const project = await createGatewayProject(hub.running.services);
    const settings = (await gateway.apps.byKey(project.key))!.settings;
    expect(settings).toMatchObject({
      subscriptionCount: false,
      subscriptionCountIntervalMs: 1_000,
      watchlistEvents: false,
      cacheTtlSeconds: 1_800,
    });
  });
});

describe('pusher_internal:subscription_count', () => {
  it('sends the count on every node, at most once per interval per channel, the last move included', async () => {
    const project = await createGatewayProject(hub.running.services, {
      settings: { gateway: { subscriptionCount: true, subscriptionCountIntervalMs: 2_000 } },
    });
    const ann = client(0, project);
    const counts: number[] = [];
    const room = await subscribed(ann, 'room');
    room.bind('pusher:subscription_count', (data: { subscription_count: number }) =>
      counts.push(data.subscription_count),
    );
    await eventually(async () => counts.length === 1, 'the first count');
    expect(counts).toEqual([1]);

    // Two more subscribers inside the interval: one event at its end, with both counted.
    const third = nextEvent<{ subscription_count: number }>(room, 'pusher:subscription_count');
    const bob = client(1, project);
    const carl = client(0, project);
    const bobRoom = await subscribed(bob, 'room');
    const onBob = nextEvent<{ subscription_count: number }>(bobRoom, 'pusher:subscription_count');
    await subscribed(carl, 'room');
    expect(await third).toEqual({ subscription_count: 3 });
    expect(await onBob).toEqual({ subscription_count: 3 });
    expect(counts).toEqual([1, 3]);
    expect(room.subscriptionCount).toBe(3);

    const left = nextEvent<{ subscription_count: number }>(room, 'pusher:subscription_count');
    carl.unsubscribe('room');
    expect(await left).toEqual({ subscription_count: 2 });
  });

  it('announces the count a dead node left behind once its subscriptions are reaped', async () => {
    const project = await createGatewayProject(hub.running.services, {
      settings: { gateway: { subscriptionCount: true, subscriptionCountIntervalMs: 100 } },
    });
    const { redis, keys } = hub.running.services;
    // A subscription held by a node that is gone without closing it.
    const deadNode = `dead-${process.pid}-${Date.now()}`;
    await createChannels({ redis, keys, nodeId: () => deadNode }).change(project.id, 'room', 1);
    const room = await subscribed(client(0, project), 'room');
    expect(await nextEvent(room, 'pusher:subscription_count')).toEqual({ subscription_count: 2 });

    const reaped = nextEvent(room, 'pusher:subscription_count', 20_000);
    const registry = nodeKeys(keys);
    await redis.multi().sadd(registry.projects(deadNode), project.id).sadd(registry.nodes, deadNode).exec();
    expect(await reaped).toEqual({ subscription_count: 1 });
  });

  it('is not sent when the project did not enable it, nor on presence channels', async () => {
    const off = await createGatewayProject(hub.running.services);
    const on = await createGatewayProject(hub.running.services, {
      settings: { gateway: { subscriptionCount: true, subscriptionCountIntervalMs: 100 } },
    });
    const watched = [
      { project: off, channel: 'room', socket: await rawSubscribed(0, off, 'room', 'a') },
      { project: on, channel: 'presence-room', socket: await rawSubscribed(0, on, 'presence-room', 'a') },
    ];
    for (const { project, channel } of watched) {
      await rawSubscribed(1, project, channel, 'b');
      await eventually(
        async () => (await gateway.channel(project.id, channel)).subscriptionCount === 2,
        `two subscriptions to ${channel}`,
      );
    }
    // The counts moved before these markers were published: a count event would precede them.
    for (const { project, channel, socket } of watched) {
      await gateway.trigger(project.id, [{ channels: [channel], name: 'marker', data: '{}' }]);
      await socket.next((f) => f.event === 'marker', 'the marker');
      expect(socket.frames.filter((f) => f.event === 'pusher_internal:subscription_count')).toEqual([]);
    }
  });
});

describe('cache channels', () => {
  it.each(['cache-board', 'private-cache-board', 'private-encrypted-cache-board', 'presence-cache-board'])(
    '%s: a cache miss first, then the last event triggered, on either node',
    async (channel) => {
      const project = await createGatewayProject(hub.running.services);
      const sdk = pusherServer(hub.apiUrl, project);
      const first = await rawSubscribed(1, project, channel, 'first');
      expect(await firstAfterSubscribe(first, channel)).toEqual({ event: 'pusher:cache_miss', channel });
      expect(cacheMisses).toContain(`${project.id}/${channel}`);

      await sdk.trigger(channel, 'score', { home: 1 });
      const live = await first.next((f) => f.event === 'score', 'the live event');
      await sdk.trigger(channel, 'score', { home: 2 });
      const latest = await first.next((f) => f.event === 'score', 'the second live event');
      expect(latest.data).not.toEqual(live.data);

      for (const node of [0, 1] as const) {
        const late = await rawSubscribed(node, project, channel, `late-${node}`);
        const cached = await firstAfterSubscribe(late, channel);
        expect(cached).toEqual({ event: 'score', channel, data: latest.data } satisfies Frame);
      }
    },
  );

  it('keeps the last event in Redis under the project hash tag, for the project TTL', async () => {
    const project = await createGatewayProject(hub.running.services, {
      settings: { gateway: { cacheTtlSeconds: 5 } },
    });
    await gateway.trigger(project.id, [{ channels: ['cache-ttl'], name: 'e', data: '"x"' }]);
    const { redis, keys } = hub.running.services;
    const key = keys.tagged(project.id, 'gw-cache', 'cache-ttl');
    expect(key).toContain(`{${project.id}}`);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
  });

  it('caches no client event and never shows one project the cache of another', async () => {
    const project = await createGatewayProject(hub.running.services, {
      settings: { gateway: { clientEvents: true } },
    });
    const other = await createGatewayProject(hub.running.services);
    await gateway.trigger(project.id, [{ channels: ['cache-shared'], name: 'mine', data: '{}' }]);
    const stranger = await rawSubscribed(0, other, 'cache-shared');
    expect(await firstAfterSubscribe(stranger, 'cache-shared')).toEqual({
      event: 'pusher:cache_miss',
      channel: 'cache-shared',
    });

    const sender = await rawSubscribed(0, project, 'private-cache-chat');
    await firstAfterSubscribe(sender, 'private-cache-chat'); // its cache miss
    const peer = await rawSubscribed(1, project, 'private-cache-chat', 'peer');
    await firstAfterSubscribe(peer, 'private-cache-chat');
    sender.send({ event: 'client-typing', channel: 'private-cache-chat', data: { on: true } });
    await peer.next((f) => f.event === 'client-typing', 'the client event');
    const late = await rawSubscribed(1, project, 'private-cache-chat', 'late');
    expect(await firstAfterSubscribe(late, 'private-cache-chat')).toEqual({
      event: 'pusher:cache_miss',
      channel: 'private-cache-chat',
    });
  });
});

describe('watchlist events', () => {
  const watching = { settings: { gateway: { watchlistEvents: true } } };
  type WatchlistEvent = { name: string; user_ids: string[] };

  /** Records the watchlist events a signed-in client receives, by name. */
  function watchlistOf(pusher: PusherClient): WatchlistEvent[] {
    const seen: WatchlistEvent[] = [];
    for (const name of ['online', 'offline']) {
      pusher.user.watchlist.bind(name, (event: WatchlistEvent) => seen.push(event));
    }
    return seen;
  }

  async function signedIn(node: 0 | 1, project: GatewayProject, user: { id: string; watchlist?: string[] }) {
    const pusher = client(node, project, { user });
    await connected(pusher);
    pusher.signin();
    await within(pusher.user.signinDonePromise!, `the sign-in of ${user.id}`);
    return pusher;
  }

  const online = (project: GatewayProject, userId: string) =>
    eventually(async () => gateway.isUserOnline(project.id, userId), `${userId} online`);

  it("sends the watched users' status at sign-in, then each change, from any node", async () => {
    const project = await createGatewayProject(hub.running.services, watching);
    await signedIn(1, project, { id: 'bob' });
    await online(project, 'bob');

    const pusher = client(0, project, { user: { id: 'ann', watchlist: ['bob', 'carl'] } });
    const seen = watchlistOf(pusher);
    await connected(pusher);
    pusher.signin();
    await eventually(async () => seen.length === 2, 'the status at sign-in');
    expect(seen).toEqual([
      { name: 'online', user_ids: ['bob'] },
      { name: 'offline', user_ids: ['carl'] },
    ]);

    const carl = await signedIn(1, project, { id: 'carl' });
    await eventually(async () => seen.length === 3, 'carl online');
    expect(seen[2]).toEqual({ name: 'online', user_ids: ['carl'] });
    carl.disconnect();
    await eventually(async () => seen.length === 4, 'carl offline');
    expect(seen[3]).toEqual({ name: 'offline', user_ids: ['carl'] });
  });

  it("reports a user's first connection and last one only, and nothing of another project", async () => {
    const project = await createGatewayProject(hub.running.services, watching);
    const other = await createGatewayProject(hub.running.services, watching);
    const pusher = client(0, project, { user: { id: 'ann', watchlist: ['bob', 'dave'] } });
    const seen = watchlistOf(pusher);
    await connected(pusher);
    pusher.signin();
    await eventually(async () => seen.length === 1, 'the status at sign-in');

    await signedIn(1, project, { id: 'bob' });
    await eventually(async () => seen.length === 2, 'bob online');
    // The online group counts connections per user: bob's second one opens and closes.
    const { redis, keys } = hub.running.services;
    const bobs = (count: string) => async () =>
      (await redis.hget(keys.projectKey(project.id, 'gw', 'members', 'online'), 'bob')) === count;
    const again = await signedIn(0, project, { id: 'bob' });
    await eventually(bobs('2'), "bob's second connection counted");
    again.disconnect();
    await eventually(bobs('1'), "bob's second connection gone");
    // The same user id in another project.
    await signedIn(1, other, { id: 'dave' });
    await online(other, 'dave');
    // Published after all of the above: nothing of it may come before this.
    await signedIn(1, project, { id: 'dave' });
    await eventually(async () => seen.length === 3, 'dave online');
    expect(seen.slice(1)).toEqual([
      { name: 'online', user_ids: ['bob'] },
      { name: 'online', user_ids: ['dave'] },
    ]);
  });

  it('tells watchers a user went offline when the node holding them died', async () => {
    const project = await createGatewayProject(hub.running.services, watching);
    const { redis, keys } = hub.running.services;
    // Eve's only connection is on a node that is gone without closing it.
    const deadNode = `dead-${process.pid}-${Date.now()}`;
    await createPresence({ redis, keys, nodeId: () => deadNode }).join(project.id, ONLINE, '1.1', {
      userId: 'eve',
    });
    const pusher = client(0, project, { user: { id: 'ann', watchlist: ['eve'] } });
    const seen = watchlistOf(pusher);
    await connected(pusher);
    pusher.signin();
    await eventually(async () => seen.length === 1, 'the status at sign-in');
    expect(seen[0]).toEqual({ name: 'online', user_ids: ['eve'] });

    // Known as a node whose lease ran out: a live node reaps it.
    const registry = nodeKeys(keys);
    await redis.multi().sadd(registry.projects(deadNode), project.id).sadd(registry.nodes, deadNode).exec();
    await eventually(async () => seen.length === 2, 'eve offline', 20_000);
    expect(seen[1]).toEqual({ name: 'offline', user_ids: ['eve'] });
  });

  it('does not read the watchlist of a project that did not enable watchlist events', async () => {
    const project = await createGatewayProject(hub.running.services);
    const socket = rawSocket(hub.gatewayPort, appPath(project.key));
    sockets.push(socket);
    const watchlist = Array.from({ length: LIMITS.watchlistUsers + 1 }, (_, i) => `user-${i}`);
    const signin = pusherServer('http://127.0.0.1:1', project).authenticateUser(await socket.socketId(), {
      id: 'ann',
      watchlist,
    } as never);
    socket.send({ event: 'pusher:signin', data: signin });
    await socket.next((f) => f.event === 'pusher:signin_success', 'the sign-in');
    expect(socket.frames.map((f) => f.event)).not.toContain('pusher:error');
  });

  it(`signs in with ${LIMITS.watchlistUsers} watched users and refuses one more`, async () => {
    const project = await createGatewayProject(hub.running.services, watching);
    const signer = pusherServer('http://127.0.0.1:1', project);
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `user-${i}`);
    const at = async (watchlist: unknown) => {
      const socket = rawSocket(hub.gatewayPort, appPath(project.key));
      sockets.push(socket);
      const signin = signer.authenticateUser(await socket.socketId(), { id: 'ann', watchlist } as never);
      socket.send({ event: 'pusher:signin', data: signin });
      return socket.next((f) => f.event === 'pusher:signin_success' || f.event === 'pusher:error', 'answer');
    };
    expect((await at(ids(LIMITS.watchlistUsers))).event).toBe('pusher:signin_success');
    expect(await at(ids(LIMITS.watchlistUsers + 1))).toMatchObject({
      event: 'pusher:error',
      data: { code: 4300, message: `A watchlist holds at most ${LIMITS.watchlistUsers} user ids` },
    });
    expect(await at(['bob', 7])).toMatchObject({
      event: 'pusher:error',
      data: { code: 4300, message: expect.stringContaining('array of user id strings') },
    });
  });
});
