import { describe, expect, it } from 'vitest';
import {
  apnsCredentialsSchema,
  credentialsFingerprint,
  providerCredentialsSchema,
  pusherCredentialsSchema,
  redactCredentials,
  withGlobalDefaults,
} from '../../../src/domain/provider-credentials.js';
import { testConfig } from '../../support/env.js';
import { apnsKey, serviceAccount } from '../../support/fakes/keys.js';

const pusher = { appId: '1', key: 'app-key', secret: 'app-secret-value', cluster: 'eu' };

describe('provider credentials', () => {
  it('accepts a full document and keeps only the service-account fields firebase-admin needs', () => {
    const account = { ...serviceAccount(), type: 'service_account', private_key_id: 'abc' };
    const parsed = providerCredentialsSchema.parse({
      fcm: { serviceAccount: account },
      apns: apnsKey(),
      pusher,
    });
    expect(Object.keys(parsed.fcm!.serviceAccount).sort()).toEqual([
      'client_email',
      'private_key',
      'project_id',
    ]);
    expect(parsed.pusher?.useTLS).toBe(true);
  });

  it('takes the APNs key only as PEM text, never as a path node-apn would read from disk', () => {
    expect(apnsCredentialsSchema.safeParse({ ...apnsKey(), keyP8: '/etc/passwd' }).success).toBe(false);
    expect(apnsCredentialsSchema.safeParse({ ...apnsKey(), keyId: 'short' }).success).toBe(false);
  });

  it('requires an explicit APNs environment, and a Pusher cluster or host', () => {
    const { production: _, ...withoutEnvironment } = apnsKey();
    expect(apnsCredentialsSchema.safeParse(withoutEnvironment).success).toBe(false);
    const { cluster: __, ...withoutCluster } = pusher;
    expect(pusherCredentialsSchema.safeParse(withoutCluster).success).toBe(false);
    expect(
      pusherCredentialsSchema.safeParse({ ...withoutCluster, host: '127.0.0.1', port: 6001 }).success,
    ).toBe(true);
  });

  it('redacts every secret', () => {
    const credentials = providerCredentialsSchema.parse({
      fcm: { serviceAccount: serviceAccount() },
      apns: apnsKey(),
      pusher,
    });
    const redacted = JSON.stringify(redactCredentials(credentials));
    expect(redacted).not.toContain('PRIVATE KEY');
    expect(redacted).not.toContain(pusher.secret);
    expect(redactCredentials(credentials)).toMatchObject({
      fcm: { projectId: 'fb-project', clientEmail: 'tocsin@fb-project.iam.gserviceaccount.com' },
      apns: { keyId: 'ABCDE12345', teamId: 'TEAM123456', bundleId: 'com.example.tocsin', production: false },
      pusher: { appId: '1', key: 'app-key', cluster: 'eu', useTLS: true },
    });
  });

  it('falls back to the global FCM and APNs credentials, never to a global Pusher', () => {
    const config = testConfig();
    const global = { fcm: { serviceAccount: serviceAccount('global') }, apns: apnsKey() };
    const withGlobal = { ...config, push: global };
    expect(withGlobalDefaults({}, withGlobal)).toEqual({ ...global, pusher: undefined });
    const own = { fcm: { serviceAccount: serviceAccount('own') } };
    expect(withGlobalDefaults(own, withGlobal).fcm).toBe(own.fcm);
    expect(withGlobalDefaults({}, config)).toEqual({ fcm: undefined, apns: undefined, pusher: undefined });
  });

  it('fingerprints credentials stably, and differently when any field changes', () => {
    const key = apnsKey();
    expect(credentialsFingerprint(key)).toBe(credentialsFingerprint({ ...key }));
    expect(credentialsFingerprint(key)).not.toBe(credentialsFingerprint({ ...key, production: true }));
    expect(credentialsFingerprint(key)).toMatch(/^[0-9a-f]{16}$/);
  });
});
