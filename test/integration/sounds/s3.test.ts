// The S3 driver against s3rver on loopback: uploads land in the bucket, URLs are presigned
// (and expire), deleting a sound deletes its object; the local file route stays dark.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { presignedUrlFailure } from '../../support/sigv4.js';
import { download, expectAudio, mp3WithId3, uploadSound, wav } from './audio.js';

const BUCKET = 'tocsin-sounds';
let s3: S3rver;
let endpoint: string;
let dir: string;
let hub: TestHub;
let project: TestProject;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-s3-'));
  s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const { port } = await s3.run();
  endpoint = `http://127.0.0.1:${port}`;
  hub = await startHub(
    {
      STORAGE_DRIVER: 's3',
      S3_BUCKET: BUCKET,
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
    },
    ['api'],
  );
  project = await createTestProject(hub, await superAdminToken(hub));
});
afterAll(async () => {
  await hub?.close();
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('S3 storage', () => {
  it('stores the upload in the bucket and hands out a presigned URL that serves it', async () => {
    const bytes = mp3WithId3();
    const res = await uploadSound(hub, project.adminToken, { name: 'chime', bytes, fileName: 'chime.mp3' });
    expect(res.status).toBe(201);
    const url = new URL(res.body.url);
    expect(url.origin).toBe(endpoint);
    expect(url.pathname).toBe(`/${BUCKET}/${project.id}/sounds/${res.body.id}.mp3`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    expectAudio(await download(hub, res.body.url), bytes, 'audio/mpeg');

    const listed = await api(hub, 'GET', '/api/v1/sounds', undefined, { token: project.adminToken });
    expectAudio(await download(hub, listed.body.items[0].url), bytes, 'audio/mpeg');
  });

  // s3rver checks a presigned URL's expiry and access key, not its v4 signature.
  it('presigns URLs that stop working once expired', async () => {
    const res = await uploadSound(hub, project.adminToken, { name: 'short', bytes: wav() });
    const storage = hub.running.services.storage;
    const key = `${project.id}/sounds/${res.body.id}.wav`;
    // A URL signed an hour ago for a minute.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() - 3_600_000);
    const expired = await storage.signedUrl(key, 60).finally(() => vi.useRealTimers());
    const refused = await download(hub, expired);
    expect(refused.status).toBe(403);
    expect(refused.bytes.toString()).toContain('Request has expired');

    const fresh = new URL(await storage.signedUrl(key, 60));
    expect((await download(hub, fresh.toString())).status).toBe(200);
    fresh.searchParams.set(
      'X-Amz-Credential',
      fresh.searchParams.get('X-Amz-Credential')!.replace('S3RVER', 'NOBODY'),
    );
    expect((await download(hub, fresh.toString())).status).toBe(403);
  });

  // s3rver does not check the signature: our own SigV4 verifier does, as S3 would.
  it('presigns with a valid SigV4 signature over the path, the expiry and the host', async () => {
    const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    const res = await uploadSound(hub, project.adminToken, { name: 'signed', bytes: wav() });
    const url = new URL(res.body.url);
    expect(presignedUrlFailure(url.toString(), credentials)).toBeUndefined();
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^S3RVER\/\d{8}\/us-east-1\/s3\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');

    const tampered = (change: (u: URL) => void) => {
      const copy = new URL(url);
      change(copy);
      return presignedUrlFailure(copy.toString(), credentials);
    };
    // Another tenant's object, a longer life, another host: each breaks the signature.
    expect(tampered((u) => (u.pathname = u.pathname.replace(project.id, 'another-project')))).toBe(
      'Signature mismatch',
    );
    expect(tampered((u) => u.searchParams.set('X-Amz-Expires', '604800'))).toBe('Signature mismatch');
    expect(tampered((u) => (u.host = `localhost:${u.port}`))).toBe('Signature mismatch');
    expect(presignedUrlFailure(url.toString(), { ...credentials, secretAccessKey: 'other' })).toBe(
      'Signature mismatch',
    );
    const signedAt = Date.parse(
      url.searchParams
        .get('X-Amz-Date')!
        .replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    expect(presignedUrlFailure(url.toString(), credentials, new Date(signedAt + 3_601_000))).toBe(
      'Request has expired',
    );
  });

  it('deletes the object with the sound', async () => {
    const res = await uploadSound(hub, project.adminToken, { name: 'gone', bytes: wav() });
    expect((await download(hub, res.body.url)).status).toBe(200);
    const deleted = await api(hub, 'DELETE', `/api/v1/sounds/${res.body.id}`, undefined, {
      token: project.adminToken,
    });
    expect(deleted.status).toBe(204);
    expect((await download(hub, res.body.url)).status).toBe(404);
  });

  it('leaves the local file route dark', async () => {
    expectError(
      await api(hub, 'GET', `/files/${project.id}/sounds/x.wav?expires=1&signature=x`),
      404,
      'not_found',
    );
  });
});
