// The Pusher HTTP API (`/apps/:appId/...`), so the official `pusher` server SDKs trigger events
// through Tocsin and read channel state. Every request is signed (pusher-signature.ts); the app
// is the project, so nothing here can reach another project's channels.
import { Hono, type Context } from 'hono';
import { badRequest, payloadTooLarge } from '../../core/errors.js';
import type { GatewayApi, TriggerEvent } from '../../gateway/api.js';
import { LIMITS, SOCKET_ID, isValidChannelName } from '../../gateway/protocol.js';
import { pusherSignature, type PusherEnv } from '../middleware/pusher-signature.js';
import { errorResponses, jsonBody as jsonRequestBody, jsonContent, z, type Router } from '../openapi.js';

const ChannelName = z.string().refine(isValidChannelName, 'Invalid channel name');
const EventFields = {
  name: z.string().min(1).max(LIMITS.eventNameLength),
  data: z.string(),
  socket_id: z.string().regex(SOCKET_ID, 'Invalid socket_id').optional(),
};
const TriggerBody = z
  .object({
    ...EventFields,
    channel: ChannelName.optional(),
    channels: z.array(ChannelName).min(1).max(LIMITS.channelsPerTrigger).optional(),
  })
  .refine((body) => (body.channel === undefined) !== (body.channels === undefined), {
    message: 'Give either channel or channels',
  });
const BatchBody = z.object({
  batch: z
    .array(z.object({ ...EventFields, channel: ChannelName }))
    .min(1)
    .max(LIMITS.batchEvents),
});

function jsonBody(c: Context<PusherEnv>): unknown {
  try {
    return JSON.parse(c.get('pusherBody'));
  } catch {
    throw badRequest('bad_request', 'The body must be JSON');
  }
}

function toEvent(
  fields: { name: string; data: string; socket_id?: string },
  channels: string[],
): TriggerEvent {
  if (Buffer.byteLength(fields.data) > LIMITS.dataBytes) {
    throw payloadTooLarge(`Event data exceeds ${LIMITS.dataBytes} bytes`);
  }
  return { channels, name: fields.name, data: fields.data, socketId: fields.socket_id };
}

const infoFields = (c: Context<PusherEnv>) => new Set((c.req.query('info') ?? '').split(',').filter(Boolean));

const isPresence = (channel: string) => channel.startsWith('presence-');

export function pusherRoutes(gateway: GatewayApi) {
  const app = new Hono<PusherEnv>();
  app.use('/apps/:appId/*', pusherSignature(gateway));

  app.post('/apps/:appId/events', async (c) => {
    const body = TriggerBody.parse(jsonBody(c));
    const event = toEvent(body, body.channels ?? [body.channel!]);
    await gateway.trigger(c.get('pusherApp').projectId, [event]);
    return c.json({});
  });

  app.post('/apps/:appId/batch_events', async (c) => {
    const { batch } = BatchBody.parse(jsonBody(c));
    const events = batch.map((item) => toEvent(item, [item.channel]));
    await gateway.trigger(c.get('pusherApp').projectId, events);
    return c.json({ batch: events.map(() => ({})) });
  });

  app.get('/apps/:appId/channels', async (c) => {
    const prefix = c.req.query('filter_by_prefix') ?? '';
    const withUsers = infoFields(c).has('user_count');
    if (withUsers && !isPresence(prefix)) {
      throw badRequest('bad_request', 'info=user_count requires filter_by_prefix=presence-');
    }
    const projectId = c.get('pusherApp').projectId;
    const channels: Record<string, { user_count?: number }> = {};
    for (const name of (await gateway.channels(projectId, prefix)).keys()) {
      channels[name] = withUsers ? { user_count: (await gateway.channel(projectId, name)).userCount } : {};
    }
    return c.json({ channels });
  });

  app.get('/apps/:appId/channels/:channel', async (c) => {
    const channel = c.req.param('channel');
    const info = infoFields(c);
    if (info.has('user_count') && !isPresence(channel)) {
      throw badRequest('bad_request', 'info=user_count is only available for presence channels');
    }
    const state = await gateway.channel(c.get('pusherApp').projectId, channel);
    return c.json({
      occupied: state.occupied,
      ...(info.has('user_count') ? { user_count: state.userCount } : {}),
      ...(info.has('subscription_count') ? { subscription_count: state.subscriptionCount } : {}),
    });
  });

  app.get('/apps/:appId/channels/:channel/users', async (c) => {
    const channel = c.req.param('channel');
    if (!isPresence(channel)) throw badRequest('bad_request', 'Users are only listed for presence channels');
    const ids = await gateway.presenceUserIds(c.get('pusherApp').projectId, channel);
    return c.json({ users: ids.map((id) => ({ id })) });
  });

  app.post('/apps/:appId/users/:userId/terminate_connections', async (c) => {
    await gateway.terminateUserConnections(c.get('pusherApp').projectId, c.req.param('userId'));
    return c.json({});
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
const errors = errorResponses(400, 401, 413);
const tags = ['Pusher HTTP API'];
const security = [{ pusherSignature: [] }];

/**
 * Documents the routes above in the OpenAPI document. They are plain Hono routes (the body is
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
    Empty,
  );
  path(
    'post',
    '/apps/{appId}/batch_events',
    'Trigger up to 10 events',
    {
      params: AppParams,
      body: jsonRequestBody(BatchBody),
    },
    z.object({ batch: z.array(Empty) }),
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
    z.object({
      occupied: z.boolean(),
      user_count: z.number().int().optional(),
      subscription_count: z.number().int().optional(),
    }),
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
