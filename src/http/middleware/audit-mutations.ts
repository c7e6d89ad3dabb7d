// Records every mutating API request (POST, PUT, PATCH, DELETE) in the audit trail once the
// handler has answered: method, route pattern, path, status and the principal. This is on top of
// the semantic rows the domain writes (user.approve, role.update…). The row is buffered before
// the response leaves, so a graceful shutdown flushes it.
//
// Not recorded: event ingest with an API key (POST /api/v1/events…) — each accepted event is
// itself stored with its id, and one audit row per event would double the write load of the
// hottest path — and requests refused by the rate limiter (it runs first).
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { currentContext } from '../../core/context.js';
import type { DomainDeps } from '../../domain/deps.js';
import type { Principal } from '../../domain/principal.js';
import type { AppEnv } from './request-context.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const INGEST_PATH = /^\/api\/v1\/events(\/|$)/;

/** The pattern of the route that answered (e.g. /api/v1/users/:id/approve), or null if none did. */
export function routePatternOf(c: Context): string | null {
  const method = c.req.method.toUpperCase();
  const routes = matchedRoutes(c).filter((route) => route.method.toUpperCase() === method);
  return routes.at(-1)?.path ?? null;
}

export function auditMutations(deps: DomainDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const method = c.req.method.toUpperCase();
    if (!MUTATING.has(method)) return;
    const principal: Principal | undefined = c.get('principal');
    if (principal?.kind === 'apiKey' && INGEST_PATH.test(c.req.path)) return;
    const projectId = principal?.projectId ?? currentContext()?.projectId ?? null;
    deps.audit.record({
      projectId,
      principal: principal ?? { kind: 'anonymous', projectId: projectId ?? undefined },
      action: 'api.request',
      resourceType: 'route',
      metadata: { method, route: routePatternOf(c), path: c.req.path, status: c.res.status },
    });
  };
}
