// Gives every request an id (the caller's X-Request-Id when it is sane) and runs the rest of
// the chain inside the AsyncLocalStorage context, so logs and audit rows carry it.
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { Principal } from '../../domain/principal.js';
import { runWithContext, type RequestContext } from '../../core/context.js';
import { requestIdFrom } from '../../core/ids.js';

export type AppEnv = { Variables: { requestId: string; context: RequestContext; principal: Principal } };

/** The peer address of the HTTP connection (no proxy headers are trusted). */
function clientIp(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown'; // requests made in-process (app.request) have no socket
  }
}

export function requestContext(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const requestId = requestIdFrom(c.req.header('x-request-id'));
    const context: RequestContext = { requestId, ip: clientIp(c) };
    c.set('requestId', requestId);
    c.set('context', context);
    c.header('X-Request-Id', requestId);
    await runWithContext(context, next);
  };
}
