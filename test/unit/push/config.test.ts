import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/core/config.js';
import { testEnv } from '../../support/env.js';
import { apnsKey, serviceAccount } from '../../support/fakes/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'tocsin-push-config-'));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

const key = apnsKey();
const apnsEnv = {
  APNS_KEY_FILE: file('AuthKey.p8', key.keyP8),
  APNS_KEY_ID: key.keyId,
  APNS_TEAM_ID: key.teamId,
  APNS_BUNDLE_ID: key.bundleId,
  APNS_PRODUCTION: 'true',
};

describe('global push credentials in the configuration', () => {
  it('has none by default', () => {
    expect(loadConfig(testEnv()).push).toEqual({ fcm: undefined, apns: undefined });
  });

  it('reads the FCM service account file and the APNs .p8 key', () => {
    const account = serviceAccount();
    const config = loadConfig(
      testEnv({ FCM_SERVICE_ACCOUNT_FILE: file('sa.json', JSON.stringify(account)), ...apnsEnv }),
    );
    expect(config.push.fcm).toEqual({ serviceAccount: account });
    expect(config.push.apns).toEqual({ ...key, production: true });
  });

  it.each([
    [
      { FCM_SERVICE_ACCOUNT_FILE: join(dir, 'missing.json') },
      /^Invalid configuration: FCM_SERVICE_ACCOUNT_FILE: cannot read .* \(ENOENT\)$/,
    ],
    [{ FCM_SERVICE_ACCOUNT_FILE: file('bad.json', '{nope') }, /FCM_SERVICE_ACCOUNT_FILE: not a JSON file/],
    [
      { FCM_SERVICE_ACCOUNT_FILE: file('partial.json', JSON.stringify({ project_id: 'x' })) },
      /FCM_SERVICE_ACCOUNT_FILE: client_email:/,
    ],
    [
      { ...apnsEnv, APNS_PRODUCTION: '' },
      /^Invalid configuration: APNS_PRODUCTION: required with the other APNS_\* variables$/,
    ],
    [{ APNS_KEY_ID: key.keyId }, /APNS_KEY_FILE: required with the other APNS_\* variables/],
    [{ ...apnsEnv, APNS_KEY_FILE: file('not-a-key.p8', 'hello') }, /APNS_KEY_FILE: not a .p8 key/],
    [{ ...apnsEnv, APNS_TEAM_ID: 'team' }, /APNS_TEAM_ID: must be 10 upper-case letters or digits/],
  ])('stops with one line naming the variable (%#)', (env, message) => {
    expect(() => loadConfig(testEnv(env))).toThrow(message);
  });

  it('never prints the key file in an error', () => {
    const sec1 = '-----BEGIN EC PRIVATE KEY-----\nc2VjcmV0LW1hdGVyaWFs\n-----END EC PRIVATE KEY-----\n';
    const env = testEnv({ ...apnsEnv, APNS_KEY_FILE: file('sec1.p8', sec1) });
    expect(() => loadConfig(env)).toThrow(/APNS_KEY_FILE/);
    expect(() => loadConfig(env)).not.toThrow(/c2VjcmV0/);
  });
});
