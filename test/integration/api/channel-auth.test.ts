// Channel auth over REST (/api/v1/users/me/pusher-auth) for the project-wide and role channels:
// what a user may join is signed so that the gateway accepts it, refused (403) for a role the
// user does not hold and for every channel of another project's user, and with
// `target: "pusher"` signed with the project's hosted-Pusher secret exactly as the official
// `pusher` server SDK signs (what pusher-js sends to Pusher's own servers).
import PusherServer from 'pusher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setProviderCredentials } from '../../../src/domain/provider-credentials.js';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { appPath, rawSocket, type RawSocket } from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { activeUser, type TestUser } from '../identity/helpers.js';

let hub: TestHub;
let project: TestProject;
let other: TestProject;
let oncall: TestUser;
let member: TestUser;
let stranger: TestUser;
const sockets: RawSocket[] = [];
const hosted = { appId: '4242', key: 'hostedkey123', secret: 'hosted-secret-0123456789' };

beforeAll(async () => {
  hub = await startHub({}, ['api', 'gateway']);
  const sa = await superAdminToken(hub);
  [project, other] = [await createTestProject(hub, sa), await createTestProject(hub, sa)];
  const role = await api(
    hub,
    'POST',
    '/api/v1/roles',
    { name: 'on-call', permissions: [] },
    { token: project.adminToken },
  );
  expect(role.status, JSON.stringify(role.body)).toBe(201);
  oncall = await activeUser(hub, project, ['member', 'on-call']);
  member = await activeUser(hub, project, ['member']);
  // Another project with a role of the same name: holding it there opens nothing here.
  await api(hub, 'POST', '/api/v1/roles', { name: 'on-call', permissions: [] }, { token: other.adminToken });
  stranger = await activeUser(hub, other, ['member', 'on-call']);
  await setProviderCredentials(hub.running.services, project.id, 'pusher', {
    ...hosted,
    cluster: 'eu',
  });
});
afterAll(async () => {
  sockets.forEach((s) => s.ws.close());
  await hub.close();
});

const authorize = (user: TestUser, socketId: string, channel: string, target?: 'gateway' | 'pusher') =>
  api(
    hub,
    'POST',
    '/api/v1/users/me/pusher-auth',
    { socket_id: socketId, channel_name: channel, ...(target && { target }) },
    { token: user.token },
  );

/** Subscribes a gateway socket of `project` to `channel` with what the API signed for `user`. */
async function joinThroughGateway(user: TestUser, channel: string) {
  const socket = rawSocket(hub.gatewayPort, appPath(project.gateway.key));
  sockets.push(socket);
  const signed = await authorize(user, await socket.socketId(), channel);
  expect(signed.status, JSON.stringify(signed.body)).toBe(200);
  socket.send({ event: 'pusher:subscribe', data: { channel, ...signed.body } });
  return socket.next(
    (f) =>
      f.channel === channel &&
      (f.event === 'pusher_internal:subscription_succeeded' || f.event === 'pusher:error'),
    `the answer to ${channel}`,
  );
}

describe('project and role channels, signed for the gateway', () => {
  it.each(['private-project', 'presence-project', 'private-role-on-call', 'presence-role-on-call'])(
    'signs %s for a holder so that the gateway admits it',
    async (channel) => {
      const answer = await joinThroughGateway(oncall, channel);
      expect(answer.event).toBe('pusher_internal:subscription_succeeded');
      if (channel.startsWith('presence-')) {
        expect(answer.data.presence.hash[oncall.id]).toEqual({ id: oncall.id, name: 'Test User' });
      }
    },
  );

  it('signs the project channels for every user of the project', async () => {
    for (const channel of ['private-project', 'presence-project']) {
      expect((await joinThroughGateway(member, channel)).event).toBe(
        'pusher_internal:subscription_succeeded',
      );
    }
  });

  it('refuses a role channel to a user without the role', async () => {
    for (const channel of ['private-role-on-call', 'presence-role-on-call', 'private-role-nobody']) {
      expectError(await authorize(member, '1.2', channel), 403, 'channel_forbidden');
    }
    // The role they do hold opens its channel.
    expect((await authorize(member, '1.2', 'private-role-member')).status).toBe(200);
  });

  it("gives another project's user nothing of this project, even for a role of the same name", async () => {
    for (const channel of [`private-user-${oncall.id}`, 'private-other-thing', 'presence-anything']) {
      expectError(await authorize(stranger, '1.2', channel), 403, 'channel_forbidden');
    }
    // The same names in their own project are signed with their project's secret, which opens
    // nothing on this project's app.
    for (const channel of ['private-project', 'private-role-on-call', 'presence-role-on-call']) {
      const socket = rawSocket(hub.gatewayPort, appPath(project.gateway.key));
      sockets.push(socket);
      const theirs = await authorize(stranger, await socket.socketId(), channel);
      expect(theirs.status).toBe(200);
      expect(theirs.body.auth.startsWith(`${other.gateway.key}:`)).toBe(true);
      socket.send({ event: 'pusher:subscribe', data: { channel, ...theirs.body } });
      const answer = await socket.next((f) => f.channel === channel && f.event.startsWith('pusher'), channel);
      expect(answer).toMatchObject({ event: 'pusher:error', data: { code: 4009 } });
    }
  });
});

describe('the hosted-Pusher target', () => {
  const sdk = new PusherServer({ ...hosted, cluster: 'eu' });

  it('signs private channels as the pusher SDK does, with the hosted secret', async () => {
    for (const channel of ['private-project', 'private-role-on-call', `private-user-${oncall.id}`]) {
      const res = await authorize(oncall, '123.456', channel, 'pusher');
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toEqual(sdk.authorizeChannel('123.456', channel));
      expect(res.body.auth).toMatch(/^hostedkey123:[0-9a-f]{64}$/);
    }
  });

  it('signs presence channels with their channel_data as the pusher SDK does', async () => {
    const res = await authorize(oncall, '123.456', 'presence-project', 'pusher');
    expect(res.status).toBe(200);
    const member = JSON.parse(res.body.channel_data);
    expect(member).toEqual({ user_id: oncall.id, user_info: { id: oncall.id, name: 'Test User' } });
    expect(res.body).toEqual(sdk.authorizeChannel('123.456', 'presence-project', member));
  });

  it('signs pusher:signin as the pusher SDK does', async () => {
    const res = await api(
      hub,
      'POST',
      '/api/v1/users/me/pusher-user-auth',
      { socket_id: '123.456', target: 'pusher' },
      { token: oncall.token },
    );
    expect(res.status).toBe(200);
    const user = JSON.parse(res.body.user_data);
    expect(user.id).toBe(oncall.id);
    expect(res.body).toEqual(sdk.authenticateUser('123.456', user));
  });

  it('refuses what the user may not join there too, and a project without hosted Pusher with 409', async () => {
    expectError(
      await authorize(member, '123.456', 'private-role-on-call', 'pusher'),
      403,
      'channel_forbidden',
    );
    expectError(
      await authorize(stranger, '123.456', 'private-project', 'pusher'),
      409,
      'pusher_not_configured',
    );
  });
});
