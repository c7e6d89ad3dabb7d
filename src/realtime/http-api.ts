// The Pusher HTTP API (`/apps/:appId/...`), so the official `pusher` server SDKs trigger events
// through Tocsin and read channel state. It is served on the API port (Hono,
// http/routes/pusher.ts) and on the gateway port (uWS, gateway/uws-http.ts) by this one
// transport-neutral function — request (method, path, query, raw body) in, answer (status,
// headers, body) out — so signing, limits and error bodies cannot drift between the ports. Every
// request is signed as Pusher signs it (core/pusher/signatures.ts); the app is the project, so nothing here
// can reach another project's channels.
import { z } from 'zod';
import { setContextProject } from '../core/context.js';
import { errorAnswer, errorJson } from '../core/error-answer.js';
import { AppError, badRequest, forbidden, notFound, payloadTooLarge, unauthorized } from '../core/errors.js';
import { readJsonBody } from '../core/json-limits.js';
import type { Logger } from '../core/log.js';
import type { ChannelInfo, GatewayApi, TriggerEvent } from './api.js';
import { LIMITS, SOCKET_ID, isValidChannelName } from '../core/pusher/protocol.js';
import { apiRequestFailure } from '../core/pusher/signatures.js';

const ChannelName = z.string().refine(isValidChannelName, 'Invalid channel name');
const EventFields = {
  name: z.string().min(1).max(LIMITS.eventNameLength),
  data: z.string(),
  socket_id: z.string().regex(SOCKET_ID, 'Invalid socket_id').optional(),
  info: z
    .string()
    .optional()
    .describe(
      'Comma-separated: user_count (presence channels only), subscription_count; answered per channel',
    ),
};
export const TriggerBody = z
  .object({
    ...EventFields,
    channel: ChannelName.optional(),
    channels: z.array(ChannelName).min(1).max(LIMITS.channelsPerTrigger).optional(),
  })
  .refine((body) => (body.channel === undefined) !== (body.channels === undefined), {
    message: 'Give either channel or channels',
  });
export const BatchBody = z.object({
  batch: z
    .array(z.object({ ...EventFields, channel: ChannelName }))
    .min(1)
    .max(LIMITS.batchEvents),
});

export interface PusherRequest {
  method: string;
  /** As sent (not decoded): it is part of what is signed. */
  path: string;
  query: URLSearchParams;
  body: string;
  requestId: string;
}

export interface PusherAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type PusherHttpApi = (request: PusherRequest) => Promise<PusherAnswer>;

/** A channel's attributes as Pusher answers them: `info` names which; user_count is presence-only. */
type Attributes = { user_count?: number; subscription_count?: number };

const infoFields = (info: string | null | undefined) => new Set((info ?? '').split(',').filter(Boolean));

const isPresence = (channel: string) => channel.startsWith('presence-');

const attributesOf = (state: ChannelInfo, info: Set<string>): Attributes => ({
  ...(info.has('user_count') && state.userCount !== undefined ? { user_count: state.userCount } : {}),
  ...(info.has('subscription_count') ? { subscription_count: state.subscriptionCount } : {}),
});

function toEvent(
  fields: { name: string; data: string; socket_id?: string },
  channels: string[],
): TriggerEvent {
  if (Buffer.byteLength(fields.data) > LIMITS.dataBytes) {
    throw payloadTooLarge(`Event data exceeds ${LIMITS.dataBytes} bytes`);
  }
  return { channels, name: fields.name, data: fields.data, socketId: fields.socket_id };
}

/** Hono decodes path parameters the same way: a malformed escape stays as it is. */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

interface RouteContext {
  projectId: string;
  params: string[];
  query: URLSearchParams;
  json: unknown;
}

interface Route {
  method: 'GET' | 'POST';
  /** Matched against the path after `/apps/{appId}`; groups are the parameters. */
  pattern: RegExp;
  run(context: RouteContext): Promise<unknown>;
}

function routes(gateway: GatewayApi): Route[] {
  /** The attributes `info` asks for, read once the events are out. */
  const attributes = async (projectId: string, channel: string, info: Set<string>) =>
    info.size === 0 ? {} : attributesOf(await gateway.channel(projectId, channel), info);

  return [
    {
      method: 'POST',
      pattern: /^\/events$/,
      async run({ projectId, json }) {
        const body = TriggerBody.parse(json);
        const channels = body.channels ?? [body.channel!];
        await gateway.trigger(projectId, [toEvent(body, channels)]);
        if (body.info === undefined) return {};
        const info = infoFields(body.info);
        const unique = [...new Set(channels)];
        const answers = await Promise.all(unique.map((channel) => attributes(projectId, channel, info)));
        return { channels: Object.fromEntries(unique.map((channel, i) => [channel, answers[i]])) };
      },
    },
    {
      method: 'POST',
      pattern: /^\/batch_events$/,
      async run({ projectId, json }) {
        const { batch } = BatchBody.parse(json);
        await gateway.trigger(
          projectId,
          batch.map((item) => toEvent(item, [item.channel])),
        );
        const answers = await Promise.all(
          batch.map((item) => attributes(projectId, item.channel, infoFields(item.info))),
        );
        return { batch: answers };
      },
    },
    {
      method: 'GET',
      pattern: /^\/channels$/,
      async run({ projectId, query }) {
        const prefix = query.get('filter_by_prefix') ?? '';
        const withUsers = infoFields(query.get('info')).has('user_count');
        if (withUsers && !isPresence(prefix)) {
          throw badRequest('bad_request', 'info=user_count requires filter_by_prefix=presence-');
        }
        const channels: Record<string, Attributes> = {};
        for (const name of (await gateway.channels(projectId, prefix)).keys()) {
          channels[name] = withUsers
            ? { user_count: (await gateway.channel(projectId, name)).userCount }
            : {};
        }
        return { channels };
      },
    },
    {
      method: 'GET',
      pattern: /^\/channels\/([^/]+)$/,
      async run({ projectId, params: [channel], query }) {
        const info = infoFields(query.get('info'));
        if (info.has('user_count') && !isPresence(channel!)) {
          throw badRequest('bad_request', 'info=user_count is only available for presence channels');
        }
        const state = await gateway.channel(projectId, channel!);
        return { occupied: state.occupied, ...attributesOf(state, info) };
      },
    },
    {
      method: 'GET',
      pattern: /^\/channels\/([^/]+)\/users$/,
      async run({ projectId, params: [channel] }) {
        if (!isPresence(channel!))
          throw badRequest('bad_request', 'Users are only listed for presence channels');
        const ids = await gateway.presenceUserIds(projectId, channel!);
        return { users: ids.map((id) => ({ id })) };
      },
    },
    {
      method: 'POST',
      pattern: /^\/users\/([^/]+)\/terminate_connections$/,
      async run({ projectId, params: [userId] }) {
        await gateway.terminateUserConnections(projectId, userId!);
        return {};
      },
    },
  ];
}

const APP_PATH = /^\/apps\/([^/]+)(\/.*)?$/;
const JSON_HEADERS = { 'Content-Type': 'application/json' };

const routeNotFound = (request: PusherRequest) =>
  new AppError(404, 'route_not_found', `No route for ${request.method} ${request.path}`);

export function createPusherHttpApi(deps: {
  gateway: GatewayApi;
  log: Pick<Logger, 'warn' | 'error'>;
  now?: () => number;
}): PusherHttpApi {
  const { gateway, log } = deps;
  const now = deps.now ?? Date.now;
  const table = routes(gateway);

  async function answer(request: PusherRequest): Promise<unknown> {
    const matched = APP_PATH.exec(request.path);
    if (!matched) throw routeNotFound(request);
    const method = request.method.toUpperCase();
    const body = method === 'GET' ? '' : request.body;
    // Checked first, as on every other route of the API port: a body that is not JSON is a 400.
    const json = body.length > 0 ? readJsonBody(body) : undefined;
    const app = await gateway.apps.byAppId(decoded(matched[1]!));
    if (!app) throw notFound('App');
    const signed = { method, path: request.path, query: request.query, body };
    const failure = apiRequestFailure(app, signed, Math.floor(now() / 1000));
    if (failure) throw unauthorized('invalid_signature', failure);
    if (!app.enabled) throw forbidden('app_disabled', 'This app is disabled');
    setContextProject(app.projectId);
    const rest = matched[2] ?? '';
    for (const route of table) {
      const params = route.method === method ? route.pattern.exec(rest) : null;
      if (params) {
        const context = {
          projectId: app.projectId,
          params: params.slice(1).map(decoded),
          query: request.query,
          json,
        };
        return route.run(context);
      }
    }
    throw routeNotFound(request);
  }

  return async (request) => {
    try {
      return { status: 200, headers: JSON_HEADERS, body: JSON.stringify(await answer(request)) };
    } catch (err) {
      const failed = errorAnswer(err, log);
      return {
        status: failed.status,
        headers: { ...JSON_HEADERS, ...failed.headers },
        body: JSON.stringify(errorJson(request.requestId, failed.code, failed.message, failed.details)),
      };
    }
  };
}
