// /api/v1/auth — registration, login, token refresh, logout, password changes.
import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import * as auth from '../../domain/auth.js';
import type { DomainDeps } from '../../domain/deps.js';
import type { Principal } from '../../domain/principal.js';
import { PASSWORD_RULE } from '../../domain/passwords.js';
import { authenticate } from '../middleware/auth.js';
import { rateLimit } from '../middleware/rate-limit.js';
import type { AppEnv } from '../middleware/request-context.js';
import { createRouter, errorResponses, jsonBody, jsonContent, security, z, Uuid } from '../openapi.js';

const Email = z.email().max(254);
const ProjectRef = {
  projectId: Uuid.optional(),
  projectSlug: z.string().max(48).optional(),
};

const Register = z
  .object({
    email: Email,
    phone: z
      .string()
      .regex(/^\+?[0-9 ()-]{5,32}$/, 'a phone number')
      .optional(),
    password: z
      .string()
      .max(72)
      .openapi({ description: `Must have ${PASSWORD_RULE}` }),
    fullName: z.string().trim().min(1).max(200),
    ...ProjectRef,
  })
  .refine((v) => v.projectId || v.projectSlug, {
    message: 'projectId or projectSlug is required',
    path: ['projectId'],
  })
  .openapi('Register', {
    example: {
      email: 'ana@example.com',
      password: 'correct-horse-7',
      fullName: 'Ana Lima',
      projectSlug: 'payments',
    },
  });

export const Login = z
  .object({ email: Email, password: z.string().max(200), ...ProjectRef })
  .openapi('Login', {
    description: 'Project users name their project; super admins leave it out.',
    example: { email: 'ana@example.com', password: 'correct-horse-7', projectSlug: 'payments' },
  });

const Tokens = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().openapi({ description: 'Seconds' }),
    refreshToken: z.string().openapi({ description: 'Opaque; rotated on every use' }),
    refreshExpiresIn: z.number(),
  })
  .openapi('Tokens');

const RegisteredUser = z
  .object({
    id: z.string(),
    email: z.string(),
    fullName: z.string(),
    status: z.string(),
    createdAt: z.date(),
  })
  .openapi('RegisteredUser');

const tags = ['Auth'];

/** The caller of a route that accepts only user and super-admin tokens. */
function sessionPrincipal(c: Context<AppEnv>) {
  return c.get('principal') as Extract<Principal, { kind: 'user' | 'superAdmin' }>;
}

export function clientInfo(c: Context<AppEnv>): auth.ClientInfo {
  return { ip: c.get('context').ip ?? 'unknown', userAgent: c.req.header('user-agent') };
}

export function authRoutes(deps: DomainDeps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: 'post',
      path: '/register',
      tags,
      middleware: [rateLimit(deps, 'auth')] as const,
      summary: 'Register in a project; the user is pending until an admin approves them',
      security: security.none,
      request: { body: jsonBody(Register) },
      responses: {
        201: jsonContent(
          RegisteredUser,
          'Registered, pending approval; the same answer when the email is taken or the project unknown',
        ),
        ...errorResponses(400, 429),
      },
    }),
    async (c) => c.json(await auth.register(deps, c.req.valid('json')), 201),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/login',
      tags,
      middleware: [rateLimit(deps, 'auth')] as const,
      summary: 'Log in (active project users, or super admins without a project)',
      security: security.none,
      request: { body: jsonBody(Login) },
      responses: {
        200: jsonContent(Tokens, 'Access and refresh tokens'),
        ...errorResponses(400, 401, 429),
      },
    }),
    async (c) => c.json(await auth.login(deps, c.req.valid('json'), clientInfo(c)), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/refresh',
      tags,
      middleware: [rateLimit(deps, 'auth')] as const,
      summary: 'Trade a refresh token for new tokens (reusing a rotated one revokes its family)',
      security: security.none,
      request: { body: jsonBody(z.object({ refreshToken: z.string().min(1).max(200) }).openapi('Refresh')) },
      responses: {
        200: jsonContent(Tokens, 'New access and refresh tokens'),
        ...errorResponses(400, 401, 429),
      },
    }),
    async (c) => c.json(await auth.refresh(deps, c.req.valid('json').refreshToken, clientInfo(c)), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/logout',
      tags,
      summary: 'Revoke the refresh token and deny this access token until it expires',
      security: security.bearerOrSuperAdmin,
      middleware: [authenticate(deps, 'user', 'superAdmin')] as const,
      request: {
        body: {
          required: false,
          content: {
            'application/json': { schema: z.object({ refreshToken: z.string().max(200).optional() }) },
          },
        },
      },
      responses: { 204: { description: 'Logged out' }, ...errorResponses(401) },
    }),
    async (c) => {
      const body = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
      await auth.logout(deps, sessionPrincipal(c), body?.refreshToken);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/change-password',
      tags,
      summary: "Change the caller's password (every other session is revoked)",
      security: security.bearerOrSuperAdmin,
      middleware: [authenticate(deps, 'user', 'superAdmin')] as const,
      request: {
        body: jsonBody(
          z
            .object({ currentPassword: z.string().max(200), newPassword: z.string().max(72) })
            .openapi('ChangePassword'),
        ),
      },
      responses: { 204: { description: 'Changed' }, ...errorResponses(400, 401) },
    }),
    async (c) => {
      await auth.changePassword(deps, sessionPrincipal(c), c.req.valid('json'));
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/setup-password',
      tags,
      summary: "Set a project admin's first password with the one-time setup token from project creation",
      security: security.none,
      request: {
        body: jsonBody(
          z
            .object({ token: z.string().min(1).max(200), password: z.string().max(72) })
            .openapi('SetupPassword'),
        ),
      },
      responses: { 204: { description: 'Password set' }, ...errorResponses(400, 401) },
    }),
    async (c) => {
      await auth.setupPassword(deps, c.req.valid('json'));
      return c.body(null, 204);
    },
  );

  return router;
}
