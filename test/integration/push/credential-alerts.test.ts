// A provider refusing a project's credentials tells the tenant through its own rules: the first
// refusal of an episode puts provider.credentials_failed into the project's stream, later (and
// concurrent) refusals add nothing, and the first success after it puts provider.recovered.
// The hub runs the consumer; the sends go through delivery providers pointed at the local fakes,
// with no cooldown so every send really reaches the fake.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setProviderCredentials } from '../../../src/domain/provider-credentials.js';
import { createApnsSender } from '../../../src/workers/push/apns.js';
import { createFcmSender } from '../../../src/workers/push/fcm.js';
import { createProviderHealth } from '../../../src/workers/push/health.js';
import { createDeliveryProviders, type DeliveryProviders } from '../../../src/workers/push/providers.js';
import { createPusherSender } from '../../../src/workers/push/pusher.js';
import { api, superAdminToken } from '../../support/api.js';
import { startFakeApns, type FakeApns } from '../../support/fakes/apns.js';
import { startFakeFcm, type FakeFcm } from '../../support/fakes/fcm.js';
import { startFakePusher, type FakePusher } from '../../support/fakes/pusher.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { createRule, eventually, pipelineProject, type PipelineProject } from '../pipeline/support.js';
import { alert, deviceToken } from './support.js';

let hub: TestHub;
let fcm: FakeFcm;
let apns: FakeApns;
let pusher: FakePusher;
let providers: DeliveryProviders;
let sa: string;

beforeAll(async () => {
  [fcm, apns, pusher] = await Promise.all([startFakeFcm(), startFakeApns(), startFakePusher()]);
  hub = await startHub({}, ['api', 'worker']);
  sa = await superAdminToken(hub);
  const services = hub.running.services;
  providers = createDeliveryProviders(services, {
    fcm: createFcmSender({ httpAgent: fcm.agent, credential: fcm.credential }),
    apns: createApnsSender({ endpoint: { address: apns.address, port: apns.port, ca: apns.ca } }),
    pusher: createPusherSender({ allowPrivate: true }),
    health: createProviderHealth({ ...services, cooldownMs: 0 }),
  });
});
afterAll(async () => {
  await providers.close();
  await hub.close();
  await Promise.all([fcm.close(), apns.close(), pusher.close()]);
});

interface ProcessedEvent {
  status: string;
  payload: Record<string, unknown>;
  matchedRules: string[];
}

const listEvents = async (p: PipelineProject, type: string) =>
  (await api(hub, 'GET', `/api/v1/events?type=${type}`, undefined, { token: p.adminToken })).body
    .items as ProcessedEvent[];

/** The project's events of `type` once the consumer processed them all (at least one). */
const processed = (p: PipelineProject, type: string) =>
  eventually(
    () => listEvents(p, type),
    (items) => items.length > 0 && items.every((e) => e.status === 'processed'),
  );

const alertRule = (p: PipelineProject) =>
  createRule(hub, p, {
    condition: 'event.type == "provider.credentials_failed" || event.type == "provider.recovered"',
    targetRoles: [p.roles.admin],
  });

describe('provider credential alerts', () => {
  it('FCM: one credentials_failed per episode into the rules, one recovered, none elsewhere', async () => {
    const [project, other] = await Promise.all([pipelineProject(hub, sa), pipelineProject(hub, sa)]);
    const rule = await alertRule(project);
    const accountOf = async (p: PipelineProject) => {
      const { project_id, client_email, private_key } = fcm.serviceAccount(`fb-${p.slug}`);
      await setProviderCredentials(hub.running.services, p.id, 'fcm', {
        serviceAccount: { project_id, client_email, private_key },
      });
      return client_email;
    };
    const [clientEmail] = await Promise.all([accountOf(project), accountOf(other)]);
    fcm.revoke(clientEmail!);
    const android = () => [{ id: deviceToken(), platform: 'android' as const, token: deviceToken() }];
    const sendIn = (p: PipelineProject) =>
      providers.sendToDevices(p.id, android(), alert({ projectId: p.id }));
    const send = () => sendIn(project);

    // Sequential refusals, then two at once: still one episode.
    for (let i = 0; i < 3; i += 1) expect((await send())[0]!.outcome).toBe('provider_unhealthy');
    const both = await Promise.all([send(), send(), sendIn(other)]);
    expect(both.map((r) => r[0]!.outcome)).toEqual(['provider_unhealthy', 'provider_unhealthy', 'delivered']);

    const failed = await processed(project, 'provider.credentials_failed');
    expect(failed).toHaveLength(1);
    const status = await providers.status(project.id);
    expect(failed[0]!.payload).toEqual({
      provider: 'fcm',
      reason: expect.any(String),
      since: status.fcm.since,
    });
    // The classified code only: not the provider's message text.
    expect(failed[0]!.payload.reason).toMatch(/^(messaging|app)\/[a-z-]+$/);
    expect(status.fcm.reason).toContain(String(failed[0]!.payload.reason));
    expect(failed[0]!.matchedRules).toEqual([rule.id]);

    fcm.restore(clientEmail!);
    for (let i = 0; i < 2; i += 1) expect((await send())[0]!.outcome).toBe('delivered');
    const recovered = await processed(project, 'provider.recovered');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.payload).toEqual({ provider: 'fcm', since: failed[0]!.payload.since });
    expect(recovered[0]!.matchedRules).toEqual([rule.id]);
    expect((await providers.status(project.id)).fcm.healthy).toBe(true);

    // The other project's FCM worked all along: it heard nothing.
    expect(await listEvents(other, 'provider.credentials_failed')).toEqual([]);
    expect(await listEvents(other, 'provider.recovered')).toEqual([]);

    // A new refusal is a new episode.
    fcm.revoke(clientEmail!);
    await send();
    await eventually(
      () => listEvents(project, 'provider.credentials_failed'),
      (items) => items.length === 2 && items.every((e) => e.status === 'processed'),
    );
  });

  it('hosted Pusher: a wrong secret alerts once, the corrected secret recovers', async () => {
    const project = await pipelineProject(hub, sa);
    const app = pusher.app();
    const credentials = { ...app, host: pusher.host, port: pusher.port, useTLS: false };
    await setProviderCredentials(hub.running.services, project.id, 'pusher', {
      ...credentials,
      secret: 'wrong',
    });
    const event = () => [{ id: 'r', channel: 'private-user-1', name: 'notification', data: { n: 1 } }];
    for (let i = 0; i < 2; i += 1)
      expect((await providers.triggerPusher(project.id, event()))[0]!.outcome).toBe('provider_unhealthy');
    const failed = await processed(project, 'provider.credentials_failed');
    expect(failed.map((e) => e.payload)).toEqual([
      { provider: 'pusher', reason: 'Pusher answered 401', since: expect.any(String) },
    ]);

    await setProviderCredentials(hub.running.services, project.id, 'pusher', credentials);
    expect((await providers.triggerPusher(project.id, event()))[0]!.outcome).toBe('delivered');
    const recovered = await processed(project, 'provider.recovered');
    expect(recovered.map((e) => e.payload)).toEqual([
      { provider: 'pusher', since: failed[0]!.payload.since },
    ]);
  });

  it('APNs: a revoked key alerts once, a new key recovers', async () => {
    const project = await pipelineProject(hub, sa);
    const apnsKey = () => ({ ...apns.signingKey(), bundleId: 'com.example.tocsin', production: false });
    const revoked = apnsKey();
    await setProviderCredentials(hub.running.services, project.id, 'apns', revoked);
    apns.revoke(revoked.keyId);
    const send = () =>
      providers.sendToDevices(
        project.id,
        [{ id: 'iphone', platform: 'ios', token: deviceToken() }],
        alert({ projectId: project.id }),
      );
    for (let i = 0; i < 2; i += 1) expect((await send())[0]!.outcome).toBe('provider_unhealthy');
    const failed = await processed(project, 'provider.credentials_failed');
    expect(failed.map((e) => e.payload)).toEqual([
      { provider: 'apns', reason: '403 InvalidProviderToken', since: expect.any(String) },
    ]);

    await setProviderCredentials(hub.running.services, project.id, 'apns', apnsKey());
    expect((await send())[0]!.outcome).toBe('delivered');
    const recovered = await processed(project, 'provider.recovered');
    expect(recovered.map((e) => e.payload)).toEqual([{ provider: 'apns', since: failed[0]!.payload.since }]);
  });
});
