// The gateway's per-socket limits (issue 17: replay amplification, ack floods), each at its
// boundary: subscribe/unsubscribe frames and acknowledgements per second (4301 past them), the
// process's bound on acknowledgements waiting for Redis, and a re-subscription within
// GATEWAY_REPLAY_REPEAT_MS replaying only what is new.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../../src/core/ids.js';
import type { InboxItem } from '../../../src/domain/notifications.js';
import { keepForReplay, REPLAY_LIMIT } from '../../../src/domain/replay.js';
import { notificationHooks } from '../../../src/realtime/notifications.js';
import { CLOSE } from '../../../src/core/pusher/protocol.js';
import {
  appPath,
  createGatewayProject,
  pusherServer,
  rawSocket,
  type GatewayProject,
  type RawSocket,
} from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';

const SUBSCRIBES = 10;
const ACKS = 4;

let hub: TestHub;
let project: GatewayProject;
const sockets: RawSocket[] = [];

beforeAll(async () => {
  hub = await startHub(
    { GATEWAY_SUBSCRIBES_PER_SECOND: String(SUBSCRIBES), GATEWAY_ACKS_PER_SECOND: String(ACKS) },
    ['gateway'],
  );
  project = await createGatewayProject(hub.running.services);
  await hub.running.services.redis.set(hub.running.services.keys.tagged(project.id, 'replay-ready'), '1');
});
afterAll(async () => {
  sockets.forEach((s) => s.ws.close());
  await hub.close();
});

async function connect() {
  const socket = rawSocket(hub.gatewayPort, appPath(project.key));
  sockets.push(socket);
  return { socket, socketId: await socket.socketId() };
}

const subscribeFrame = (socketId: string, channel: string) => ({
  event: 'pusher:subscribe',
  data: {
    channel,
    auth: pusherServer('http://127.0.0.1:1', project).authorizeChannel(socketId, channel).auth,
  },
});

const item = (id: string): InboxItem => ({
  id,
  kind: 'alert',
  ruleId: null,
  alertId: null,
  alertStep: null,
  eventId: null,
  title: 'Replayed',
  body: '',
  data: null,
  action: null,
  priority: 0,
  sound: null,
  createdAt: new Date(),
  receivedAt: new Date(),
  channel: null,
  deliveredAt: null,
  readAt: null,
  acknowledgedAt: null,
});

describe('per-socket frame limits', () => {
  it(`allows ${SUBSCRIBES} subscribe/unsubscribe frames a second and closes the next with 4301`, async () => {
    const { socket, socketId } = await connect();
    for (let i = 0; i < SUBSCRIBES / 2; i++) {
      socket.send(subscribeFrame(socketId, `private-a${i}`));
      socket.send({ event: 'pusher:unsubscribe', data: { channel: `private-a${i}` } });
    }
    socket.send({ event: 'pusher:ping', data: {} });
    await socket.next((f) => f.event === 'pusher:pong', 'still open at the limit');
    socket.send(subscribeFrame(socketId, 'private-over'));
    expect((await socket.closed).code).toBe(CLOSE.rateLimited);
  });

  it(`accepts ${ACKS} acknowledgements a second and closes the next with 4301`, async () => {
    const { socket, socketId } = await connect();
    const userId = uuidv7();
    socket.send(subscribeFrame(socketId, `private-user-${userId}`));
    await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded', 'subscription');
    for (let i = 0; i < ACKS; i++) socket.send({ event: 'tocsin:ack', data: { id: uuidv7() } });
    socket.send({ event: 'pusher:ping', data: {} });
    await socket.next((f) => f.event === 'pusher:pong', 'still open at the limit');
    expect(socket.frames.some((f) => f.event === 'pusher:error')).toBe(false);
    socket.send({ event: 'tocsin:ack', data: { id: uuidv7() } });
    expect((await socket.closed).code).toBe(CLOSE.rateLimited);
  });

  it('holds at most GATEWAY_ACK_QUEUE acknowledgements waiting for Redis, then says overloaded', async () => {
    const services = hub.running.services;
    const config = { ...services.config, gateway: { ...services.config.gateway, ackQueue: 2 } };
    const hooks = notificationHooks({ ...services, config });
    const ack = () => hooks.customEvent(project.id, '1.1', uuidv7(), 'tocsin:ack', { id: uuidv7() });
    // Synchronously, before Redis answered any of them.
    expect([ack(), ack(), ack()]).toEqual(['accepted', 'accepted', 'overloaded']);
  });
});

describe('replay amplification', () => {
  it('replays a full backlog once; re-subscribing within the window sends only what is new', async () => {
    const userId = uuidv7();
    // One short of the bound, so a newer one still fits.
    const backlog = Array.from({ length: REPLAY_LIMIT - 1 }, () => item(uuidv7()));
    await keepForReplay(
      hub.running.services,
      project.id,
      backlog.map((i) => ({ userId, item: i })),
    );
    const { socket, socketId } = await connect();
    const channel = `private-user-${userId}`;
    const notifications = () => socket.frames.filter((f) => f.event === 'notification').length;
    socket.send(subscribeFrame(socketId, channel));
    await socket.next(
      (f) => f.event === 'notification' && f.data.id === backlog.at(-1)!.id,
      'the full replay',
    );
    for (let i = 0; i < 2; i++) {
      socket.send({ event: 'pusher:unsubscribe', data: { channel } });
      socket.send(subscribeFrame(socketId, channel));
      await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded', 'a re-subscription');
    }
    expect(notifications()).toBe(backlog.length);

    const fresh = item(uuidv7());
    await keepForReplay(hub.running.services, project.id, [{ userId, item: fresh }]);
    socket.send({ event: 'pusher:unsubscribe', data: { channel } });
    socket.send(subscribeFrame(socketId, channel));
    await socket.next((f) => f.event === 'notification' && f.data.id === fresh.id, 'only the new one');
    socket.send({ event: 'pusher:ping', data: {} });
    await socket.next((f) => f.event === 'pusher:pong', 'after the replay');
    expect(notifications()).toBe(backlog.length + 1);
  });
});
