import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApnsCredentials } from '../../../src/domain/provider-credentials.js';
import { createApnsSender, type ApnsSender } from '../../../src/workers/push/apns.js';
import { APNS_PAYLOAD_MAX_BYTES, buildPushPayload } from '../../../src/workers/push/payload.js';
import { startFakeApns, type FakeApns } from '../../support/fakes/apns.js';
import { alert, deviceToken } from './support.js';

let fake: FakeApns;
let sender: ApnsSender;
beforeAll(async () => {
  fake = await startFakeApns();
  sender = createApnsSender({ endpoint: { address: fake.address, port: fake.port, ca: fake.ca } });
});
afterAll(async () => {
  await sender.close();
  await fake.close();
});

const credentialsOf = (): ApnsCredentials => ({
  ...fake.signingKey(),
  bundleId: 'com.example.tocsin',
  production: false,
});
const requestsFor = (token: string) => fake.requests.filter((r) => r.deviceToken === token);

describe('APNs sender', () => {
  it('puts alert, badge, sound, thread, data and the collapse id, topic and priority headers on the wire', async () => {
    const credentials = credentialsOf();
    const device = { id: 'd-ios', token: deviceToken() };
    const results = await sender.send('p-wire', credentials, [device], buildPushPayload(alert()));

    expect(results).toEqual([{ deviceId: 'd-ios', outcome: 'delivered' }]);
    const [sent] = requestsFor(device.token);
    expect(sent!.keyId).toBe(credentials.keyId);
    expect(sent!.headers).toEqual({
      'apns-topic': 'com.example.tocsin',
      'apns-priority': '10',
      'apns-push-type': 'alert',
      'apns-collapse-id': 'rule-1',
      'apns-expiration': undefined,
    });
    expect(sent!.payload).toEqual({
      aps: {
        alert: { title: 'Transfer failed', body: 'Batch 42 was rejected' },
        badge: 3,
        sound: 'siren.caf',
        'thread-id': 'rule-1',
      },
      notificationId: 'notification-1',
      projectId: 'project-1',
      ruleId: 'rule-1',
      eventType: 'transfer.failed',
      soundUrl: 'https://files.example/siren.caf?sig=abc',
    });

    await sender.send('p-wire', credentials, [device], buildPushPayload(alert({ priority: -1 })));
    expect(requestsFor(device.token)[1]!.headers['apns-priority']).toBe('5');
  });

  it('classifies each device: BadDeviceToken and 410 are invalid, 503 and 429 are retried, 403 is ours', async () => {
    const devices = (
      ['ok', 'bad-token', 'unregistered', 'unavailable', 'too-many', 'invalid-provider-token'] as const
    ).map((answer) => {
      const token = deviceToken();
      fake.answer(token, answer);
      return { id: answer, token };
    });
    const results = await sender.send('p-classify', credentialsOf(), devices, buildPushPayload(alert()));
    expect(results).toEqual([
      { deviceId: 'ok', outcome: 'delivered' },
      { deviceId: 'bad-token', outcome: 'invalid_token', error: '400 BadDeviceToken' },
      { deviceId: 'unregistered', outcome: 'invalid_token', error: '410 Unregistered' },
      { deviceId: 'unavailable', outcome: 'retry', error: '503 ServiceUnavailable' },
      { deviceId: 'too-many', outcome: 'retry', error: '429 TooManyRequests' },
      {
        deviceId: 'invalid-provider-token',
        outcome: 'provider_unhealthy',
        error: '403 InvalidProviderToken',
      },
    ]);
    // node-apn tries a 503 once more at once; backoff beyond that is the caller's.
    expect(fake.attempts.filter((t) => t === devices[3]!.token)).toHaveLength(2);
  });

  it('reports a revoked key (403 InvalidProviderToken) as provider_unhealthy', async () => {
    const credentials = credentialsOf();
    fake.revoke(credentials.keyId);
    const results = await sender.send(
      'p-revoked',
      credentials,
      [{ id: 'd', token: deviceToken() }],
      buildPushPayload(alert()),
    );
    expect(results).toEqual([
      { deviceId: 'd', outcome: 'provider_unhealthy', error: '403 InvalidProviderToken' },
    ]);
  });

  it('rebuilds the provider when the key changes', async () => {
    const device = { id: 'd', token: deviceToken() };
    const first = credentialsOf();
    const second = credentialsOf();
    for (const credentials of [first, first, second]) {
      await sender.send('p-rotate', credentials, [device], buildPushPayload(alert()));
    }
    expect(requestsFor(device.token).map((r) => r.keyId)).toEqual([first.keyId, first.keyId, second.keyId]);
  });

  it('retries when APNs cannot be reached', async () => {
    const unreachable = createApnsSender({ endpoint: { address: '127.0.0.1', port: 1, ca: fake.ca } });
    try {
      const results = await unreachable.send(
        'p-down',
        credentialsOf(),
        [{ id: 'd', token: deviceToken() }],
        buildPushPayload(alert()),
      );
      expect(results).toEqual([
        { deviceId: 'd', outcome: 'retry', error: expect.stringMatching(/ECONNREFUSED/) },
      ]);
    } finally {
      await unreachable.close();
    }
  });
});

describe('APNs limits', () => {
  afterEach(() => vi.useRealTimers());

  it('renews the provider token before it is an hour old, and not within 20 minutes', async () => {
    // Only Date is faked: the HTTP/2 session and its timers run for real.
    const start = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now: start });
    const credentials = credentialsOf();
    const device = { id: 'd', token: deviceToken() };
    const sendAt = async (minutes: number) => {
      vi.setSystemTime(start + minutes * 60_000);
      return sender.send('p-token-age', credentials, [device], buildPushPayload(alert()));
    };
    // The fake answers 429 to a token renewed within 20 min and 403 to one over an hour old.
    for (const minutes of [0, 1, 19, 21, 40, 54, 56, 75, 100, 112, 130]) {
      expect(await sendAt(minutes), `at minute ${minutes}`).toEqual([
        { deviceId: 'd', outcome: 'delivered' },
      ]);
    }
    const ages = fake.tokens
      .filter((t) => t.keyId === credentials.keyId)
      .map((t) => Math.round((t.iat - Math.floor(start / 1000)) / 60));
    // One token per 55 minutes: renewed at the first send past that age.
    expect(ages).toEqual([0, 56, 112]);
    expect(fake.attempts.filter((t) => t === device.token)).toHaveLength(11);
  });

  it("shortens the body (then the title) to Apple's 4 KB, on whole characters", async () => {
    const credentials = credentialsOf();
    const cases = [
      { title: 'Short title', body: 'ä'.repeat(5_000) },
      { title: 'Emoji', body: '🚨'.repeat(3_000) },
      { title: 'T'.repeat(6_000), body: 'Body' },
    ];
    for (const input of cases) {
      const device = { id: 'd', token: deviceToken() };
      const payload = buildPushPayload(alert(input));
      expect(Buffer.byteLength(JSON.stringify(payload.apns.payload))).toBeLessThanOrEqual(
        APNS_PAYLOAD_MAX_BYTES,
      );
      expect(await sender.send('p-size', credentials, [device], payload)).toEqual([
        { deviceId: 'd', outcome: 'delivered' },
      ]);
      const { alert: shown } = requestsFor(device.token)[0]!.payload.aps;
      if (input.title.length < 100) {
        expect(shown.title).toBe(input.title);
        expect(shown.body.endsWith('…')).toBe(true);
        expect(input.body.startsWith(shown.body.slice(0, -1))).toBe(true);
        // As much as fits: one more character would not.
        const wire = JSON.stringify(requestsFor(device.token)[0]!.payload);
        expect(Buffer.byteLength(wire)).toBeGreaterThan(APNS_PAYLOAD_MAX_BYTES - 4);
      } else {
        expect(shown.body).toBe('');
        expect(shown.title.endsWith('…')).toBe(true);
      }
    }
  });

  it('leaves a payload that fits alone, and the fake refuses one past 4 KB (413) as Apple does', async () => {
    const exact = buildPushPayload(alert({ body: 'b' }));
    expect(exact.apns.payload.aps.alert).toEqual({ title: 'Transfer failed', body: 'b' });
    // Past the sender's guard, straight from the payload builder's output made too large.
    const tooLarge = buildPushPayload(alert());
    tooLarge.apns.payload.padding = 'p'.repeat(APNS_PAYLOAD_MAX_BYTES);
    const results = await sender.send(
      'p-size',
      credentialsOf(),
      [{ id: 'd', token: deviceToken() }],
      tooLarge,
    );
    expect(results).toEqual([{ deviceId: 'd', outcome: 'rejected', error: '413 PayloadTooLarge' }]);
  });
});
