// Losing access closes the sockets it opened, on every gateway node: a suspended user's sockets
// (also one that only joined private-project, which never names its user to the gateway), the
// holders of a renamed role and a user who loses a role (they reconnect and re-authorize by the
// roles they hold now), and every socket of a disabled project. Two gateway nodes: the API runs beside node A only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestProject, superAdminToken, type TestProject } from '../../support/api.js';
import { appPath, pusherServer, rawSocket, within, type RawSocket } from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { activeUser, type TestUser } from '../identity/helpers.js';

let nodeA: TestHub;
let nodeB: TestHub;
let sa: string;
const sockets: RawSocket[] = [];

beforeAll(async () => {
  nodeA = await startHub({}, ['api', 'gateway']);
  nodeB = await startHub({}, ['gateway']);
  sa = await superAdminToken(nodeA);
});
afterAll(async () => {
  for (const socket of sockets) socket.ws.terminate();
  await Promise.all([nodeB.close(), nodeA.close()]);
});

/** A socket on `node` subscribed to `channel` with a signature the user got from the API. */
async function join(
  node: TestHub,
  project: TestProject,
  user: TestUser,
  channel: string,
): Promise<RawSocket> {
  const socket = rawSocket(node.gatewayPort, appPath(project.gateway.key));
  sockets.push(socket);
  const signed = await authorize(user, await socket.socketId(), channel);
  expect(signed.status, JSON.stringify(signed.body)).toBe(200);
  socket.send({ event: 'pusher:subscribe', data: { channel, ...signed.body } });
  await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded', `${channel} joined`);
  return socket;
}

const authorize = (user: TestUser, socketId: string, channel: string) =>
  api(
    nodeA,
    'POST',
    '/api/v1/users/me/pusher-auth',
    { socket_id: socketId, channel_name: channel },
    {
      token: user.token,
    },
  );

/** Proves a socket is live: an event triggered through the Pusher HTTP API reaches it. */
async function receives(project: TestProject, socket: RawSocket, channel: string) {
  await pusherServer(nodeA.apiUrl, { id: project.id, ...project.gateway }).trigger(channel, 'probe', {});
  await socket.next((f) => f.event === 'probe' && f.channel === channel, `probe on ${channel}`);
}

describe('losing access closes the sockets it opened', () => {
  it("closes a suspended user's sockets on every node with 4009, also one that never named its user", async () => {
    const project = await createTestProject(nodeA, sa);
    const user = await activeUser(nodeA, project);
    const projectOnly = await join(nodeB, project, user, 'private-project');
    const ownChannel = await join(nodeA, project, user, `private-user-${user.id}`);
    const bystander = await join(nodeB, project, await activeUser(nodeA, project), 'private-project');
    await receives(project, projectOnly, 'private-project');

    const suspended = await api(
      nodeA,
      'PUT',
      `/api/v1/users/${user.id}/status`,
      { status: 'suspended' },
      { token: project.adminToken },
    );
    expect(suspended.status).toBe(200);
    expect((await within(projectOnly.closed, 'the project-only socket closes')).code).toBe(4009);
    expect((await within(ownChannel.closed, 'the user-channel socket closes')).code).toBe(4009);
    // Another member of the project keeps theirs.
    await receives(project, bystander, 'private-project');
  });

  it("has a renamed role's holders re-authorize (4200): the old name opens nothing any more", async () => {
    const project = await createTestProject(nodeA, sa);
    const created = await api(
      nodeA,
      'POST',
      '/api/v1/roles',
      { name: 'night-shift', permissions: ['events:read'] },
      { token: project.adminToken },
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const holder = await activeUser(nodeA, project, ['night-shift']);
    const socket = await join(nodeB, project, holder, 'private-role-night-shift');

    const renamed = await api(
      nodeA,
      'PUT',
      `/api/v1/roles/${created.body.id}`,
      { name: 'day-shift' },
      { token: project.adminToken },
    );
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect((await within(socket.closed, 'the role socket closes')).code).toBe(4200);

    // The holder's token still says "night-shift"; channel auth goes by the roles held now.
    const again = rawSocket(nodeB.gatewayPort, appPath(project.gateway.key));
    sockets.push(again);
    const socketId = await again.socketId();
    expect((await authorize(holder, socketId, 'private-role-night-shift')).status).toBe(403);
    expect((await authorize(holder, socketId, 'private-role-day-shift')).status).toBe(200);
  });

  it('has a user who loses a role re-authorize (4200): its channel is refused with their current token', async () => {
    const project = await createTestProject(nodeA, sa);
    const created = await api(
      nodeA,
      'POST',
      '/api/v1/roles',
      { name: 'night-shift', permissions: [] },
      { token: project.adminToken },
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const holder = await activeUser(nodeA, project, ['member', 'night-shift']);
    const socket = await join(nodeB, project, holder, 'private-role-night-shift');
    await receives(project, socket, 'private-role-night-shift');

    const changed = await api(
      nodeA,
      'PUT',
      `/api/v1/users/${holder.id}/roles`,
      { roleIds: ['member'] },
      { token: project.adminToken },
    );
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect((await within(socket.closed, 'the role socket closes')).code).toBe(4200);

    // Same permissions, so the access token still works; the removed role's channel does not.
    const again = rawSocket(nodeB.gatewayPort, appPath(project.gateway.key));
    sockets.push(again);
    const socketId = await again.socketId();
    const refused = await authorize(holder, socketId, 'private-role-night-shift');
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(refused.body.error.code).toBe('channel_forbidden');
    expect((await authorize(holder, socketId, 'private-role-member')).status).toBe(200);
  });

  it('closes every socket of a project disabled through the API, on every node, with 4003', async () => {
    const project = await createTestProject(nodeA, sa);
    const user = await activeUser(nodeA, project);
    const [onA, onB] = [
      await join(nodeA, project, user, 'private-project'),
      await join(nodeB, project, user, `private-user-${user.id}`),
    ];
    const disabled = await api(
      nodeA,
      'PUT',
      `/api/v1/projects/${project.id}`,
      { status: 'disabled' },
      { token: sa },
    );
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    expect((await within(onA.closed, 'node A socket closes')).code).toBe(4003);
    expect((await within(onB.closed, 'node B socket closes')).code).toBe(4003);
  });
});
