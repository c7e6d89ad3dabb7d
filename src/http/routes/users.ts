// /api/v1/users — project users: administration (list, approve, change roles, suspend) and the
// caller's own profile and push devices. Super admins act in a project with X-Project-Id.
import { createRoute } from '@hono/zod-openapi';
import type { DomainDeps } from '../../domain/deps.js';
import * as users from '../../domain/users.js';
import { authenticate, projectOf, requirePermission, userOf } from '../middleware/auth.js';
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
  Uuid,
} from '../openapi.js';

const Status = z.enum(['pending', 'active', 'suspended']);
const Platform = z.enum(['ios', 'android', 'web']);
const Phone = z.string().regex(/^\+?[0-9 ()-]{5,32}$/, 'a phone number');

const RoleRef = z.object({ id: z.string(), name: z.string() }).openapi('RoleRef');

const UserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    phone: z.string().nullable(),
    fullName: z.string(),
    status: Status,
    roles: z.array(RoleRef),
    approvedAt: z.date().nullable(),
    approvedBy: z.string().nullable().openapi({ description: 'The user or super admin who approved' }),
    lastLoginAt: z.date().nullable(),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .openapi('User');

const DeviceSchema = z
  .object({
    id: z.string(),
    platform: Platform,
    token: z.string(),
    createdAt: z.date(),
    updatedAt: z.date(),
    lastUsedAt: z.date().nullable(),
  })
  .openapi('Device');

const Me = UserSchema.extend({
  permissions: z.array(z.string()),
  devices: z.array(DeviceSchema),
}).openapi('Me');

const ListQuery = PageQuery.extend({
  status: Status.optional(),
  role: z.string().max(64).optional().openapi({ description: 'A role id or name' }),
  search: z.string().max(120).optional().openapi({ description: 'Part of the email, name or phone' }),
});

const Approve = z
  .object({
    roleIds: z.array(Uuid).max(50).optional(),
    roles: z.array(z.string().min(1).max(64)).max(50).optional().openapi({ description: 'Role names' }),
  })
  .refine((v) => (v.roleIds?.length ?? 0) + (v.roles?.length ?? 0) > 0, {
    message: 'name at least one role (roleIds or roles)',
    path: ['roleIds'],
  })
  .openapi('ApproveUser', { example: { roles: ['member'] } });

/** The most roles one user holds: a role picker, not a bulk import. */
const MAX_ROLES_PER_USER = 50;

const SetRoles = z
  .object({
    roleIds: z
      .array(z.string().trim().min(1).max(64))
      .min(1, 'name at least one role; suspend the user to cut every access')
      .max(MAX_ROLES_PER_USER, `at most ${MAX_ROLES_PER_USER} roles`)
      .openapi({
        description:
          'The complete new set: ids or names of roles of this project, each role once. An unknown ' +
          'one is a 400 `role_not_found` naming it, a repeated one a 400 `duplicate_role`.',
      }),
  })
  .openapi('SetUserRoles', { example: { roleIds: ['member', 'night-shift'] } });

const SetStatus = z
  .object({ status: z.enum(['active', 'suspended']) })
  .openapi('SetUserStatus', { example: { status: 'suspended' } });

const UpdateMe = z
  .object({ fullName: z.string().trim().min(1).max(200).optional(), phone: Phone.nullable().optional() })
  .openapi('UpdateMe', { example: { fullName: 'Ana Lima', phone: '+55 11 99999-0000' } });

const DeviceInput = z.object({
  platform: Platform,
  token: z
    .string()
    .trim()
    .min(1)
    .max(255)
    .openapi({
      description:
        'ios: the APNs device token, 64 to 200 hex characters; android and web: the FCM registration token, ' +
        '20 to 255 printable characters without spaces. Another format is a 400 `invalid_device_token` naming the field.',
    }),
});
const PushTokens = z
  .union([z.object({ devices: z.array(DeviceInput).max(20) }).strict(), DeviceInput.strict()])
  .openapi('PushTokens', {
    description:
      'Either one device `{ platform, token }`, registered (or refreshed) alongside the others, or ' +
      '`{ devices: [...] }`, which replaces the whole set (an empty list removes every device). A token ' +
      'already registered by another user of the project moves to the caller.',
    example: { devices: [{ platform: 'android', token: 'fcm-registration-token' }] },
  });

const DeviceParam = z.object({
  id: Uuid.openapi({ param: { name: 'id', in: 'path' } }),
});

const tags = ['Users'];

export function userRoutes(deps: DomainDeps) {
  const router = createRouter();
  router.use('*', authenticate(deps, 'user', 'superAdmin'));
  const errors = errorResponses(400, 401, 403, 404, 429);

  // The caller's own routes come first: /me must not be taken for an {id}.
  router.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      tags,
      summary: "The caller's profile, permissions and push devices",
      security: security.bearer,
      responses: { 200: jsonContent(Me, 'The caller'), ...errorResponses(401, 403, 429) },
    }),
    async (c) => c.json(await users.getMe(deps, userOf(c)), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/me',
      tags,
      summary: "Change the caller's name or phone",
      security: security.bearer,
      request: { body: jsonBody(UpdateMe) },
      responses: { 200: jsonContent(Me, 'The changed profile'), ...errors, ...errorResponses(409) },
    }),
    async (c) => c.json(await users.updateMe(deps, userOf(c), c.req.valid('json')), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/me/push-tokens',
      tags,
      summary: "Register one push device, or replace the caller's set of devices",
      security: security.bearer,
      request: { body: jsonBody(PushTokens) },
      responses: {
        200: jsonContent(z.object({ items: z.array(DeviceSchema) }), "The caller's devices"),
        ...errors,
      },
    }),
    async (c) => c.json(await users.registerDevices(deps, userOf(c), c.req.valid('json')), 200),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/me/push-tokens/{id}',
      tags,
      summary: "Remove one of the caller's push devices",
      security: security.bearer,
      request: { params: DeviceParam },
      responses: { 204: { description: 'Removed' }, ...errors },
    }),
    async (c) => {
      await users.deleteDevice(deps, userOf(c), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List users (filters: status, role id or name, search)',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('users:read')] as const,
      request: { query: ListQuery },
      responses: { 200: jsonContent(pageOf(UserSchema), 'A page of users'), ...errors },
    }),
    async (c) => c.json(await users.listUsers(deps, projectOf(c), c.req.valid('query')), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/pending',
      tags,
      summary: 'Registrations waiting for approval',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('users:read')] as const,
      request: { query: PageQuery },
      responses: { 200: jsonContent(pageOf(UserSchema), 'A page of pending users'), ...errors },
    }),
    async (c) =>
      c.json(await users.listUsers(deps, projectOf(c), { ...c.req.valid('query'), status: 'pending' }), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'Get a user',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('users:read')] as const,
      request: { params: IdParam },
      responses: { 200: jsonContent(UserSchema, 'The user'), ...errors },
    }),
    async (c) => c.json(await users.getUser(deps, projectOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/approve',
      tags,
      summary: 'Approve a pending user with their roles (ids or names of roles of this project)',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('users:approve')] as const,
      request: { params: IdParam, body: jsonBody(Approve) },
      responses: {
        200: jsonContent(UserSchema, 'The approved, now active user'),
        ...errors,
        ...errorResponses(409),
      },
    }),
    async (c) =>
      c.json(
        await users.approveUser(
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
      method: 'post',
      path: '/{id}/reject',
      tags,
      summary: 'Reject a pending registration (it is removed; the person may register again)',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('users:approve')] as const,
      request: { params: IdParam },
      responses: { 204: { description: 'Rejected' }, ...errors, ...errorResponses(409) },
    }),
    async (c) => {
      await users.rejectUser(deps, c.get('principal'), projectOf(c), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}/roles',
      tags,
      summary: "Replace an approved user's roles (a role taken away stops its channel at once)",
      description:
        'The user keeps exactly the roles named. When their permissions change, their access tokens ' +
        'stop (the client refreshes); when a role goes, their gateway sockets close with 4200 and ' +
        "re-authorize, so the role's channels are refused (403) from then on. Audited as " +
        '`user.roles_change` with the role ids before and after. A pending user is a 409 ' +
        '`user_pending` (approve them with roles); taking the admin role from yourself a 409 ' +
        '`cannot_demote_self`.',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('users:approve')] as const,
      request: { params: IdParam, body: jsonBody(SetRoles) },
      responses: {
        200: jsonContent(UserSchema, 'The user with their roles'),
        ...errors,
        ...errorResponses(409),
      },
    }),
    async (c) =>
      c.json(
        await users.setUserRoles(
          deps,
          c.get('principal'),
          projectOf(c),
          c.req.valid('param').id,
          c.req.valid('json').roleIds,
        ),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}/status',
      tags,
      summary: 'Suspend (every session and access token stops at once) or reactivate a user',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('users:write')] as const,
      request: { params: IdParam, body: jsonBody(SetStatus) },
      responses: { 200: jsonContent(UserSchema, 'The user'), ...errors, ...errorResponses(409) },
    }),
    async (c) =>
      c.json(
        await users.setUserStatus(
          deps,
          c.get('principal'),
          projectOf(c),
          c.req.valid('param').id,
          c.req.valid('json').status,
        ),
        200,
      ),
  );

  return router;
}
