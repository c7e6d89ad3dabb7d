// Two gateway processes sharing Redis behave as one: events published through the API or
// either node's own Pusher HTTP API (local-first) reach subscribers on both exactly once,
// presence and counts agree, client events cross nodes; a node killed with -9 loses its
// members within the lease; SIGTERM closes sockets with 4200.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel } from 'pusher-js';
import { startHub, type TestHub } from '../../support/hub.js';
import { listeningPort, runTocsin, stopChildren, type TocsinProcess } from '../../support/process.js';
import {
  appPath,
  connectPusher,
  createGatewayProject,
  eventually,
  nextEvent,
  pusherServer,
  rawSocket,
  recordEvents,
  subscribed,
  within,
  type GatewayProject,
  type PusherClient,
} from '../../support/gateway.js';

/** Shorter than the default, so the -9 test also shows GATEWAY_LEASE_MS is what bounds it. */
const LEASE_MS = 4_000;

let hub: TestHub;
let project: GatewayProject;
const nodes: Array<{ proc: TocsinProcess; port: number }> = [];
const clients: PusherClient[] = [];

/** Child start budget: two processes booting at once on a loaded 2-core machine. */
const NODE_START_MS = 60_000;

async function startNode() {
  // Port 0: the OS picks a free port and the node logs which (no probe-then-bind race).
  const proc = runTocsin(['start', '--role', 'gateway'], {
    GATEWAY_PORT: '0',
    GATEWAY_LEASE_MS: String(LEASE_MS),
  });
  const port = await listeningPort(proc, 'Gateway', NODE_START_MS);
  await proc.waitForOutput(/Tocsin is running/, NODE_START_MS);
  return { proc, port };
}

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  await hub.running.prepared;
  project = await createGatewayProject(hub.running.services, {
    settings: { gateway: { clientEvents: true } },
  });
  nodes.push(...(await Promise.all([startNode(), startNode()])));
}, NODE_START_MS + 30_000);
afterAll(async () => {
  clients.forEach((c) => c.disconnect());
  await stopChildren();
  await hub.close();
});

const member = (node: number, userId: string) => {
  const client = connectPusher(nodes[node]!.port, project, {
    member: { user_id: userId, user_info: { node } },
  });
  clients.push(client);
  return client;
};

/** Records member_added/removed as "+id"/"-id". */
function membership(channel: Channel): string[] {
  const seen: string[] = [];
  channel.bind('pusher:member_added', (m: { id: string }) => seen.push(`+${m.id}`));
  channel.bind('pusher:member_removed', (m: { id: string }) => seen.push(`-${m.id}`));
  return seen;
}

const api = () => pusherServer(hub.apiUrl, project);
const channelInfo = async (name: string) =>
  (await api().get({ path: `/channels/${name}`, params: { info: 'user_count,subscription_count' } })).json();

describe('two gateway nodes', () => {
  it('share presence, counts, API events and client events', async () => {
    const watcherA = await subscribed(member(0, 'watcher'), 'presence-team');
    const seenA = membership(watcherA);
    const aliceJoined = nextEvent(watcherA, 'pusher:member_added');
    const aliceOnA = await subscribed(member(0, 'alice'), 'presence-team');
    await aliceJoined;
    const joinedFromB = nextEvent<{ id: string }>(watcherA, 'pusher:member_added');
    const bobOnB = await subscribed(member(1, 'bob'), 'presence-team');
    expect(await joinedFromB).toMatchObject({ id: 'bob', info: { node: 1 } });
    // alice again, through the other node: no second member_added anywhere.
    const aliceOnB = await subscribed(member(1, 'alice'), 'presence-team');
    expect((aliceOnB as unknown as { members: { count: number } }).members.count).toBe(3);

    const everyone = [watcherA, aliceOnA, bobOnB, aliceOnB];
    const received = everyone.map(recordEvents);
    const markers = everyone.map((channel) => nextEvent(channel, 'marker'));
    await api().trigger('presence-team', 'broadcast', { n: 1 });
    await api().trigger('presence-team', 'marker', {});
    await Promise.all(markers);
    for (const events of received) expect(events.map((e) => e.event)).toEqual(['broadcast', 'marker']);

    const relayed = nextEvent(watcherA, 'client-note');
    (bobOnB as unknown as { trigger(event: string, data: unknown): boolean }).trigger('client-note', {
      from: 'bob',
    });
    expect(await relayed).toEqual({ from: 'bob' });

    expect(seenA).toEqual(['+alice', '+bob']);
    expect(await channelInfo('presence-team')).toEqual({
      occupied: true,
      user_count: 3,
      subscription_count: 4,
    });
  });

  it('delivers events triggered on either node, and through the API, to every subscriber once', async () => {
    const subscribers = await Promise.all(
      [0, 0, 1, 1].map(async (node) => {
        const client = connectPusher(nodes[node]!.port, project);
        clients.push(client);
        return subscribed(client, 'fanout');
      }),
    );
    const seen = subscribers.map(recordEvents);
    // Each node serves the Pusher HTTP API on its gateway port, as Soketi does.
    const senders = [
      pusherServer(`http://127.0.0.1:${nodes[0]!.port}`, project),
      pusherServer(`http://127.0.0.1:${nodes[1]!.port}`, project),
      api(),
    ];
    const sent: string[] = [];
    for (let round = 0; round < 5; round++) {
      for (const [i, sender] of senders.entries()) {
        const ids = [`${i}.${round}.a`, `${i}.${round}.b`];
        await sender.trigger('fanout', 'tick', { id: ids[0] });
        await sender.triggerBatch([
          { channel: 'fanout', name: 'tick', data: JSON.stringify({ id: ids[1] }) },
        ]);
        sent.push(...ids);
      }
    }
    // Published after every earlier bus copy: once each node's subscribers have the other node's
    // marker, a second delivery of anything above would already have arrived.
    const markers = subscribers.map((channel) =>
      within(
        new Promise<void>((resolve) => {
          const got = new Set<number>();
          channel.bind('marker', ({ from }: { from: number }) => got.add(from).size === 2 && resolve());
        }),
        'both markers',
      ),
    );
    await senders[0]!.trigger('fanout', 'marker', { from: 0 });
    await senders[1]!.trigger('fanout', 'marker', { from: 1 });
    await Promise.all(markers);
    for (const events of seen) {
      const ticks = events.filter((e) => e.event === 'tick').map((e) => (e.data as { id: string }).id);
      expect(ticks.sort()).toEqual([...sent].sort());
    }
  });

  it('removes the members of a node killed with -9 within the lease, once', async () => {
    const watcher = await subscribed(member(0, 'observer'), 'presence-crash');
    const seen = membership(watcher);
    const survivorAdded = nextEvent(watcher, 'pusher:member_added');
    await subscribed(member(0, 'survivor'), 'presence-crash');
    await survivorAdded;
    const doomedAdded = nextEvent(watcher, 'pusher:member_added');
    await subscribed(member(1, 'doomed'), 'presence-crash');
    await subscribed(member(1, 'survivor'), 'presence-crash'); // survivor also has a socket on the doomed node
    await doomedAdded;

    const removed = nextEvent<{ id: string }>(watcher, 'pusher:member_removed', LEASE_MS + 10_000);
    nodes[1]!.proc.child.kill('SIGKILL');
    await nodes[1]!.proc.exited;
    expect(await removed).toMatchObject({ id: 'doomed' });
    // "Once": wait until the reap is over (the dead node's index is gone), then for a marker
    // sent after it, so a second member_removed would have arrived before the lists are read.
    const { redis, keys } = hub.running.services;
    await eventually(
      async () => (await redis.keys(keys.projectKey(project.id, 'gw', 'node', '*', 'members'))).length === 1,
      "the dead node's presence index is reaped",
      LEASE_MS + 10_000,
    );
    const marker = nextEvent(watcher, 'marker');
    await api().trigger('presence-crash', 'marker', {});
    await marker;

    expect(await channelInfo('presence-crash')).toEqual({
      occupied: true,
      user_count: 2,
      subscription_count: 2,
    });
    const users = (await (await api().get({ path: '/channels/presence-crash/users' })).json()) as {
      users: object[];
    };
    expect(users.users).toEqual(expect.arrayContaining([{ id: 'observer' }, { id: 'survivor' }]));
    expect(seen).toEqual(['+survivor', '+doomed', '-doomed']);
  });

  it('closes its sockets with 4200 on SIGTERM and exits 0', async () => {
    const socket = rawSocket(nodes[0]!.port, appPath(project.key));
    await socket.socketId();
    nodes[0]!.proc.child.kill('SIGTERM');
    expect((await within(socket.closed, 'close')).code).toBe(4200);
    expect(await nodes[0]!.proc.exited).toEqual({ code: 0, signal: null });
  });
});
