// The Pusher HTTP API on the API port: a Hono route around the transport-neutral handler
// (realtime/http-api.ts) that the gateway port serves too, and its OpenAPI description.
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { BatchBody, TriggerBody, type PusherHttpApi } from '../../realtime/http-api.js';
import type { AppEnv } from '../middleware/request-context.js';
import { errorResponses, jsonBody as jsonRequestBody, jsonContent, z, type Router } from '../openapi.js';

export function pusherRoutes(handle: PusherHttpApi) {
  const app = new Hono<AppEnv>();
  app.all('/apps/:appId/*', async (c) => {
    const url = new URL(c.req.url);
    const body = c.req.method === 'GET' ? '' : await c.req.text();
    const answer = await handle({
      method: c.req.method,
      path: url.pathname,
      query: url.searchParams,
      body,
      requestId: c.get('requestId'),
    });
    return c.body(answer.body, answer.status as ContentfulStatusCode, answer.headers);
  });
  return app;
}

const AppParams = z.object({ appId: z.string().openapi({ description: "The project's gateway app id" }) });
const ChannelParams = AppParams.extend({ channel: z.string() });
const InfoQuery = (values: string) =>
  z.object({
    info: z
      .string()
      .optional()
      .openapi({ description: `Comma-separated: ${values}` }),
  });
const Empty = z.object({});
const Attributes = z.object({
  user_count: z.number().int().optional(),
  subscription_count: z.number().int().optional(),
});
const errors = errorResponses(400, 401, 403, 404, 413);
/** The section of the document, with where else these routes are served. */
export const PUSHER_API_TAG = {
  name: 'Pusher HTTP API',
  description:
    'The Pusher Channels HTTP API, for the official `pusher` server SDKs. Served on this port and, ' +
    'identically (same signing, limits and error bodies), on the gateway port (GATEWAY_PORT), so an ' +
    'SDK configured as for Soketi (`host`, `port` = the gateway port, `useTLS: false`) works unchanged; ' +
    "events triggered there reach that node's own subscribers without a Redis round trip. `appId` is " +
    "the project's gateway app id.",
};
const tags = [PUSHER_API_TAG.name];
const security = [{ pusherSignature: [] }];

/**
 * Documents the routes above in the OpenAPI document. They are one plain Hono route (the body is
 * read raw for its signature before it is parsed), so their description is registered here.
 */
export function describePusherApi(registry: Router['openAPIRegistry']): void {
  registry.registerComponent('securitySchemes', 'pusherSignature', {
    type: 'apiKey',
    in: 'query',
    name: 'auth_signature',
    description:
      'Pusher request signing: auth_key (the gateway key), auth_timestamp (±600 s), auth_version=1.0, ' +
      'body_md5 and auth_signature (HMAC-SHA256 with the gateway secret), as the official `pusher` SDKs send them.',
  });
  const path = (
    method: 'get' | 'post',
    route: string,
    summary: string,
    request: Record<string, unknown>,
    answer: z.ZodType,
  ) =>
    registry.registerPath({
      method,
      path: route,
      tags,
      summary,
      security,
      request,
      responses: { 200: jsonContent(answer, 'Done'), ...errors },
    });
  path(
    'post',
    '/apps/{appId}/events',
    'Trigger an event on one or more channels',
    {
      params: AppParams,
      body: jsonRequestBody(TriggerBody),
    },
    z.object({
      channels: z
        .record(z.string(), Attributes)
        .optional()
        .describe('With `info`: each channel triggered to, with the attributes asked for'),
    }),
  );
  path(
    'post',
    '/apps/{appId}/batch_events',
    'Trigger up to 10 events',
    {
      params: AppParams,
      body: jsonRequestBody(BatchBody),
    },
    z.object({
      batch: z.array(Attributes).describe('Per event, in order: the attributes its `info` asked for (or {})'),
    }),
  );
  path(
    'get',
    '/apps/{appId}/channels',
    'Occupied channels, optionally by name prefix',
    {
      params: AppParams,
      query: InfoQuery('user_count (presence- prefix only)').extend({
        filter_by_prefix: z.string().optional(),
      }),
    },
    z.object({ channels: z.record(z.string(), z.object({ user_count: z.number().int().optional() })) }),
  );
  path(
    'get',
    '/apps/{appId}/channels/{channel}',
    "A channel's state",
    { params: ChannelParams, query: InfoQuery('user_count (presence only), subscription_count') },
    Attributes.extend({ occupied: z.boolean() }),
  );
  path(
    'get',
    '/apps/{appId}/channels/{channel}/users',
    "A presence channel's users",
    { params: ChannelParams },
    z.object({ users: z.array(z.object({ id: z.string() })) }),
  );
  path(
    'post',
    '/apps/{appId}/users/{userId}/terminate_connections',
    'Close every connection of a signed-in user, on every node',
    { params: AppParams.extend({ userId: z.string() }) },
    Empty,
  );
}
