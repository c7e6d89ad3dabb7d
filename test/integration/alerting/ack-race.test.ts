// The race operators of other systems reported most: an acknowledgement arriving while a step is
// being sent. Step 2's push to an offline user is in flight (the local FCM answers 503, so the
// push is retried with backoff) when the alert is acknowledged; the retry sends nothing, no later
// step fires, and only the one request already on the wire reached FCM.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createQueue, QUEUE_NAMES } from '../../../src/core/queues.js';
import { timerKey, timerMember } from '../../../src/domain/alerting/timer.js';
import { setProviderCredentials } from '../../../src/domain/provider-credentials.js';
import { createFcmSender } from '../../../src/workers/push/fcm.js';
import { createDeliveryProviders, type DeliveryProviders } from '../../../src/workers/push/providers.js';
import { api, createTestProject, superAdminToken, type TestProject } from '../../support/api.js';
import { startFakeFcm, type FakeFcm } from '../../support/fakes/fcm.js';
import { eventually } from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { awaitAlert, awaitEntries, dueNow, entriesOf, person, postEvent, steppedRule } from './support.js';

let hub: TestHub;
let fcm: FakeFcm;
let project: TestProject;

/** The hub's providers with FCM pointed at the local fake (built once the hub's services exist). */
function fakeFcmProviders(): DeliveryProviders {
  let real: DeliveryProviders | undefined;
  const get = () =>
    (real ??= createDeliveryProviders(hub.running.services, {
      fcm: createFcmSender({ httpAgent: fcm.agent, credential: fcm.credential }),
    }));
  return {
    sendToDevices: (...args) => get().sendToDevices(...args),
    triggerPusher: (...args) => get().triggerPusher(...args),
    status: (projectId) => get().status(projectId),
    close: async () => real?.close(),
  };
}

beforeAll(async () => {
  fcm = await startFakeFcm();
  hub = await startHub({}, undefined, { providers: fakeFcmProviders() });
  project = await createTestProject(hub, await superAdminToken(hub), {
    settings: { delivery: { usePusher: false, maxAttempts: 3 } },
  });
  const account = fcm.serviceAccount('fb-alerts');
  await setProviderCredentials(hub.running.services, project.id, 'fcm', {
    serviceAccount: {
      project_id: account.project_id,
      client_email: account.client_email,
      private_key: account.private_key,
    },
  });
});
afterAll(async () => {
  await hub.close();
  await fcm.close();
});

it('an acknowledgement while step 2 is being sent stops its retries and every later step', async () => {
  const [ann, bob, cy] = [await person(hub, project), await person(hub, project), await person(hub, project)];
  const bobPhone = `android-${bob.id}`;
  fcm.answer(bobPhone, 'unavailable');
  const devices = await api(
    hub,
    'PUT',
    '/api/v1/users/me/push-tokens',
    { devices: [{ platform: 'android', token: bobPhone }] },
    { token: bob.token },
  );
  expect(devices.status).toBe(200);
  const type = `race.${Date.now()}`;
  const policy = await steppedRule(hub, project, type, [ann.id, bob.id, cy.id]);
  await postEvent(hub, project, type, {});
  const alert = await awaitAlert(hub, project.id, { policyId: policy.id });
  await awaitEntries(hub, project.id, alert.id, 'notified', 1);

  await dueNow(hub, project.id, alert.id);
  const toBob = () => fcm.requests.filter((r) => r.message.token === bobPhone).length;
  await eventually(async () => toBob() === 1, "step 2's push to Bob is on the wire");

  // Ann takes the alert while Bob's push waits for its retry.
  const ack = await api(hub, 'PUT', `/api/v1/alerts/${alert.id}/acknowledge`, undefined, {
    token: ann.token,
  });
  expect(ack.status).toBe(200);
  const stepTwo = await hub.running.db
    .forProject(project.id)
    .notification.findFirst({ where: { alertId: alert.id, alertStep: 2 } });
  const pushQueue = createQueue(QUEUE_NAMES.push, {
    redisUrl: hub.running.services.config.redis.url,
    prefix: hub.running.services.keys.bullPrefix,
  });
  try {
    const job = (await pushQueue.getJob(`push-${stepTwo!.id}-${bob.id}`))!;
    // The retry runs (BullMQ's backoff) and finishes without sending.
    await eventually(async () => (await job.getState()) === 'completed', 'the retried push job finishes');
    expect(job.attemptsMade).toBeGreaterThanOrEqual(1);
  } finally {
    await pushQueue.close();
  }
  expect(toBob()).toBe(1);
  await dueNow(hub, project.id, alert.id); // even if step 3's time came, nothing fires
  const { redis, keys } = hub.running.services;
  await eventually(
    async () => (await redis.zscore(timerKey(keys), timerMember(project.id, alert.id))) === null,
    'the alert leaves the timer',
  );
  expect((await entriesOf(hub, project.id, alert.id, 'notified')).map((e) => e.step)).toEqual([1, 2]);
  const receipt = await hub.running.db
    .forProject(project.id)
    .notificationReceipt.findFirst({ where: { notificationId: stepTwo!.id } });
  expect(receipt!.deliveredAt).toBeNull();
});
