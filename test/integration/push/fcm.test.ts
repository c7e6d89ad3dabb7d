import { generateKeyPairSync } from 'node:crypto';
import https from 'node:https';
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

describe("FCM with firebase-admin's own cert() credential", () => {
  /**
   * The product's default sender (no injected credential). cert()'s token request ignores
   * httpAgent for a key given as an object, so it is sent through https.globalAgent, pointed
   * at the fake for the test.
   */
  async function withCertSender(run: (real: FcmSender) => Promise<void>) {
    const previous = https.globalAgent;
    https.globalAgent = fake.agent;
    const real = createFcmSender({ httpAgent: fake.agent });
    try {
      await run(real);
    } finally {
      https.globalAgent = previous;
      await real.close();
    }
  }

  it('exchanges the service account for an access token, sends with it and reuses it', async () => {
    await withCertSender(async (real) => {
      const credentials = credentialsOf('fb-cert');
      const email = credentials.serviceAccount.client_email;
      const devices = [1, 2].map((i) => ({ id: `d${i}`, token: deviceToken() }));
      for (const device of devices) {
        expect(await real.send('p-cert', credentials, [device], buildPushPayload(alert()))).toEqual([
          { deviceId: device.id, outcome: 'delivered' },
        ]);
      }
      // One exchange, whose assertion the fake verified against the account's public key.
      const exchanges = fake.exchanges.filter((e) => e.clientEmail === email);
      expect(exchanges).toHaveLength(1);
      expect(exchanges[0]!.scopes).toContain('https://www.googleapis.com/auth/firebase.messaging');
      for (const device of devices) {
        expect(requestsFor(device.token)).toEqual([
          expect.objectContaining({ firebaseProject: 'fb-cert', clientEmail: email, via: 'exchanged' }),
        ]);
      }
    });
  });

  it('gets no token for an assertion signed with a key Google does not know', async () => {
    await withCertSender(async (real) => {
      const credentials = credentialsOf('fb-forged');
      // The right account, the wrong private key: the assertion's signature does not verify.
      const forged = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString();
      const refusedBefore = fake.refusedExchanges.length;
      const device = { id: 'd', token: deviceToken() };
      const results = await real.send(
        'p-forged',
        { serviceAccount: { ...credentials.serviceAccount, private_key: forged } },
        [device],
        buildPushPayload(alert()),
      );
      expect(results).toEqual([{ deviceId: 'd', outcome: 'provider_unhealthy', error: expect.any(String) }]);
      expect(fake.refusedExchanges.slice(refusedBefore)).toEqual([
        expect.stringMatching(/^Invalid JWT Signature/),
      ]);
      expect(requestsFor(device.token)).toEqual([]);
    });
  });
});
