// /api/v1/providers — a project's FCM, APNs and hosted-Pusher credentials. Stored encrypted;
// answers only ever show the redacted view (which key, never the key).
import { createRoute } from '@hono/zod-openapi';
import type { DomainDeps } from '../../domain/deps.js';
import {
  apnsCredentialsSchema,
  fcmCredentialsSchema,
  pusherCredentialsSchema,
  readProviderCredentials,
  redactCredentials,
  setProviderCredentials,
} from '../../domain/provider-credentials.js';
import { authenticate, projectOf, requirePermission } from '../middleware/auth.js';
import { createRouter, errorResponses, jsonBody, jsonContent, security, z } from '../openapi.js';

const Redacted = z
  .object({
    fcm: z.object({ projectId: z.string(), clientEmail: z.string() }).optional(),
    apns: z
      .object({ keyId: z.string(), teamId: z.string(), bundleId: z.string(), production: z.boolean() })
      .optional(),
    pusher: z
      .object({
        appId: z.string(),
        key: z.string(),
        cluster: z.string().optional(),
        host: z.string().optional(),
        port: z.number().optional(),
        useTLS: z.boolean(),
      })
      .optional(),
  })
  .openapi('ProviderCredentials');

// Re-wrapped: the domain schemas may be built before zod is extended with .openapi().
const PROVIDER_BODIES = {
  fcm: z.object(fcmCredentialsSchema.shape).openapi('FcmCredentials', {
    description: 'A Firebase service account JSON (project_id, client_email, private_key)',
  }),
  apns: z.object(apnsCredentialsSchema.shape).openapi('ApnsCredentials', {
    description:
      'Token auth: the .p8 key (PEM), its key id, the team id, the app bundle id, and production or sandbox',
  }),
  pusher: z.object(pusherCredentialsSchema.shape).openapi('PusherCredentials', {
    description: 'A hosted Pusher app (appId, key, secret, cluster)',
  }),
} as const;

export function providerRoutes(deps: DomainDeps) {
  const router = createRouter();
  router.use('*', authenticate(deps, 'user', 'superAdmin'), requirePermission('projects:admin'));
  const tags = ['Providers'];
  const errors = errorResponses(400, 401, 403, 404, 409);

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'Which push and hosted-Pusher credentials the project has (redacted)',
      security: security.bearerOrSuperAdmin,
      responses: { 200: jsonContent(Redacted, 'Redacted credentials'), ...errors },
    }),
    async (c) => c.json(redactCredentials(await readProviderCredentials(deps, projectOf(c))), 200),
  );

  for (const provider of ['fcm', 'apns', 'pusher'] as const) {
    router.openapi(
      createRoute({
        method: 'put',
        path: `/${provider}`,
        tags,
        summary: `Set the project's ${provider.toUpperCase()} credentials (encrypted at rest)`,
        security: security.bearerOrSuperAdmin,
        request: { body: jsonBody(PROVIDER_BODIES[provider]) },
        responses: { 200: jsonContent(Redacted, 'Redacted credentials'), ...errors },
      }),
      async (c) => {
        const projectId = projectOf(c);
        const result = await setProviderCredentials(deps, projectId, provider, c.req.valid('json'));
        deps.audit.record({
          projectId,
          principal: c.get('principal'),
          action: 'providers.set',
          resourceType: 'provider',
          resourceId: provider,
        });
        return c.json(result, 200);
      },
    );
    router.openapi(
      createRoute({
        method: 'delete',
        path: `/${provider}`,
        tags,
        summary: `Remove the project's ${provider.toUpperCase()} credentials`,
        security: security.bearerOrSuperAdmin,
        responses: { 200: jsonContent(Redacted, 'Redacted credentials'), ...errors },
      }),
      async (c) => {
        const projectId = projectOf(c);
        const result = await setProviderCredentials(deps, projectId, provider, null);
        deps.audit.record({
          projectId,
          principal: c.get('principal'),
          action: 'providers.remove',
          resourceType: 'provider',
          resourceId: provider,
        });
        return c.json(result, 200);
      },
    );
  }
  return router;
}
