// The delivery chain end to end, with local fakes standing in for Google and Apple: a pusher-js
// client configured only with Tocsin's host, port and project key receives and acknowledges a
// notification produced by a POSTed event; an offline user's phones get exactly one push each
// with the rule's title, body and sound; an invalid token is removed; the inbox agrees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import PusherModule from 'pusher-js';
import { setProviderCredentials } from '../../../src/domain/provider-credentials.js';
import { createApnsSender } from '../../../src/workers/push/apns.js';
import { createFcmSender } from '../../../src/workers/push/fcm.js';
import { createDeliveryProviders } from '../../../src/workers/push/providers.js';
import { createPusherSender } from '../../../src/workers/push/pusher.js';
import { api, createTestProject, superAdminToken, type TestProject } from '../../support/api.js';
import { startFakeApns, type FakeApns } from '../../support/fakes/apns.js';
import { startFakeFcm, type FakeFcm } from '../../support/fakes/fcm.js';
import { connected, eventually, nextEvent, subscribed, within } from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';

const Pusher = PusherModule as unknown as typeof PusherModule.default;
const PASSWORD = 'Correct-horse-42';
/** APNs device tokens are 32 bytes in hex. */
const apnsToken = () => randomBytes(32).toString('hex');

let hub: TestHub;
let fcm: FakeFcm;
let apns: FakeApns;
let project: TestProject;
let memberRoleId: string;
const clients: Array<InstanceType<typeof Pusher>> = [];

beforeAll(async () => {
  [fcm, apns] = await Promise.all([startFakeFcm(), startFakeApns()]);
  hub = await startHub({}, undefined, { providers: lazyProviders() });
  const sa = await superAdminToken(hub);
  project = await createTestProject(hub, sa, {
    settings: { delivery: { ackTimeoutMs: 1500, usePusher: false } },
  });
  const services = hub.running.services;
  const account = fcm.serviceAccount('fb-e2e');
  await setProviderCredentials(services, project.id, 'fcm', {
    serviceAccount: {
      project_id: account.project_id,
      client_email: account.client_email,
      private_key: account.private_key,
    },
  });
  await setProviderCredentials(services, project.id, 'apns', {
    ...apns.signingKey(),
    bundleId: 'com.example.tocsin',
    production: false,
  });
  const roles = await api(hub, 'GET', '/api/v1/roles', undefined, { token: project.adminToken });
  memberRoleId = roles.body.items.find((r: { name: string }) => r.name === 'member').id;
  const rule = await api(
    hub,
    'POST',
    '/api/v1/rules',
    {
      name: 'Failed transfers',
      condition: 'event.type == "transfer.failed" && event.payload.amount > 1000',
      targetRoles: [memberRoleId],
      title: 'Transfer failed',
      body: 'Amount {{event.payload.amount}}',
      priority: 5,
    },
    { token: project.adminToken },
  );
  expect(rule.status).toBe(201);
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await hub.close();
  await Promise.all([fcm.close(), apns.close()]);
});

/** Providers whose FCM/APNs clients point at the local fakes (built lazily: the hub's services exist once it starts). */
function lazyProviders() {
  let real: ReturnType<typeof createDeliveryProviders> | undefined;
  const get = () =>
    (real ??= createDeliveryProviders(hub.running.services, {
      fcm: createFcmSender({ httpAgent: fcm.agent, credential: fcm.credential }),
      apns: createApnsSender({ endpoint: { address: apns.address, port: apns.port, ca: apns.ca } }),
      pusher: createPusherSender({ allowPrivate: true }),
    }));
  return {
    sendToDevices: (...args: Parameters<ReturnType<typeof createDeliveryProviders>['sendToDevices']>) =>
      get().sendToDevices(...args),
    triggerPusher: (...args: Parameters<ReturnType<typeof createDeliveryProviders>['triggerPusher']>) =>
      get().triggerPusher(...args),
    status: (projectId: string) => get().status(projectId),
    close: async () => real?.close(),
  };
}

/** A user who registered, was approved as a member and logged in. */
async function member(name: string) {
  const email = `${name}@${project.slug}.test`;
  const reg = await api(hub, 'POST', '/api/v1/auth/register', {
    email,
    password: PASSWORD,
    fullName: name,
    projectSlug: project.slug,
  });
  expect(reg.status).toBe(201);
  const approve = await api(
    hub,
    'POST',
    `/api/v1/users/${reg.body.id}/approve`,
    { roleIds: [memberRoleId] },
    { token: project.adminToken },
  );
  expect(approve.status).toBe(200);
  const login = await api(hub, 'POST', '/api/v1/auth/login', {
    email,
    password: PASSWORD,
    projectSlug: project.slug,
  });
  expect(login.status).toBe(200);
  return { id: reg.body.id as string, token: login.body.accessToken as string };
}

/** pusher-js configured only with Tocsin's host, port, project key and auth endpoint. */
function browserLikeClient(token: string) {
  const client = new Pusher(project.gateway.key, {
    cluster: 'local',
    wsHost: '127.0.0.1',
    wsPort: hub.gatewayPort,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      endpoint: `${hub.apiUrl}/api/v1/users/me/pusher-auth`,
      transport: 'ajax',
      headers: { Authorization: `Bearer ${token}` },
    },
  });
  clients.push(client);
  return client;
}

const postEvent = (amount: number) =>
  api(
    hub,
    'POST',
    '/api/v1/events',
    { type: 'transfer.failed', payload: { amount } },
    { apiKey: project.apiKey },
  );

async function registerDevices(token: string, devices: Array<{ platform: string; token: string }>) {
  const res = await api(hub, 'PUT', '/api/v1/users/me/push-tokens', { devices }, { token });
  expect(res.status).toBe(200);
}

const receiptOf = (notificationUser: { id: string }) =>
  hub.running.db
    .forProject(project.id)
    .notificationReceipt.findFirst({ where: { userId: notificationUser.id } });

describe('delivery chain', () => {
  it('delivers to an online pusher-js client over the gateway and records its acknowledgement; pushes to an offline user', async () => {
    const alice = await member('alice');
    const bob = await member('bob');
    const bobIos = apnsToken();
    const bobAndroid = `android-${bob.id}`;
    const bobStale = `stale-${bob.id}`;
    fcm.answer(bobStale, 'unregistered');
    await registerDevices(bob.token, [
      { platform: 'ios', token: bobIos },
      { platform: 'android', token: bobAndroid },
      { platform: 'android', token: bobStale },
    ]);

    const client = browserLikeClient(alice.token);
    await connected(client);
    const channel = await subscribed(client, `private-user-${alice.id}`);
    const arrived = nextEvent<{ id: string; title: string; body: string }>(channel, 'notification');

    expect((await postEvent(5000)).status).toBe(202);
    const notification = await arrived;
    expect(notification).toMatchObject({ title: 'Transfer failed', body: 'Amount 5000' });

    client.send_event('tocsin:ack', { id: notification.id });
    await eventually(
      async () => Boolean((await receiptOf(alice))?.acknowledgedAt),
      "Alice's acknowledgement is recorded",
    );
    expect(await receiptOf(alice)).toMatchObject({ channel: 'gateway', deliveredAt: expect.any(Date) });

    await eventually(async () => apns.requests.some((r) => r.deviceToken === bobIos), 'the APNs push to Bob');
    await eventually(
      async () => fcm.requests.some((r) => r.message.token === bobAndroid),
      'the FCM push to Bob',
    );
    await eventually(
      async () =>
        (await hub.running.db.forProject(project.id).device.count({ where: { token: bobStale } })) === 0,
      'the invalid token is removed',
    );
    const toApns = apns.requests.filter((r) => r.deviceToken === bobIos);
    const toFcm = fcm.requests.filter((r) => r.message.token === bobAndroid);
    expect(toApns).toHaveLength(1);
    expect(toFcm).toHaveLength(1);
    expect(toApns[0]!.payload).toMatchObject({
      aps: { alert: { title: 'Transfer failed', body: 'Amount 5000' }, badge: 1 },
    });
    expect(toFcm[0]!.message).toMatchObject({
      notification: { title: 'Transfer failed', body: 'Amount 5000' },
    });
    // Alice acknowledged in time: she gets no push.

    const inbox = await api(hub, 'GET', '/api/v1/notifications', undefined, { token: bob.token });
    expect(inbox.body.items).toHaveLength(1);
    expect(
      (await api(hub, 'GET', '/api/v1/notifications/unread-count', undefined, { token: bob.token })).body,
    ).toMatchObject({ count: 1 });
    expect(
      (await api(hub, 'GET', '/api/v1/notifications/unread-count', undefined, { token: alice.token })).body,
    ).toMatchObject({ count: 0 });
    expect(await receiptOf(bob)).toMatchObject({ deliveredAt: expect.any(Date) });
    expect(['apns', 'fcm']).toContain((await receiptOf(bob))!.channel);
  });

  it('pushes to an online user who does not acknowledge within the ack timeout', async () => {
    const carol = await member('carol');
    const carolIos = apnsToken();
    await registerDevices(carol.token, [{ platform: 'ios', token: carolIos }]);
    const client = browserLikeClient(carol.token);
    await connected(client);
    const channel = await subscribed(client, `private-user-${carol.id}`);
    const arrived = nextEvent<{ id: string }>(channel, 'notification');
    expect((await postEvent(2000)).status).toBe(202);
    await arrived; // live delivery first …
    expect(apns.requests.some((r) => r.deviceToken === carolIos)).toBe(false);
    // … then, unacknowledged, the push after ackTimeoutMs.
    await eventually(
      async () => apns.requests.some((r) => r.deviceToken === carolIos),
      "Carol's push after the ack timeout",
    );
  });

  it('replays what a user missed when they subscribe again', async () => {
    const dan = await member('dan');
    expect((await postEvent(3000)).status).toBe(202);
    await eventually(async () => Boolean(await receiptOf(dan)), "Dan's receipt exists");
    const client = browserLikeClient(dan.token);
    await connected(client);
    const channel = client.subscribe(`private-user-${dan.id}`);
    const replayed = await within(
      new Promise<{ title: string }>((resolve) => channel.bind('notification', resolve)),
      'the replayed notification',
    );
    expect(replayed).toMatchObject({ title: 'Transfer failed', body: 'Amount 3000' });
  });

  it("refuses to sign another user's channel", async () => {
    const erin = await member('erin');
    const res = await api(
      hub,
      'POST',
      '/api/v1/users/me/pusher-auth',
      { socket_id: '1.2', channel_name: `private-user-${memberRoleId}` },
      { token: erin.token },
    );
    expect(res.status).toBe(403);
    const own = await api(
      hub,
      'POST',
      '/api/v1/users/me/pusher-auth',
      { socket_id: '1.2', channel_name: `private-user-${erin.id}` },
      { token: erin.token },
    );
    expect(own.body.auth).toMatch(new RegExp(`^${project.gateway.key}:[0-9a-f]{64}$`));
  });
});
