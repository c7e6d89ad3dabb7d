// How a failure is answered over HTTP, whatever serves the request (Hono on the API port, uWS on
// the gateway port): known errors keep their status, zod failures are a 400 with the issues, an
// outage is a 503 with Retry-After, and anything unexpected is logged and answered with a
// generic 500 that leaks nothing. The body is always `{ error: { code, message, requestId } }`.
import { ZodError } from 'zod';
import { isDatabaseUnavailable } from './db.js';
import { AppError } from './errors.js';
import type { Logger } from './log.js';
import { isRedisUnavailable } from './redis.js';

export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  details?: unknown;
  headers: Record<string, string>;
}

const RETRY_AFTER_SECONDS = 5;

export function errorAnswer(err: unknown, log: Pick<Logger, 'warn' | 'error'>): ErrorAnswer {
  if (err instanceof AppError) {
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      details: err.details,
      headers: err.headers ?? {},
    };
  }
  if (err instanceof ZodError) {
    const details = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    return {
      status: 400,
      code: 'validation_failed',
      message: 'The request is not valid',
      details,
      headers: {},
    };
  }
  // An outage is not a bug: say so at once, with when to come back, instead of a 500.
  const down = isRedisUnavailable(err) ? 'Redis' : isDatabaseUnavailable(err) ? 'MySQL' : undefined;
  if (down) {
    log.warn({ err: (err as Error).message }, `${down} unavailable`);
    return {
      status: 503,
      code: 'service_unavailable',
      message: `The hub cannot reach ${down} right now: retry in ${RETRY_AFTER_SECONDS} s (with the same Idempotency-Key, if any)`,
      headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    };
  }
  log.error({ err }, 'Unhandled error');
  return { status: 500, code: 'internal_error', message: 'Internal error', headers: {} };
}

/** The error body every route answers with. */
export const errorJson = (requestId: string, code: string, message: string, details?: unknown) => ({
  error: { code, message, requestId, ...(details === undefined ? {} : { details }) },
});
