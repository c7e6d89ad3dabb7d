// /api/v1/heartbeats — project admins declare the event sources that must check in; a source
// pings with the project's API key. A deadline passed without a ping emits `source.silent`.
import { createRoute } from '@hono/zod-openapi';
import type { DomainDeps } from '../../domain/deps.js';
import * as heartbeats from '../../domain/heartbeats.js';
import { authenticate, projectOf, requirePermission } from '../middleware/auth.js';
import {
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonContent,
  pageOf,
  PageQuery,
  security,
  z,
} from '../openapi.js';

const HeartbeatSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    intervalSeconds: z.number(),
    lastSeenAt: z.date().nullable(),
    dueBy: z.date().openapi({ description: 'Without a ping by then, source.silent is emitted' }),
    silentSince: z.date().nullable(),
    state: z.enum(['ok', 'silent']),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .openapi('Heartbeat');

const CreateHeartbeat = z
  .object({
    name: z.string().trim().min(1).max(120),
    intervalSeconds: z
      .number()
      .int()
      .min(60, 'intervalSeconds is at least 60')
      .max(7 * 86_400, 'intervalSeconds is at most 604800 (7 days)')
      .openapi({ description: 'How often the source must ping (60 s to 7 days)' }),
  })
  .openapi('CreateHeartbeat', { example: { name: 'nightly-settlement', intervalSeconds: 3600 } });

const tags = ['Heartbeats'];

export function heartbeatRoutes(deps: DomainDeps) {
  const router = createRouter();
  const admin = () => [authenticate(deps, 'user', 'superAdmin'), requirePermission('projects:admin')];
  const errors = errorResponses(400, 401, 403, 404);

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: `Declare a source that must ping (at most ${heartbeats.MAX_HEARTBEATS} per project)`,
      security: security.bearerOrSuperAdmin,
      middleware: admin(),
      request: { body: jsonBody(CreateHeartbeat) },
      responses: { 201: jsonContent(HeartbeatSchema, 'The heartbeat'), ...errors, ...errorResponses(409) },
    }),
    async (c) =>
      c.json(
        await heartbeats.createHeartbeat(deps, c.get('principal'), projectOf(c), c.req.valid('json')),
        201,
      ),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List heartbeats by name',
      security: security.bearerOrSuperAdmin,
      middleware: admin(),
      request: { query: PageQuery },
      responses: { 200: jsonContent(pageOf(HeartbeatSchema), 'A page of heartbeats'), ...errors },
    }),
    async (c) => c.json(await heartbeats.listHeartbeats(deps, projectOf(c), c.req.valid('query')), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'Get a heartbeat',
      security: security.bearerOrSuperAdmin,
      middleware: admin(),
      request: { params: IdParam },
      responses: { 200: jsonContent(HeartbeatSchema, 'The heartbeat'), ...errors },
    }),
    async (c) => c.json(await heartbeats.getHeartbeat(deps, projectOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags,
      summary: 'Delete a heartbeat',
      security: security.bearerOrSuperAdmin,
      middleware: admin(),
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...errors },
    }),
    async (c) => {
      await heartbeats.deleteHeartbeat(deps, c.get('principal'), projectOf(c), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/ping',
      tags,
      summary:
        'Check in (the source, API key): moves the deadline on; after a silence emits source.recovered',
      security: security.apiKey,
      middleware: [authenticate(deps, 'apiKey')],
      request: { params: IdParam },
      responses: { 200: jsonContent(HeartbeatSchema, 'The heartbeat'), ...errorResponses(401, 404) },
    }),
    async (c) => c.json(await heartbeats.pingHeartbeat(deps, projectOf(c), c.req.valid('param').id), 200),
  );

  return router;
}
