// Maps every failure to `{ error: { code, message, requestId } }` (core/error-answer.ts), and
// Hono's own exceptions for malformed requests to a 4xx.
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { errorAnswer, errorJson } from '../../core/error-answer.js';
import type { Logger } from '../../core/log.js';
import type { AppEnv } from './request-context.js';

export function errorBody(c: Context<AppEnv>, code: string, message: string, details?: unknown) {
  return errorJson(c.get('requestId'), code, message, details);
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

export function errorHandler(log: Logger): ErrorHandler<AppEnv> {
  return (err, c) => {
    if (err instanceof HTTPException) {
      // Hono raises these for malformed bodies and similar client mistakes.
      const status = err.status;
      const code = status === 413 ? 'payload_too_large' : status < 500 ? 'bad_request' : 'internal_error';
      return sendError(c, status, code, status < 500 ? err.message || 'Bad request' : 'Internal error');
    }
    const answer = errorAnswer(err, log);
    for (const [name, value] of Object.entries(answer.headers)) c.header(name, value);
    return sendError(c, answer.status, answer.code, answer.message, answer.details);
  };
}

export const notFoundHandler: NotFoundHandler<AppEnv> = (c) =>
  sendError(c, 404, 'route_not_found', `No route for ${c.req.method} ${new URL(c.req.url).pathname}`);
