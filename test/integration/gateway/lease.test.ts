// A gateway node that finds its own Redis lease gone (it expired while Redis was away, or a
// reaper already took the node's state): it closes its sockets with 4200 so clients reconnect
// and rebuild their state, carries on under a new id, and what it held under the old id is
// reaped — the presence members it held leave once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresence } from '../../../src/realtime/presence.js';
import { CLOSE } from '../../../src/core/pusher/protocol.js';
import { startGateway, type Gateway } from '../../../src/gateway/server.js';
import {
  appPath,
  createGatewayProject,
  eventually,
  pusherServer,
  rawSocket,
  within,
  type GatewayProject,
  type RawSocket,
} from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';

const LEASE_MS = 1_000;

let hub: TestHub;
let project: GatewayProject;
let gateway: Gateway;
const sockets: RawSocket[] = [];

beforeAll(async () => {
  hub = await startHub({}, ['gateway']);
  project = await createGatewayProject(hub.running.services);
  gateway = await startGateway({ port: 0, services: hub.running.services, leaseMs: LEASE_MS });
});
afterAll(async () => {
  sockets.forEach((s) => s.ws.close());
  await gateway.close();
  await hub.close();
});

const leaseKey = (nodeId: string) => hub.running.services.keys.system('gw', 'node', nodeId, 'lease');

/** A socket on `port` joined to `channel` as presence member `userId`. */
async function member(port: number, channel: string, userId: string) {
  const socket = rawSocket(port, appPath(project.key));
  sockets.push(socket);
  const socketId = await socket.socketId();
  const auth = pusherServer('http://127.0.0.1:1', project).authorizeChannel(socketId, channel, {
    user_id: userId,
  });
  socket.send({ event: 'pusher:subscribe', data: { channel, ...auth } });
  await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded', `${userId} joined`);
  return socket;
}

describe('gateway lease loss', () => {
  it('closes its sockets with 4200, re-registers under a new id, and its old state is reaped', async () => {
    const { redis, keys } = hub.running.services;
    const channel = 'presence-lease';
    // A watcher on the hub's own gateway node, which keeps its lease.
    const watcher = await member(hub.gatewayPort, channel, 'watcher');
    const held = await member(gateway.port, channel, 'held');
    await watcher.next((f) => f.event === 'pusher_internal:member_added', 'held joins');
    const oldId = gateway.nodeId();
    expect(await redis.exists(leaseKey(oldId))).toBe(1);

    // The lease runs out as if Redis had been away for longer than LEASE_MS.
    await redis.del(leaseKey(oldId));

    const closed = await within(held.closed, 'the socket of the node that lost its lease closes');
    expect(closed.code).toBe(CLOSE.serverShutdown);
    const newId = gateway.nodeId();
    expect(newId).not.toBe(oldId);
    expect(await redis.exists(leaseKey(newId))).toBe(1);
    expect(await redis.sismember(keys.system('gw', 'nodes'), newId)).toBe(1);

    // The old id's members are removed (by the reaper, or by the socket's own close): once.
    const removed = await watcher.next(
      (f) => f.event === 'pusher_internal:member_removed',
      'held leaves',
      LEASE_MS * 10,
    );
    expect(removed.data).toEqual({ user_id: 'held' });
    const presence = createPresence({ redis, keys, nodeId: () => newId });
    await eventually(
      async () => (await redis.sismember(keys.system('gw', 'nodes'), oldId)) === 0,
      'the old id is reaped',
    );
    expect(await presence.userIds(project.id, channel)).toEqual(['watcher']);

    // The node serves on under its new id: a client reconnecting there is counted again.
    await member(gateway.port, channel, 'held');
    await watcher.next((f) => f.event === 'pusher_internal:member_added', 'held rejoins');
    expect((await presence.userIds(project.id, channel)).sort()).toEqual(['held', 'watcher']);
    watcher.send({ event: 'pusher:ping', data: {} });
    await watcher.next((f) => f.event === 'pusher:pong', 'after the rejoin');
    expect(watcher.frames.filter((f) => f.event === 'pusher_internal:member_removed')).toHaveLength(1);
  });
});
