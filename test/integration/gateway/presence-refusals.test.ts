// Presence channel refusals over the wire, each at its boundary: a channel holding
// LIMITS.presenceMembers users refuses the next user (4300) but not another connection of a
// member, and a correctly signed `channel_data` that is not JSON, has no user_id or carries a
// user_info over LIMITS.userInfoBytes is refused with 4009. The connection serves on after each.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresence } from '../../../src/realtime/presence.js';
import { CLOSE, LIMITS } from '../../../src/core/pusher/protocol.js';
import {
  appPath,
  createGatewayProject,
  rawSocket,
  type Frame,
  type GatewayProject,
  type RawSocket,
} from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';

let hub: TestHub;
let project: GatewayProject;
const sockets: RawSocket[] = [];

beforeAll(async () => {
  hub = await startHub({}, ['gateway']);
  project = await createGatewayProject(hub.running.services);
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

/** Signs `channelData` exactly as sent, as a project's auth endpoint would (Pusher's HMAC). */
const sign = (socketId: string, channel: string, channelData: string) =>
  `${project.key}:${createHmac('sha256', project.secret).update(`${socketId}:${channel}:${channelData}`).digest('hex')}`;

/** Subscribes with `channelData` signed; resolves to the answer: success or pusher:error. */
async function subscribe(socket: RawSocket, socketId: string, channel: string, channelData: string) {
  socket.send({
    event: 'pusher:subscribe',
    data: { channel, channel_data: channelData, auth: sign(socketId, channel, channelData) },
  });
  return socket.next(
    (f) =>
      f.channel === channel &&
      (f.event === 'pusher_internal:subscription_succeeded' || f.event === 'pusher:error'),
    `the answer to subscribing ${channel}`,
  );
}

async function stillServing(socket: RawSocket) {
  socket.send({ event: 'pusher:ping', data: {} });
  await socket.next((f) => f.event === 'pusher:pong', 'pong after the refusal');
}

const errorOf = (frame: Frame) => (frame.event === 'pusher:error' ? frame.data : undefined);

describe('a full presence channel', () => {
  it(`admits ${LIMITS.presenceMembers} users, refuses the next with 4300, and admits a member's second connection`, async () => {
    const channel = 'presence-full';
    const { redis, keys } = hub.running.services;
    // All but one member joined elsewhere (a node of their own), straight in Redis.
    const elsewhere = createPresence({ redis, keys, nodeId: () => 'elsewhere' });
    for (let i = 1; i < LIMITS.presenceMembers; i++) {
      await elsewhere.join(project.id, channel, `9.${i}`, { userId: `u${i}` }, LIMITS.presenceMembers);
    }
    const last = await connect();
    const admitted = await subscribe(
      last.socket,
      last.socketId,
      channel,
      JSON.stringify({ user_id: 'last' }),
    );
    expect(admitted.event).toBe('pusher_internal:subscription_succeeded');
    expect(admitted.data.presence.count).toBe(LIMITS.presenceMembers);

    const over = await connect();
    const refused = await subscribe(over.socket, over.socketId, channel, JSON.stringify({ user_id: 'over' }));
    expect(errorOf(refused)).toEqual({
      code: CLOSE.badMessage,
      message: `Presence channels hold at most ${LIMITS.presenceMembers} members`,
    });
    await stillServing(over.socket);

    // Another connection of a member is no new member.
    const again = await subscribe(over.socket, over.socketId, channel, JSON.stringify({ user_id: 'u1' }));
    expect(again.event).toBe('pusher_internal:subscription_succeeded');
    expect(again.data.presence.count).toBe(LIMITS.presenceMembers);
    const members = await elsewhere.userIds(project.id, channel);
    expect(members).toHaveLength(LIMITS.presenceMembers);
    expect(members).not.toContain('over');
    // The member already there heard of nobody new.
    await stillServing(last.socket);
    expect(last.socket.frames.filter((f) => f.event === 'pusher_internal:member_added')).toEqual([]);
  });
});

describe('bad channel_data, correctly signed', () => {
  const channel = 'presence-data';
  const refusal = {
    code: CLOSE.unauthorized,
    message: 'channel_data must hold a user_id and a user_info under 1 KB',
  };
  /** A user_info whose JSON is exactly `bytes` long. */
  const infoOf = (bytes: number) => ({ n: 'x'.repeat(bytes - '{"n":""}'.length) });

  it.each([
    ['not JSON', '{user_id: 1'],
    ['a JSON array', '["u"]'],
    ['without user_id', JSON.stringify({ user_info: { name: 'Ann' } })],
    ['with an empty user_id', JSON.stringify({ user_id: '' })],
    ['with an object as user_id', JSON.stringify({ user_id: { id: 'u' } })],
    [
      `with a user_info of ${LIMITS.userInfoBytes + 1} bytes`,
      JSON.stringify({ user_id: 'u', user_info: infoOf(LIMITS.userInfoBytes + 1) }),
    ],
  ])('refuses channel_data %s with 4009 and keeps the connection', async (_, channelData) => {
    const { socket, socketId } = await connect();
    expect(errorOf(await subscribe(socket, socketId, channel, channelData))).toEqual(refusal);
    await stillServing(socket);
  });

  it('refuses a presence subscription without channel_data', async () => {
    const { socket, socketId } = await connect();
    const auth = `${project.key}:${createHmac('sha256', project.secret).update(`${socketId}:${channel}`).digest('hex')}`;
    socket.send({ event: 'pusher:subscribe', data: { channel, auth } });
    const answer = await socket.next((f) => f.event === 'pusher:error', 'the refusal');
    expect(answer.data).toEqual(refusal);
  });

  it(`accepts a user_info of exactly ${LIMITS.userInfoBytes} bytes, and a numeric user_id`, async () => {
    const { socket, socketId } = await connect();
    const info = infoOf(LIMITS.userInfoBytes);
    const ok = await subscribe(
      socket,
      socketId,
      channel,
      JSON.stringify({ user_id: 'big', user_info: info }),
    );
    expect(ok.event).toBe('pusher_internal:subscription_succeeded');
    expect(ok.data.presence.hash.big).toEqual(info);
    const numeric = await connect();
    const answer = await subscribe(numeric.socket, numeric.socketId, channel, JSON.stringify({ user_id: 7 }));
    expect(answer.event).toBe('pusher_internal:subscription_succeeded');
    expect(answer.data.presence.ids).toContain('7');
  });
});
