import { getApps } from 'firebase-admin/app';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FcmCredentials } from '../../../src/domain/provider-credentials.js';
import { createFcmSender, type FcmSender } from '../../../src/workers/push/fcm.js';
import { buildPushPayload } from '../../../src/workers/push/payload.js';
import { startFakeFcm, type FakeFcm } from '../../support/fakes/fcm.js';
import { alert, deviceToken } from './support.js';

let fake: FakeFcm;
let sender: FcmSender;
beforeAll(async () => {
  fake = await startFakeFcm();
  sender = createFcmSender({ httpAgent: fake.agent, credential: fake.credential });
});
afterAll(async () => {
  await sender.close();
  await fake.close();
});

const credentialsOf = (firebaseProject: string): FcmCredentials => {
  const { project_id, client_email, private_key } = fake.serviceAccount(firebaseProject);
  return { serviceAccount: { project_id, client_email, private_key } };
};
const requestsFor = (token: string) => fake.requests.filter((r) => r.message.token === token);

describe('FCM sender', () => {
  it('puts title, body, data, sound, badge, collapse key and priority on the wire', async () => {
    const credentials = credentialsOf('fb-wire');
    const android = { id: 'd-android', token: deviceToken() };
    const web = { id: 'd-web', token: deviceToken() };
    const results = await sender.send('p-wire', credentials, [android, web], buildPushPayload(alert()));

    expect(results).toEqual([
      { deviceId: 'd-android', outcome: 'delivered' },
      { deviceId: 'd-web', outcome: 'delivered' },
    ]);
    const [sent] = requestsFor(android.token);
    expect(sent).toMatchObject({
      firebaseProject: 'fb-wire',
      clientEmail: credentials.serviceAccount.client_email,
    });
    expect(sent!.message).toEqual({
      token: android.token,
      notification: { title: 'Transfer failed', body: 'Batch 42 was rejected' },
      data: {
        notificationId: 'notification-1',
        projectId: 'project-1',
        ruleId: 'rule-1',
        eventType: 'transfer.failed',
        soundUrl: 'https://files.example/siren.caf?sig=abc',
      },
      android: {
        priority: 'high',
        collapse_key: 'rule-1',
        notification: { sound: 'siren.caf', tag: 'rule-1', notification_count: 3 },
      },
      webpush: {
        headers: { Urgency: 'high' },
        notification: { title: 'Transfer failed', body: 'Batch 42 was rejected', tag: 'rule-1' },
      },
    });
    expect(requestsFor(web.token)).toHaveLength(1);

    await sender.send('p-wire', credentials, [android], buildPushPayload(alert({ priority: -1 })));
    expect(requestsFor(android.token)[1]!.message.android.priority).toBe('normal');
  });

  it('classifies each device: dead tokens are invalid, 503 and quota are retried, 401 is ours', async () => {
    const devices = (
      ['ok', 'unregistered', 'invalid-token', 'unavailable', 'quota', 'unauthenticated'] as const
    ).map((answer) => {
      const token = deviceToken();
      fake.answer(token, answer);
      return { id: answer, token };
    });
    const results = await sender.send(
      'p-classify',
      credentialsOf('fb-classify'),
      devices,
      buildPushPayload(alert()),
    );
    expect(results.map((r) => [r.deviceId, r.outcome])).toEqual([
      ['ok', 'delivered'],
      ['unregistered', 'invalid_token'],
      ['invalid-token', 'invalid_token'],
      ['unavailable', 'retry'],
      ['quota', 'retry'],
      ['unauthenticated', 'provider_unhealthy'],
    ]);
    expect(results[1]!.error).toMatch(/registration-token-not-registered/);
  });

  it('reports rejected credentials as provider_unhealthy', async () => {
    const credentials = credentialsOf('fb-revoked');
    fake.revoke(credentials.serviceAccount.client_email);
    const devices = [
      { id: 'a', token: deviceToken() },
      { id: 'b', token: deviceToken() },
    ];
    const results = await sender.send('p-revoked', credentials, devices, buildPushPayload(alert()));
    expect(results).toEqual(
      devices.map((d) => ({
        deviceId: d.id,
        outcome: 'provider_unhealthy',
        error: expect.stringMatching(/auth/),
      })),
    );
  });

  it('rebuilds the Firebase app when the credentials change, and deletes the old one', async () => {
    const device = { id: 'd', token: deviceToken() };
    const first = credentialsOf('fb-rotate');
    const second = credentialsOf('fb-rotate');
    for (const credentials of [first, first, second]) {
      await sender.send('p-rotate', credentials, [device], buildPushPayload(alert()));
    }
    expect(requestsFor(device.token).map((r) => r.clientEmail)).toEqual([
      first.serviceAccount.client_email,
      first.serviceAccount.client_email,
      second.serviceAccount.client_email,
    ]);
    // The replaced app is deleted in the background.
    await vi.waitFor(() =>
      expect(getApps().filter((app) => app.name.startsWith('tocsin:p-rotate:'))).toHaveLength(1),
    );
  });
});
