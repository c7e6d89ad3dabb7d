// The storage and sound settings: defaults, and a bad combination stopping boot with one line.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/core/config.js';

describe('storage and sound configuration', () => {
  it('defaults to the local driver with 1 MiB sounds, 50 per project, 20 MiB in all', () => {
    const config = loadConfig({});
    expect(config.storage).toEqual({
      driver: 'local',
      localDir: './data/files',
      signedUrlTtlSeconds: 3600,
      s3: undefined,
    });
    expect(config.sounds).toEqual({ maxBytes: 1048576, quotaCount: 50, quotaBytes: 20971520 });
  });

  it('reads the S3 settings', () => {
    const config = loadConfig({
      STORAGE_DRIVER: 's3',
      S3_BUCKET: 'alerts',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_ACCESS_KEY_ID: 'id',
      S3_SECRET_ACCESS_KEY: 'secret',
    });
    expect(config.storage.s3).toEqual({
      bucket: 'alerts',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
    expect(loadConfig({ STORAGE_DRIVER: 's3', S3_BUCKET: 'alerts' }).storage.s3?.credentials).toBeUndefined();
  });

  it.each([
    [{ STORAGE_DRIVER: 's3' }, 'S3_BUCKET'],
    [{ STORAGE_DRIVER: 's3', S3_BUCKET: 'alerts', S3_ACCESS_KEY_ID: 'id' }, 'S3_ACCESS_KEY_ID'],
    [{ STORAGE_DRIVER: 'ftp' }, 'STORAGE_DRIVER'],
    [{ SIGNED_URL_TTL_SECONDS: '604801' }, 'SIGNED_URL_TTL_SECONDS'],
    [{ SOUND_MAX_BYTES: '10' }, 'SOUND_MAX_BYTES'],
    [{ S3_ENDPOINT: 'not a url' }, 'S3_ENDPOINT'],
  ])('stops on %j naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${name}:`));
  });
});
