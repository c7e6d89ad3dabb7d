// The default driver: files on local disk under one root, served by GET /files/<key> with a
// signed, expiring query string (routes/files.ts).
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { randomToken } from '../../core/crypto.js';
import type { ObjectStorage } from './index.js';
import { assertSafeKey, isSafeKey } from './keys.js';
import { createUrlSigner, type Verdict } from './signing.js';

export interface LocalStorage extends ObjectStorage {
  kind: 'local';
  /** Checks a signed URL's query; `ok` means the caller may read the object. */
  verify(key: string, expires: string | undefined, signature: string | undefined): Verdict;
  /** The object's bytes and size, or null when there is none. */
  open(key: string): Promise<{ stream: Readable; size: number } | null>;
}

export function createLocalStorage(options: {
  dir: string;
  publicUrl: string;
  secret: Buffer;
}): LocalStorage {
  const root = resolve(options.dir);
  const signer = createUrlSigner(options.secret);
  const base = options.publicUrl.replace(/\/+$/, '');

  const pathOf = (key: string) => {
    assertSafeKey(key);
    const path = join(root, key);
    // Belt and braces: isSafeKey already forbids "..", this proves the join stayed inside.
    if (!path.startsWith(root + sep)) throw new Error(`Storage key escapes the root: ${key}`);
    return path;
  };

  return {
    kind: 'local',
    async put(key, body) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      // Write then rename: a reader never sees half a file.
      const partial = `${path}.${randomToken(6)}.partial`;
      await writeFile(partial, body);
      await rename(partial, path);
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async signedUrl(key, ttlSeconds) {
      assertSafeKey(key);
      const { expires, signature } = signer.sign(key, Math.floor(Date.now() / 1000) + ttlSeconds);
      return `${base}/files/${key}?expires=${expires}&signature=${signature}`;
    },
    verify: (key, expires, signature) =>
      isSafeKey(key) ? signer.verify(key, expires, signature) : 'invalid',
    async open(key) {
      const path = pathOf(key);
      try {
        const info = await stat(path);
        if (!info.isFile()) return null;
        return { stream: createReadStream(path), size: info.size };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    },
    close: async () => {},
  };
}
