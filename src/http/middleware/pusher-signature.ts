// Authenticates a Pusher HTTP API request: the app named in the path, then the request
// signature exactly as Pusher checks it (auth_key, auth_timestamp within ±600 s, auth_version,
// body_md5, auth_signature), in constant time. The app is stored for the route.
import type { MiddlewareHandler } from 'hono';
import { setContextProject } from '../../core/context.js';
import { forbidden, notFound, unauthorized } from '../../core/errors.js';
import type { GatewayApp } from '../../gateway/apps.js';
import type { GatewayApi } from '../../gateway/api.js';
import { apiRequestFailure } from '../../gateway/signatures.js';
import type { AppEnv } from './request-context.js';

export type PusherEnv = { Variables: AppEnv['Variables'] & { pusherApp: GatewayApp; pusherBody: string } };

export function pusherSignature(gateway: Pick<GatewayApi, 'apps'>): MiddlewareHandler<PusherEnv> {
  return async (c, next) => {
    const app = await gateway.apps.byAppId(c.req.param('appId') ?? '');
    if (!app) throw notFound('App');
    const url = new URL(c.req.url);
    const body = c.req.method === 'GET' ? '' : await c.req.text();
    const request = { method: c.req.method, path: url.pathname, query: url.searchParams, body };
    const failure = apiRequestFailure(app, request, Math.floor(Date.now() / 1000));
    if (failure) throw unauthorized('invalid_signature', failure);
    if (!app.enabled) throw forbidden('app_disabled', 'This app is disabled');
    setContextProject(app.projectId);
    c.set('pusherApp', app);
    c.set('pusherBody', body);
    await next();
  };
}
