// /api/v1/roles — named sets of permissions inside a project.
import { createRoute } from '@hono/zod-openapi';
import type { DomainDeps } from '../../domain/deps.js';
import { PERMISSIONS } from '../../domain/permissions.js';
import * as roles from '../../domain/roles.js';
import { authenticate, projectOf, requirePermission } from '../middleware/auth.js';
import { createRouter, errorResponses, IdParam, jsonBody, jsonContent, security, z } from '../openapi.js';

const RoleName = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/,
    'letters, digits, space, "_", "." and "-", at most 64 characters',
  );
const Permissions = z
  .array(z.string().max(64))
  .max(PERMISSIONS.length * 2)
  .openapi({ description: `Any of: ${PERMISSIONS.join(', ')} (see GET /api/v1/roles/permissions)` });

const RoleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    permissions: z.array(z.string()),
    builtIn: z.boolean(),
    userCount: z.number().int(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .openapi('Role');

const CreateRole = z
  .object({
    name: RoleName,
    description: z.string().max(255).nullable().optional(),
    permissions: Permissions,
  })
  .openapi('CreateRole', {
    example: {
      name: 'on_call',
      description: 'Pages the on-call team',
      permissions: ['rules:read', 'events:read'],
    },
  });

const UpdateRole = z
  .object({
    name: RoleName.optional(),
    description: z.string().max(255).nullable().optional(),
    permissions: Permissions.optional(),
  })
  .openapi('UpdateRole', { example: { permissions: ['rules:read'] } });

const PermissionList = z
  .object({ items: z.array(z.object({ name: z.string(), description: z.string() })) })
  .openapi('Permissions');

const tags = ['Roles'];

export function roleRoutes(deps: DomainDeps) {
  const router = createRouter();
  router.use('*', authenticate(deps, 'user', 'superAdmin'));
  const errors = errorResponses(400, 401, 403, 404, 429);

  router.openapi(
    createRoute({
      method: 'get',
      path: '/permissions',
      tags,
      summary: 'The fixed set of permissions a role can hold, with what each allows',
      security: security.bearerOrSuperAdmin,
      responses: { 200: jsonContent(PermissionList, 'Every permission'), ...errorResponses(401, 429) },
    }),
    (c) => c.json(roles.listPermissions(), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List the roles of the project',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('users:read')] as const,
      responses: { 200: jsonContent(z.object({ items: z.array(RoleSchema) }), 'Every role'), ...errors },
    }),
    async (c) => c.json(await roles.listRoles(deps, projectOf(c)), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Create a role (names are unique in a project)',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('roles:write')] as const,
      request: { body: jsonBody(CreateRole) },
      responses: { 201: jsonContent(RoleSchema, 'The role'), ...errors, ...errorResponses(409) },
    }),
    async (c) =>
      c.json(await roles.createRole(deps, c.get('principal'), projectOf(c), c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}',
      tags,
      summary: "Change a role (its holders' access tokens stop when its permissions change; they refresh)",
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('roles:write')] as const,
      request: { params: IdParam, body: jsonBody(UpdateRole) },
      responses: { 200: jsonContent(RoleSchema, 'The changed role'), ...errors, ...errorResponses(409) },
    }),
    async (c) =>
      c.json(
        await roles.updateRole(
          deps,
          c.get('principal'),
          projectOf(c),
          c.req.valid('param').id,
          c.req.valid('json'),
        ),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags,
      summary: 'Delete a role (409 while users hold it or active rules target it; never the admin role)',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('roles:write')] as const,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...errors, ...errorResponses(409) },
    }),
    async (c) => {
      await roles.deleteRole(deps, c.get('principal'), projectOf(c), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  return router;
}
