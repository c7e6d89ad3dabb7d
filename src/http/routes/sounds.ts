// /api/v1/sounds — audio files rules can play. Uploads are multipart with their own body limit.
import { createRoute } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { DomainDeps } from '../../domain/deps.js';
import * as sounds from '../../domain/sounds.js';
import { authenticate, projectOf, requirePermission } from '../middleware/auth.js';
import { sendError } from '../middleware/errors.js';
import {
  createRouter,
  errorResponses,
  IdParam,
  jsonContent,
  pageOf,
  PageQuery,
  security,
  z,
} from '../openapi.js';

/** Where the router is mounted; the app-wide body limit leaves uploads to this router. */
export const SOUNDS_PATH = '/api/v1/sounds';

/** Room for the multipart envelope (boundaries, part headers, the name field) around the file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

const SoundSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    fileName: z.string().openapi({ description: 'The uploaded file name: the native sound field of pushes' }),
    mimeType: z.string().openapi({ description: 'audio/mpeg, audio/ogg or audio/wav', example: 'audio/wav' }),
    sizeBytes: z.number().int(),
    createdAt: z.date(),
    url: z.string().openapi({ description: 'Signed URL to download the file, valid SIGNED_URL_TTL_SECONDS' }),
  })
  .openapi('Sound');

const SoundUpload = z
  .object({
    name: z.string().trim().min(1).max(120),
    file: z.instanceof(File).openapi({
      type: 'string',
      format: 'binary',
      description:
        'MP3, Ogg or WAV, recognised by its content (not its name or type); at most SOUND_MAX_BYTES',
    }),
  })
  .openapi('SoundUpload');

const SoundPage = pageOf(SoundSchema)
  .extend({
    quota: z
      .object({
        count: z.number().int().openapi({ description: 'Sounds a project may have (SOUND_QUOTA_COUNT)' }),
        bytes: z.number().int().openapi({ description: 'Bytes all its sounds may take (SOUND_QUOTA_BYTES)' }),
        fileBytes: z.number().int().openapi({ description: 'Bytes one sound may have (SOUND_MAX_BYTES)' }),
      })
      .openapi({ description: "The hub's limits, the same for every project" }),
  })
  .openapi('SoundPage');

const quotaOf = ({ config }: DomainDeps) => ({
  count: config.sounds.quotaCount,
  bytes: config.sounds.quotaBytes,
  fileBytes: config.sounds.maxBytes,
});

const tags = ['Sounds'];

export function soundRoutes(deps: DomainDeps) {
  const router = createRouter();
  router.use('*', authenticate(deps, 'user', 'superAdmin'));
  const { maxBytes } = deps.config.sounds;
  const uploadLimit = bodyLimit({
    maxSize: maxBytes + MULTIPART_OVERHEAD_BYTES,
    onError: (c) => sendError(c, 413, 'sound_too_large', `A sound may have at most ${maxBytes} bytes`),
  });
  const errors = errorResponses(400, 401, 403);

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Upload a sound (multipart: name, file); names are unique per project',
      description:
        'Refused with 413 `sound_too_large` above SOUND_MAX_BYTES, 400 `sound_format_unsupported` for anything ' +
        'but MP3/Ogg/WAV content, 409 `sound_name_taken`, and 409 `sound_quota_count` / `sound_quota_bytes` ' +
        'past the per-project quota (SOUND_QUOTA_COUNT sounds, SOUND_QUOTA_BYTES in all).',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('sounds:write'), uploadLimit] as const,
      request: { body: { required: true, content: { 'multipart/form-data': { schema: SoundUpload } } } },
      responses: {
        201: jsonContent(SoundSchema, 'The stored sound'),
        ...errors,
        ...errorResponses(409, 413, 415),
      },
    }),
    async (c) => {
      const { name, file } = c.req.valid('form');
      const upload = { name, fileName: file.name, bytes: Buffer.from(await file.arrayBuffer()) };
      return c.json(await sounds.createSound(deps, c.get('principal'), projectOf(c), upload), 201);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: "List the project's sounds, each with a fresh signed URL (any project user)",
      security: security.bearerOrSuperAdmin,
      request: { query: PageQuery },
      responses: { 200: jsonContent(SoundPage, 'A page of sounds, by name, and the quota'), ...errors },
    }),
    async (c) =>
      c.json(
        { ...(await sounds.listSounds(deps, projectOf(c), c.req.valid('query'))), quota: quotaOf(deps) },
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags,
      summary: 'Delete a sound and its file (409 `sound_in_use` while a rule that is not deleted plays it)',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('sounds:write')] as const,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...errors, ...errorResponses(404, 409) },
    }),
    async (c) => {
      await sounds.deleteSound(deps, c.get('principal'), projectOf(c), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  return router;
}
