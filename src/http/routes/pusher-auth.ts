// /api/v1/users/me/pusher-auth and /pusher-user-auth: the endpoints pusher-js calls (its
// channelAuthorization / userAuthentication options) — form-encoded as pusher-js sends them, or JSON.
import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { authenticateUser, authorizeChannel } from '../../domain/channel-auth.js';
import type { DomainDeps } from '../../domain/deps.js';
import { authenticate, userOf } from '../middleware/auth.js';
import { isJsonType } from '../middleware/bodies.js';
import type { AppEnv } from '../middleware/request-context.js';
import { createRouter, errorResponses, jsonContent, security, z } from '../openapi.js';

const SocketId = z.string().regex(/^\d+\.\d+$/, 'a Pusher socket id');
const Target = z.enum(['gateway', 'pusher']).default('gateway').openapi({
  description: "Whose secret signs: Tocsin's gateway (default) or the project's hosted Pusher app",
});
const ChannelAuthBody = z
  .object({ socket_id: SocketId, channel_name: z.string().min(1).max(164), target: Target })
  .openapi('ChannelAuthRequest', { example: { socket_id: '123.456', channel_name: 'private-user-0190…' } });
const UserAuthBody = z.object({ socket_id: SocketId, target: Target }).openapi('UserAuthRequest');

/**
 * The validated body, whichever of the two encodings the client used. Parsed here rather than
 * by the route's validators: those would insist on both encodings at once.
 */
async function body<T extends z.ZodType>(c: Context<AppEnv>, schema: T): Promise<z.infer<T>> {
  const raw = isJsonType(c.req.header('content-type')) ? await c.req.json() : await c.req.parseBody();
  return schema.parse(raw);
}

const BODY_NOTE = 'Body: form-encoded (as pusher-js sends it) or JSON.';

export function pusherAuthRoutes(deps: DomainDeps) {
  const router = createRouter();
  router.use('*', authenticate(deps, 'user'));
  const tags = ['Realtime'];

  router.openapi(
    createRoute({
      method: 'post',
      path: '/pusher-auth',
      tags,
      summary: 'Sign a private or presence channel subscription for the caller',
      description:
        'Allowed: `private-user-{yourId}`, `private-project`, `presence-project`, and `private-role-{role}` / `presence-role-{role}` for roles you hold. ' +
        BODY_NOTE,
      security: security.bearer,
      request: { body: { required: true, content: { 'text/plain': { schema: ChannelAuthBody } } } },
      responses: {
        200: jsonContent(
          z.object({ auth: z.string(), channel_data: z.string().optional() }),
          'Pusher channel auth',
        ),
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const input = await body(c, ChannelAuthBody);
      return c.json(
        await authorizeChannel(deps, userOf(c), {
          socketId: input.socket_id,
          channel: input.channel_name,
          target: input.target,
        }),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/pusher-user-auth',
      tags,
      summary: 'Sign a `pusher:signin` (user authentication) for the caller',
      description: BODY_NOTE,
      security: security.bearer,
      request: { body: { required: true, content: { 'text/plain': { schema: UserAuthBody } } } },
      responses: {
        200: jsonContent(z.object({ auth: z.string(), user_data: z.string() }), 'Pusher user auth'),
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const input = await body(c, UserAuthBody);
      return c.json(
        await authenticateUser(deps, userOf(c), { socketId: input.socket_id, target: input.target }),
        200,
      );
    },
  );
  return router;
}
