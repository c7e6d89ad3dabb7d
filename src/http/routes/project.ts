// /api/v1/project — the caller's own project, for its admins (projects:admin): read it, change
// what a project admin may change (domain/settings.ts draws the line), rotate its API key.
// Everything else about a project is the super admin's (routes/projects.ts).
import { createRoute } from '@hono/zod-openapi';
import type { DomainDeps } from '../../domain/deps.js';
import * as projects from '../../domain/projects.js';
import { PROJECT_ADMIN_SECTIONS, projectAdminSettingsSchema, superAdminSets } from '../../domain/settings.js';
import { authenticate, projectOf, requirePermission } from '../middleware/auth.js';
import { createRouter, errorResponses, jsonBody, jsonContent, security, z } from '../openapi.js';
import { NewApiKey, projectChanges, ProjectSchema } from './projects.js';

// Re-wrapped: the domain schema may be built before zod is extended with .openapi().
const AdminSettings = z
  .strictObject(projectAdminSettingsSchema.shape, superAdminSets(PROJECT_ADMIN_SECTIONS))
  .openapi('ProjectAdminSettings', {
    description:
      'The settings a project admin may change, merged per section: gateway.clientEvents, ' +
      'suppression (maxMatches, windowSeconds) and delivery (ackTimeoutMs, useGateway, usePusher, ' +
      'usePush). Gateway limits, rate limits, retention and delivery.maxAttempts are set by the ' +
      'super admin; sending one is refused (400).',
  });

const ChangeOwnProject = z
  .strictObject(
    { ...projectChanges, settings: AdminSettings.optional() },
    superAdminSets('name, description, webhookUrl and settings'),
  )
  .openapi('ChangeOwnProject', {
    example: { description: 'Payments alerts', settings: { suppression: { maxMatches: 5 } } },
  });

const tags = ['Projects'];

export function ownProjectRoutes(deps: DomainDeps) {
  const router = createRouter();
  router.use('*', authenticate(deps, 'user', 'superAdmin'), requirePermission('projects:admin'));
  const errors = errorResponses(400, 401, 403, 404);

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'Your project: settings (with the limits the super admin set), key prefix, gateway key',
      security: security.bearerOrSuperAdmin,
      responses: { 200: jsonContent(ProjectSchema, 'The project'), ...errors },
    }),
    async (c) => c.json(await projects.getProject(deps, projectOf(c)), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/',
      tags,
      summary: 'Change your project: name, description, webhook URL, the settings a project admin may set',
      security: security.bearerOrSuperAdmin,
      request: { body: jsonBody(ChangeOwnProject) },
      responses: { 200: jsonContent(ProjectSchema, 'The changed project'), ...errors },
    }),
    async (c) =>
      c.json(await projects.updateProject(deps, c.get('principal'), projectOf(c), c.req.valid('json')), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/api-key',
      tags,
      summary: 'Rotate your project’s API key: the new one is shown once, the old one stops at once',
      security: security.bearerOrSuperAdmin,
      responses: { 200: jsonContent(NewApiKey, 'The new key, shown once'), ...errors },
    }),
    async (c) => c.json(await projects.regenerateApiKey(deps, c.get('principal'), projectOf(c)), 200),
  );

  return router;
}
