// GET /files/<key>: the local driver's signed, expiring URLs. Expired, tampered or unsigned
// URLs get a 403 with the error body; no key can reach outside the storage root.
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSafeKey } from '../../../src/domain/storage/keys.js';
import { api, createTestProject, expectError, superAdminToken } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { download, expectAudio, uploadSound, wav } from './audio.js';

let hub: TestHub;
let dir: string;
let key: string;
let signed: URL;
const bytes = wav(1500);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-files-'));
  // A file beside the storage root that no URL may reach.
  await writeFile(join(dir, 'secret.txt'), 'outside');
  hub = await startHub({ STORAGE_LOCAL_DIR: join(dir, 'root'), SIGNED_URL_TTL_SECONDS: '600' }, ['api']);
  const project = await createTestProject(hub, await superAdminToken(hub));
  const sound = (await uploadSound(hub, project.adminToken, { name: 'ping', bytes })).body;
  signed = new URL(sound.url);
  key = signed.pathname.slice('/files/'.length);
});
afterAll(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

const get = (path: string) => api(hub, 'GET', path);
const withQuery = (path: string, query: Record<string, string>) => `${path}?${new URLSearchParams(query)}`;
const expires = () => signed.searchParams.get('expires')!;
const signature = () => signed.searchParams.get('signature')!;

describe('GET /files/:key', () => {
  it('serves the file with its type, length and a cache lifetime within the URL expiry', async () => {
    const res = await download(hub, signed.toString());
    expectAudio(res, bytes, 'audio/wav');
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control')!)![1]);
    expect(maxAge).toBeGreaterThan(590);
    expect(maxAge).toBeLessThanOrEqual(600);
    expect(Number(expires()) - Date.now() / 1000).toBeGreaterThan(590);
  });

  it('refuses an expired URL with 403 url_expired', async () => {
    const expired = new URL(await hub.running.services.storage.signedUrl(key, -1));
    expectError(await get(`${expired.pathname}${expired.search}`), 403, 'url_expired');
  });

  it('refuses tampered, foreign or missing signatures with 403 signature_invalid', async () => {
    const path = signed.pathname;
    const flipped = signature().replace(/^./, (c) => (c === '0' ? '1' : '0'));
    const cases = [
      withQuery(path, { expires: expires(), signature: flipped }),
      withQuery(path, { expires: String(Number(expires()) + 3600), signature: signature() }),
      withQuery(path.replace(/\.wav$/, '.ogg'), { expires: expires(), signature: signature() }),
      withQuery(path, { expires: expires() }),
      withQuery(path, { signature: signature() }),
      withQuery(path, { expires: '-5', signature: signature() }),
      withQuery(path, { expires: expires(), signature: signature().slice(0, 10) }),
      path,
    ];
    for (const url of cases) expectError(await get(url), 403, 'signature_invalid');
  });

  it('cannot be made to climb out of the storage root', async () => {
    const query = `?expires=${expires()}&signature=${signature()}`;
    for (const path of [
      '/files/..%2Fsecret.txt',
      '/files/%2e%2e/secret.txt',
      `/files/${key.split('/')[0]}/..%2F..%2Fsecret.txt`,
      '/files/%2Fetc%2Fpasswd',
      '/files/..%5Csecret.txt',
    ]) {
      const res = await get(`${path}${query}`);
      // 403 for the key, or 404 where the client already resolved the dots into another route.
      expect([403, 404], path).toContain(res.status);
      expect(JSON.stringify(res.body)).not.toContain('outside');
    }
    // A raw request path is not normalised by any client.
    const raw = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      request(
        `${hub.apiUrl}/files/../secret.txt${query}`,
        { path: `/files/../secret.txt${query}` },
        (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      )
        .on('error', reject)
        .end();
    });
    expect(raw.body).not.toContain('outside');
    expect([403, 404]).toContain(raw.status);
  });

  it('finds nothing for a validly signed key with no file (404)', async () => {
    const url = new URL(await hub.running.services.storage.signedUrl('nobody/sounds/none.wav', 60));
    expectError(await get(`${url.pathname}${url.search}`), 404, 'not_found');
  });
});

describe('storage keys', () => {
  it.each(['a/sounds/b.wav', 'p-1/x_y.z.mp3'])('accepts %s', (k) => expect(isSafeKey(k)).toBe(true));
  it.each([
    '',
    '../x',
    'a/../b',
    'a//b',
    '/abs',
    'a/',
    'a\\b',
    '.hidden',
    'a/..',
    'a/b..c',
    'ü',
    'x'.repeat(513),
  ])('refuses %j', (k) => expect(isSafeKey(k)).toBe(false));

  it('will not sign or store an unsafe key', async () => {
    const storage = hub.running.services.storage;
    await expect(storage.signedUrl('../secret.txt', 60)).rejects.toThrow(/Unsafe storage key/);
    await expect(storage.put('a/../../x', Buffer.from('x'), 'text/plain')).rejects.toThrow(
      /Unsafe storage key/,
    );
  });
});
