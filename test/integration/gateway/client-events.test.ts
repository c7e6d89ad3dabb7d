// Client events (`client-*`) and the per-connection limits: only when the project enables
// them, only on private/presence channels the sender joined, never echoed, at most N a second;
// and a consumer too slow to read is shed instead of growing memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayApi } from '../../../src/realtime/api.js';
import { CLOSE } from '../../../src/core/pusher/protocol.js';
import { startGateway } from '../../../src/gateway/server.js';
import { startHub, type TestHub } from '../../support/hub.js';
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

let hub: TestHub;
let enabled: GatewayProject;
let disabled: GatewayProject;
const sockets: RawSocket[] = [];

beforeAll(async () => {
  hub = await startHub();
  await hub.running.prepared;
  enabled = await createGatewayProject(hub.running.services, {
    settings: { gateway: { clientEvents: true } },
  });
  disabled = await createGatewayProject(hub.running.services);
});
afterAll(async () => {
  sockets.forEach((s) => s.ws.close());
  await hub.close();
});

/** A raw socket subscribed (and signed, where needed) to `channels`, as `userId` on presence. */
async function member(project: GatewayProject, channels: string[], userId = 'u') {
  const socket = rawSocket(hub.gatewayPort, appPath(project.key));
  sockets.push(socket);
  const socketId = await socket.socketId();
  const signer = pusherServer('http://127.0.0.1:1', project);
  for (const channel of channels) {
    const auth = channel.startsWith('presence-')
      ? signer.authorizeChannel(socketId, channel, { user_id: userId })
      : channel.startsWith('private-')
        ? signer.authorizeChannel(socketId, channel)
        : {};
    socket.send({ event: 'pusher:subscribe', data: { channel, ...auth } });
    await socket.next(
      (f) => f.event === 'pusher_internal:subscription_succeeded',
      `subscription to ${channel}`,
    );
  }
  return socket;
}

/** Sends a server event on `channel` and waits for it: what `socket` got before is all it got. */
async function settle(project: GatewayProject, channel: string, socket: RawSocket) {
  await pusherServer(hub.apiUrl, project).trigger(channel, 'marker', {});
  await socket.next((f) => f.event === 'marker', `marker on ${channel}`);
}

const clientEvents = (socket: RawSocket) => socket.frames.filter((f) => f.event.startsWith('client-'));

describe('client events', () => {
  it('are refused while the project has not enabled them', async () => {
    const [sender, receiver] = [
      await member(disabled, ['private-chat']),
      await member(disabled, ['private-chat']),
    ];
    sender.send({ event: 'client-typing', channel: 'private-chat', data: { on: true } });
    const error = await sender.next((f) => f.event === 'pusher:error', 'refusal');
    expect(error.data.message).toMatch(/not enabled/);
    await settle(disabled, 'private-chat', receiver);
    expect(clientEvents(receiver)).toEqual([]);
  });

  it('reach the other members of private and presence channels, never the sender', async () => {
    const sender = await member(enabled, ['private-chat', 'presence-room'], 'alice');
    const receiver = await member(enabled, ['private-chat', 'presence-room'], 'bob');
    sender.send({ event: 'client-typing', channel: 'private-chat', data: { on: true } });
    expect(await receiver.next((f) => f.event === 'client-typing', 'private client event')).toEqual({
      event: 'client-typing',
      channel: 'private-chat',
      data: { on: true },
    });
    sender.send({ event: 'client-wave', channel: 'presence-room', data: { hand: 'left' } });
    const wave = await receiver.next((f) => f.event === 'client-wave', 'presence client event');
    expect(wave).toMatchObject({ channel: 'presence-room', data: { hand: 'left' }, user_id: 'alice' });
    await settle(enabled, 'private-chat', sender);
    await settle(enabled, 'presence-room', sender);
    expect(clientEvents(sender)).toEqual([]);
  });

  it('are refused on public and encrypted channels and on channels the sender did not join', async () => {
    const sender = await member(enabled, ['lobby', 'private-encrypted-vault', 'private-ok']);
    for (const channel of ['lobby', 'private-encrypted-vault', 'private-elsewhere']) {
      sender.send({ event: 'client-x', channel, data: {} });
      const error = await sender.next((f) => f.event === 'pusher:error', `refusal on ${channel}`);
      expect(error.data.message).toMatch(/only allowed on private and presence channels/);
    }
    sender.send({ event: 'client-big', channel: 'private-ok', data: 'x'.repeat(10 * 1024 + 1) });
    const error = await sender.next((f) => f.event === 'pusher:error', 'oversize client event');
    expect(error.data.message).toMatch(/limited to 10240 bytes/);
  });

  it('are limited per connection per second: one too many closes it with 4301', async () => {
    const limited = await createGatewayProject(hub.running.services, {
      settings: { gateway: { clientEvents: true, clientEventsPerSecond: 10 } },
    });
    const sender = await member(limited, ['private-fast']);
    const receiver = await member(limited, ['private-fast']);
    for (let i = 0; i < 10; i++) sender.send({ event: 'client-n', channel: 'private-fast', data: { i } });
    await receiver.next((f) => f.event === 'client-n' && f.data.i === 9, 'the tenth event');
    expect(sender.frames.some((f) => f.event === 'pusher:error')).toBe(false);
    sender.send({ event: 'client-n', channel: 'private-fast', data: { i: 10 } });
    expect((await within(sender.closed, 'close')).code).toBe(4301);
  });
});

describe('slow consumers', () => {
  it('are closed once their buffered bytes pass the bound, and the node serves on', async () => {
    const gateway = await startGateway({ port: 0, services: hub.running.services });
    try {
      const slow = rawSocket(gateway.port, appPath(enabled.key));
      await slow.socketId();
      slow.send({ event: 'pusher:subscribe', data: { channel: 'firehose' } });
      await slow.next((f) => f.event === 'pusher_internal:subscription_succeeded', 'subscription');
      const tcp = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      tcp.pause(); // stops reading: the kernel buffers fill, then the gateway's
      const api = createGatewayApi(hub.running.services);
      const data = 'x'.repeat(10_000);
      for (let i = 0; i < 1000 && gateway.connectionCount() > 0; i++) {
        await api.trigger(enabled.id, [{ channels: ['firehose'], name: 'flood', data }]);
      }
      await eventually(async () => gateway.connectionCount() === 0, 'the gateway drops the slow socket');
      tcp.resume();
      // SECURITY.md's 4100, behind everything that was buffered: not a bare transport cut (1006).
      expect((await within(slow.closed, 'the client sees the close')).code).toBe(CLOSE.overCapacity);
      // Far fewer bytes than published reached it: the rest was never buffered.
      expect(slow.frames.length).toBeLessThan(1000);
      const fresh = rawSocket(gateway.port, appPath(enabled.key));
      await fresh.socketId();
      fresh.ws.close();
    } finally {
      await gateway.close();
    }
  });
});
