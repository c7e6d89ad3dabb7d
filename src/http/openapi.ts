// OpenAPI plumbing shared by every route module: the router factory (validation failures
// become our 400 error body), the error and pagination schemas, security schemes, and the
// document (Swagger UI renders it: routes/docs.ts).
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { canonicalId } from '../core/ids.js';
import { errorBody } from './middleware/errors.js';
import type { AppEnv } from './middleware/request-context.js';

export { z };

export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      const first = issues[0];
      const message = first ? `${first.path || 'request'}: ${first.message}` : 'The request is not valid';
      return c.json(errorBody(c, 'validation_failed', message, issues), 400);
    },
  });
}

export type Router = ReturnType<typeof createRouter>;

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string().openapi({ example: 'name: Too small: expected string to have >=1 characters' }),
      requestId: z.string().openapi({ example: '7d0f5c1e-8d55-4a4b-9a3e-3c7c0d9f0b1a' }),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid',
  401: 'Missing or invalid credentials',
  403: 'The caller lacks a permission',
  404: 'Not found (also for resources of other projects)',
  409: 'Conflicts with the current state',
  413: 'Body too large',
  429: 'Rate limited (see Retry-After)',
};

/** The error responses a route can give, documented with the shared error body. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: ERROR_DESCRIPTIONS[status] ?? 'Error',
        content: { 'application/json': { schema: ErrorSchema } },
      },
    ]),
  );
}

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } };
}

export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1).openapi({ example: 1 }),
  pageSize: z.coerce.number().int().min(1).max(200).default(50).openapi({ example: 50 }),
});

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    page: z.number().int(),
    pageSize: z.number().int(),
    total: z.number().int(),
  });

/** A UUID from a client, in its canonical (lower-case) spelling. */
export const Uuid = z.uuid().overwrite(canonicalId);

export const IdParam = z.object({
  id: Uuid.openapi({ param: { name: 'id', in: 'path' } }),
});

type SecurityRequirement = Array<Record<string, string[]>>;

/** Security requirements used by routes (fresh arrays: the generator may keep references). */
export const security = {
  get bearer(): SecurityRequirement {
    return [{ bearerAuth: [] }];
  },
  get apiKey(): SecurityRequirement {
    return [{ apiKey: [] }];
  },
  get superAdmin(): SecurityRequirement {
    return [{ superAdmin: [] }];
  },
  get bearerOrSuperAdmin(): SecurityRequirement {
    return [{ bearerAuth: [] }, { superAdmin: [] }];
  },
  get none(): SecurityRequirement {
    return [];
  },
};

export const OPENAPI_PATH = '/api/v1/openapi.json';

export function mountDocs(
  app: Router,
  publicUrl: string,
  tags: Array<{ name: string; description: string }> = [],
): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Access token from POST /api/v1/auth/login (a project user, or a super admin).',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'superAdmin', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: "A super admin's access token. Send X-Project-Id to act inside a project (audited).",
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: "A project's API key (tk_…), shown once when the project is created or its key regenerated.",
  });
  app.doc31(OPENAPI_PATH, {
    openapi: '3.1.0',
    info: {
      title: 'Tocsin API',
      version: '1.0.0',
      description:
        'Multi-tenant real-time notification hub. Errors are always `{ "error": { "code", "message", "requestId" } }`.',
    },
    servers: [{ url: publicUrl }],
    tags,
  });
}
