import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setProviderCredentials } from '../../../src/domain/provider-credentials.js';
import { createApnsSender } from '../../../src/workers/push/apns.js';
import { createFcmSender } from '../../../src/workers/push/fcm.js';
import { createProviderHealth } from '../../../src/workers/push/health.js';
import {
  createDeliveryProviders,
  type DeliveryProviders,
  type RecipientDevice,
} from '../../../src/workers/push/providers.js';
import { createPusherSender } from '../../../src/workers/push/pusher.js';
import { startFakeApns, type FakeApns } from '../../support/fakes/apns.js';
import { startFakeFcm, type FakeFcm } from '../../support/fakes/fcm.js';
import { startFakePusher, type FakePusher } from '../../support/fakes/pusher.js';
import { alert, createProjectRow, deviceToken, pushServices } from './support.js';

const services = pushServices();
let fcm: FakeFcm;
let apns: FakeApns;
let pusher: FakePusher;
let providers: DeliveryProviders;

beforeAll(async () => {
  [fcm, apns, pusher] = await Promise.all([startFakeFcm(), startFakeApns(), startFakePusher()]);
  providers = createDeliveryProviders(services, {
    fcm: createFcmSender({ httpAgent: fcm.agent, credential: fcm.credential }),
    apns: createApnsSender({ endpoint: { address: apns.address, port: apns.port, ca: apns.ca } }),
    pusher: createPusherSender({ allowPrivate: true }),
    health: createProviderHealth(services),
  });
});
afterAll(async () => {
  await providers.close();
  await Promise.all([fcm.close(), apns.close(), pusher.close()]);
  await services.close();
});

const fcmCredentials = (firebaseProject: string) => {
  const { project_id, client_email, private_key } = fcm.serviceAccount(firebaseProject);
  return { serviceAccount: { project_id, client_email, private_key } };
};
const apnsCredentials = () => ({ ...apns.signingKey(), bundleId: 'com.example.tocsin', production: false });
const devicesOf = (...platforms: RecipientDevice['platform'][]): RecipientDevice[] =>
  platforms.map((platform, i) => ({ id: `${platform}-${i}`, platform, token: deviceToken() }));

describe('delivery providers', () => {
  it('sends iOS devices over APNs and Android and web devices over FCM, with the project credentials', async () => {
    const projectId = await createProjectRow(services);
    const fcmKey = fcmCredentials('fb-route');
    const apnsKey = apnsCredentials();
    await setProviderCredentials(services, projectId, 'fcm', fcmKey);
    await setProviderCredentials(services, projectId, 'apns', apnsKey);
    const devices = devicesOf('android', 'ios', 'web');

    const results = await providers.sendToDevices(projectId, devices, alert({ projectId }));
    expect(results).toEqual(devices.map((d) => ({ deviceId: d.id, outcome: 'delivered' })));
    const toApns = apns.requests.filter((r) => devices.some((d) => d.token === r.deviceToken));
    const toFcm = fcm.requests.filter((r) => devices.some((d) => d.token === r.message.token));
    expect(toApns.map((r) => r.deviceToken)).toEqual([devices[1]!.token]);
    expect(toApns[0]).toMatchObject({ keyId: apnsKey.keyId, payload: { projectId, aps: { badge: 3 } } });
    expect(toFcm.map((r) => r.message.token).sort()).toEqual([devices[0]!.token, devices[2]!.token].sort());
    expect(toFcm[0]).toMatchObject({
      clientEmail: fcmKey.serviceAccount.client_email,
      message: { data: { projectId } },
    });
    expect(await providers.status(projectId)).toEqual({
      fcm: { configured: true, source: 'project', healthy: true },
      apns: { configured: true, source: 'project', healthy: true },
      pusher: { configured: false, healthy: true },
    });
  });

  it('marks a provider with rejected credentials unhealthy, skips it, and clears it once new credentials work', async () => {
    const projectId = await createProjectRow(services);
    const revoked = apnsCredentials();
    apns.revoke(revoked.keyId);
    await setProviderCredentials(services, projectId, 'apns', revoked);
    await setProviderCredentials(services, projectId, 'fcm', fcmCredentials('fb-health'));
    const [iphone, android] = devicesOf('ios', 'android');
    const attempts = () => apns.attempts.filter((t) => t === iphone!.token).length;

    const first = await providers.sendToDevices(projectId, [iphone!, android!], alert());
    expect(first).toEqual([
      { deviceId: iphone!.id, outcome: 'provider_unhealthy', error: '403 InvalidProviderToken' },
      { deviceId: android!.id, outcome: 'delivered' },
    ]);
    const status = await providers.status(projectId);
    expect(status.apns).toEqual({
      configured: true,
      source: 'project',
      healthy: false,
      reason: '403 InvalidProviderToken',
      since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(status.fcm.healthy).toBe(true);

    const triedBefore = attempts();
    const second = await providers.sendToDevices(projectId, [iphone!], alert());
    expect(second[0]).toMatchObject({
      outcome: 'provider_unhealthy',
      error: expect.stringMatching(/^skipped: unhealthy since/),
    });
    expect(attempts()).toBe(triedBefore); // APNs was not called again

    await setProviderCredentials(services, projectId, 'apns', apnsCredentials());
    expect(await providers.sendToDevices(projectId, [iphone!], alert())).toEqual([
      { deviceId: iphone!.id, outcome: 'delivered' },
    ]);
    expect((await providers.status(projectId)).apns).toEqual({
      configured: true,
      source: 'project',
      healthy: true,
    });
    // The mark is gone, not merely stale for the new credentials.
    expect(await createProviderHealth(services).unhealthy(projectId)).toEqual({});
  });

  it('uses the global credentials for a project without its own, and says when a provider is not configured', async () => {
    const projectId = await createProjectRow(services);
    const global = { apns: apnsCredentials() };
    const withGlobal = createDeliveryProviders(
      { ...services, config: { ...services.config, push: global } },
      { apns: createApnsSender({ endpoint: { address: apns.address, port: apns.port, ca: apns.ca } }) },
    );
    try {
      const [iphone, android] = devicesOf('ios', 'android');
      const results = await withGlobal.sendToDevices(projectId, [iphone!, android!], alert());
      expect(results).toEqual([
        { deviceId: iphone!.id, outcome: 'delivered' },
        { deviceId: android!.id, outcome: 'provider_unhealthy', error: 'fcm is not configured' },
      ]);
      expect(apns.requests.find((r) => r.deviceToken === iphone!.token)?.keyId).toBe(global.apns.keyId);
      expect(fcm.requests.some((r) => r.message.token === android!.token)).toBe(false);
      expect(await withGlobal.status(projectId)).toMatchObject({
        apns: { configured: true, source: 'global' },
        fcm: { configured: false },
      });
    } finally {
      await withGlobal.close();
    }
  });

  it('triggers hosted Pusher only for a project that configured it', async () => {
    const projectId = await createProjectRow(services);
    const event = { id: 'receipt-1', channel: 'private-user-1', name: 'notification', data: { id: 'n1' } };
    expect(await providers.triggerPusher(projectId, [event])).toEqual([
      { id: 'receipt-1', outcome: 'provider_unhealthy', error: 'pusher is not configured' },
    ]);
    const app = pusher.app();
    await setProviderCredentials(services, projectId, 'pusher', {
      ...app,
      host: pusher.host,
      port: pusher.port,
      useTLS: false,
    });
    expect(await providers.triggerPusher(projectId, [event])).toEqual([
      { id: 'receipt-1', outcome: 'delivered' },
    ]);
    expect(pusher.batches.filter((b) => b.appId === app.appId)).toHaveLength(1);
  });
});
