// Maps every failure to `{ error: { code, message, requestId } }`. Known errors keep their
// status; anything unexpected is logged and answered with a generic 500 that leaks nothing.
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';
import { isDatabaseUnavailable } from '../../core/db.js';
import { AppError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { isRedisUnavailable } from '../../core/redis.js';
import type { AppEnv } from './request-context.js';

export function errorBody(c: Context<AppEnv>, code: string, message: string, details?: unknown) {
  return {
    error: { code, message, requestId: c.get('requestId'), ...(details === undefined ? {} : { details }) },
  };
}

export function sendError(
  c: Context<AppEnv>,
  status: number,
  code: string,
  message: string,
  details?: unknown,
) {
  return c.json(errorBody(c, code, message, details), status as ContentfulStatusCode);
}

const RETRY_AFTER_SECONDS = 5;

export function errorHandler(log: Logger): ErrorHandler<AppEnv> {
  return (err, c) => {
    if (err instanceof AppError) {
      for (const [name, value] of Object.entries(err.headers ?? {})) c.header(name, value);
      return sendError(c, err.status, err.code, err.message, err.details);
    }
    if (err instanceof ZodError) {
      const issues = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      return sendError(c, 400, 'validation_failed', 'The request is not valid', issues);
    }
    if (err instanceof HTTPException) {
      // Hono raises these for malformed bodies and similar client mistakes.
      const status = err.status;
      const code = status === 413 ? 'payload_too_large' : status < 500 ? 'bad_request' : 'internal_error';
      return sendError(c, status, code, status < 500 ? err.message || 'Bad request' : 'Internal error');
    }
    // An outage is not a bug: say so at once, with when to come back, instead of a 500.
    const down = isRedisUnavailable(err) ? 'Redis' : isDatabaseUnavailable(err) ? 'MySQL' : undefined;
    if (down) {
      log.warn({ err: (err as Error).message }, `${down} unavailable`);
      c.header('Retry-After', String(RETRY_AFTER_SECONDS));
      return sendError(
        c,
        503,
        'service_unavailable',
        `The hub cannot reach ${down} right now: retry in ${RETRY_AFTER_SECONDS} s (with the same Idempotency-Key, if any)`,
      );
    }
    log.error({ err }, 'Unhandled error');
    return sendError(c, 500, 'internal_error', 'Internal error');
  };
}

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) =>
  sendError(c, 404, 'route_not_found', `No route for ${c.req.method} ${new URL(c.req.url).pathname}`);
