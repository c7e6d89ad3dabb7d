// GET /files/<key>?expires=…&signature=… — files of the local storage driver, behind signed,
// expiring URLs (domain/storage/local.ts makes them). With the S3 driver URLs point at the bucket
// and this route finds nothing.
import { Readable } from 'node:stream';
import type { DomainDeps } from '../../domain/deps.js';
import { mimeTypeOfExtension } from '../../domain/sound-format.js';
import { sendError } from '../middleware/errors.js';
import { createRouter } from '../openapi.js';

export function fileRoutes(deps: Pick<DomainDeps, 'storage'>) {
  const router = createRouter();
  // Not in the OpenAPI document: these URLs are handed out, never built by clients.
  router.get('/files/:key{.+}', async (c) => {
    const { storage } = deps;
    if (storage.kind !== 'local') return sendError(c, 404, 'not_found', 'File not found');
    const key = c.req.param('key');
    const { expires, signature } = c.req.query();
    const verdict = storage.verify(key, expires, signature);
    if (verdict === 'expired')
      return sendError(c, 403, 'url_expired', 'This file URL has expired; ask for a new one');
    if (verdict !== 'ok') return sendError(c, 403, 'signature_invalid', 'This file URL is not valid');
    const file = await storage.open(key);
    if (!file) return sendError(c, 404, 'not_found', 'File not found');
    const maxAge = Math.max(0, Number(expires) - Math.floor(Date.now() / 1000));
    return c.body(Readable.toWeb(file.stream) as ReadableStream, 200, {
      'Content-Type': mimeTypeOfExtension(key.split('.').pop()!) ?? 'application/octet-stream',
      'Content-Length': String(file.size),
      'Cache-Control': `private, max-age=${maxAge}`,
      // The signature is the access control: pages of other origins may play the sound.
      'Cross-Origin-Resource-Policy': 'cross-origin',
    });
  });
  return router;
}
