// /api/v1/projects — super admins manage tenants.
import { createRoute } from '@hono/zod-openapi';
import type { DomainDeps } from '../../domain/deps.js';
import * as projects from '../../domain/projects.js';
import { authenticate } from '../middleware/auth.js';
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

export const WebhookUrl = z.url({ protocol: /^https?$/ }).max(2048);
const Settings = z.record(z.string(), z.unknown()).openapi({
  description:
    'Partial settings: gateway, rateLimits, suppression, delivery, retention (see the Project schema)',
  example: { gateway: { clientEvents: true }, suppression: { maxMatches: 5, windowSeconds: 60 } },
});

export const ProjectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    slug: z.string(),
    description: z.string().nullable(),
    webhookUrl: z.string().nullable(),
    status: z.enum(['active', 'disabled']),
    settings: z.record(z.string(), z.unknown()),
    apiKeyPrefix: z.string().openapi({ description: 'The first characters of the API key, to recognise it' }),
    gateway: z.object({ appId: z.string(), key: z.string() }),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .openapi('Project');

const CreateProject = projects.newProjectSchema
  .extend({
    description: z.string().max(5000).optional(),
    webhookUrl: WebhookUrl.optional(),
    settings: Settings.optional(),
    // describe(), not openapi(): the domain schema may be built before @hono/zod-openapi has
    // extended zod (a script importing the domain first), and then has no openapi() method.
    admin: projects.newProjectSchema.shape.admin.describe(
      "The project's first admin. Without a password a one-time setup token is returned.",
    ),
  })
  .openapi('CreateProject', {
    example: {
      name: 'Payments',
      slug: 'payments',
      admin: { email: 'ops@example.com', fullName: 'Ops Lead' },
    },
  });

const CreatedProject = z
  .object({
    project: ProjectSchema,
    apiKey: z.string().openapi({ description: 'Shown only this once', example: 'tk_3k9…' }),
    gateway: z.object({
      appId: z.string(),
      key: z.string(),
      secret: z.string().openapi({ description: 'Shown only this once' }),
    }),
    admin: z.object({ id: z.string(), email: z.string(), setupToken: z.string().optional() }).optional(),
  })
  .openapi('CreatedProject');

/** What both a super admin and a project admin may change about a project. */
export const projectChanges = {
  name: z.string().trim().min(1).max(120).optional(),
  description: z.string().max(5000).nullable().optional(),
  webhookUrl: WebhookUrl.nullable().optional(),
};

export const NewApiKey = z
  .object({ apiKey: z.string(), apiKeyPrefix: z.string() })
  .openapi('NewApiKey', { description: 'The new key, shown only this once' });

const UpdateProject = z
  .object({
    ...projectChanges,
    status: z.enum(['active', 'disabled']).optional(),
    settings: Settings.optional(),
  })
  .openapi('UpdateProject');

const Stats = z
  .object({
    users: z.object({ pending: z.number(), active: z.number(), suspended: z.number(), total: z.number() }),
    rules: z.object({ total: z.number(), active: z.number() }),
    events: z.number(),
    notifications: z.number(),
    receipts: z.object({
      total: z.number(),
      delivered: z.number(),
      acknowledged: z.number(),
      deliveredRatio: z.number(),
      acknowledgedRatio: z.number(),
    }),
  })
  .openapi('ProjectStats');

const tags = ['Projects'];

export function projectRoutes(deps: DomainDeps) {
  const router = createRouter();
  router.use('*', authenticate(deps, 'superAdmin'));
  const errors = errorResponses(400, 401, 403, 404);

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Create a project (tenant) with its roles, API key, gateway credentials and first admin',
      security: security.superAdmin,
      request: { body: jsonBody(CreateProject) },
      responses: {
        201: jsonContent(CreatedProject, 'The project, with its secrets shown once'),
        ...errors,
        ...errorResponses(409),
      },
    }),
    async (c) => c.json(await projects.createProject(deps, c.get('principal'), c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List projects',
      security: security.superAdmin,
      request: {
        query: PageQuery.extend({
          status: z.enum(['active', 'disabled', 'deleted']).optional(),
          search: z.string().max(120).optional(),
        }),
      },
      responses: { 200: jsonContent(pageOf(ProjectSchema), 'A page of projects'), ...errors },
    }),
    async (c) => c.json(await projects.listProjects(deps, c.req.valid('query')), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'Get a project',
      security: security.superAdmin,
      request: { params: IdParam },
      responses: { 200: jsonContent(ProjectSchema, 'The project'), ...errors },
    }),
    async (c) => c.json(await projects.getProject(deps, c.req.valid('param').id), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}',
      tags,
      summary: 'Change a project (settings are merged per section)',
      security: security.superAdmin,
      request: { params: IdParam, body: jsonBody(UpdateProject) },
      responses: { 200: jsonContent(ProjectSchema, 'The changed project'), ...errors },
    }),
    async (c) =>
      c.json(
        await projects.updateProject(deps, c.get('principal'), c.req.valid('param').id, c.req.valid('json')),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags,
      summary: 'Delete a project (soft: its keys, tokens and sessions stop working at once)',
      security: security.superAdmin,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...errors },
    }),
    async (c) => {
      await projects.deleteProject(deps, c.get('principal'), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/regenerate-api-key',
      tags,
      summary: 'Replace the API key (the old one stops working at once on every node)',
      security: security.superAdmin,
      request: { params: IdParam },
      responses: {
        200: jsonContent(NewApiKey, 'The new key, shown once'),
        ...errors,
      },
    }),
    async (c) =>
      c.json(await projects.regenerateApiKey(deps, c.get('principal'), c.req.valid('param').id), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/stats',
      tags,
      summary: 'Counts of users, rules, events, notifications and delivery ratios',
      security: security.superAdmin,
      request: { params: IdParam },
      responses: { 200: jsonContent(Stats, 'Project statistics'), ...errors },
    }),
    async (c) => c.json(await projects.projectStats(deps, c.req.valid('param').id), 200),
  );

  return router;
}
