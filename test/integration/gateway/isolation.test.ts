// Tenancy on the gateway: two projects using identical channel names never see each other —
// no events (server or client), no presence members, no listing, no counts.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHub, type TestHub } from '../../support/hub.js';
import {
  appPath,
  createGatewayProject,
  pusherServer,
  rawSocket,
  type GatewayProject,
  type RawSocket,
} from '../../support/gateway.js';

let hub: TestHub;
let first: GatewayProject;
let second: GatewayProject;
const CHANNELS = ['shared', 'private-shared', 'presence-shared'];

beforeAll(async () => {
  hub = await startHub();
  await hub.running.prepared;
  const settings = { gateway: { clientEvents: true } };
  [first, second] = [
    await createGatewayProject(hub.running.services, { settings }),
    await createGatewayProject(hub.running.services, { settings }),
  ];
});
afterAll(() => hub.close());

async function joinAll(project: GatewayProject, userId: string): Promise<RawSocket> {
  const socket = rawSocket(hub.gatewayPort, appPath(project.key));
  const socketId = await socket.socketId();
  const signer = pusherServer('http://127.0.0.1:1', project);
  for (const channel of CHANNELS) {
    const auth =
      channel === 'shared'
        ? {}
        : signer.authorizeChannel(
            socketId,
            channel,
            channel.startsWith('presence-') ? { user_id: userId } : undefined,
          );
    socket.send({ event: 'pusher:subscribe', data: { channel, ...auth } });
    await socket.next(
      (f) => f.event === 'pusher_internal:subscription_succeeded' && f.channel === channel,
      channel,
    );
  }
  return socket;
}

it('keeps two projects with identical channel names apart', async () => {
  const a1 = await joinAll(first, 'alice');
  const a2 = await joinAll(first, 'amos');
  const b = await joinAll(second, 'bob');
  // bob's presence view holds only bob: alice and amos are in the other project.
  const bobsRoom = b.frames.find(
    (f) => f.channel === 'presence-shared' && f.event.endsWith('subscription_succeeded'),
  );
  expect(bobsRoom!.data.presence.ids).toEqual(['bob']);

  const firstApi = pusherServer(hub.apiUrl, first);
  for (const channel of CHANNELS) {
    await firstApi.trigger(channel, 'only-first', { channel });
    await a1.next((f) => f.event === 'only-first' && f.channel === channel, `server event on ${channel}`);
  }
  a1.send({ event: 'client-hello', channel: 'private-shared', data: {} });
  a1.send({ event: 'client-hello', channel: 'presence-shared', data: {} });
  await a2.next(
    (f) => f.event === 'client-hello' && f.channel === 'presence-shared',
    'client event in the project',
  );

  // Events on one socket arrive in order: once the marker is in, nothing else is coming.
  for (const channel of CHANNELS) {
    await pusherServer(hub.apiUrl, second).trigger(channel, 'marker', {});
    await b.next((f) => f.event === 'marker' && f.channel === channel, `marker on ${channel}`);
  }
  const leaked = b.frames.filter(
    (f) => ['only-first', 'client-hello'].includes(f.event) || f.event.includes('member_'),
  );
  expect(leaked).toEqual([]);

  const secondApi = pusherServer(hub.apiUrl, second);
  const get = async (path: string, params?: Record<string, string>) =>
    (await secondApi.get({ path, params })).json();
  expect(Object.keys(((await get('/channels')) as { channels: object }).channels).sort()).toEqual(
    [...CHANNELS].sort(),
  );
  expect(await get('/channels/presence-shared', { info: 'user_count,subscription_count' })).toEqual({
    occupied: true,
    user_count: 1,
    subscription_count: 1,
  });
  expect(await get('/channels/presence-shared/users')).toEqual({ users: [{ id: 'bob' }] });
  for (const socket of [a1, a2, b]) socket.ws.close();
});
