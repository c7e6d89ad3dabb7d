// Every request body is read and checked here, once, before any route sees it: JSON that does
// not parse, nests too deep or holds a lone surrogate, and form bodies that do not parse, get a
// 400 with the error body. Routes, their validators and hand-written readers (pusher-auth) then
// only meet bodies that parse, and Hono's body cache hands them the text read here.
import type { MiddlewareHandler } from 'hono';
import type { AppError } from '../../core/errors.js';
import { readJsonBody } from '../../core/json-limits.js';
import { sendError } from './errors.js';
import type { AppEnv } from './request-context.js';

const FORM_TYPES = new Set(['multipart/form-data', 'application/x-www-form-urlencoded']);

const mediaType = (contentType: string | undefined) =>
  (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** application/json, text/json, application/…+json: what is read (and checked) as JSON. */
export const isJsonType = (contentType: string | undefined) => /[/+]json$/.test(mediaType(contentType));

export function checkedBodies(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!c.req.raw.body) return next();
    const type = mediaType(c.req.header('content-type'));
    if (isJsonType(type)) {
      const text = await c.req.text();
      try {
        readJsonBody(text);
      } catch (err) {
        const problem = err as AppError;
        return sendError(c, problem.status, problem.code, problem.message);
      }
      // Later body limits read the raw stream again; the text was consumed here.
      c.req.raw = new Request(c.req.raw, { body: text });
    } else if (FORM_TYPES.has(type)) {
      try {
        await c.req.parseBody();
      } catch {
        return sendError(
          c,
          400,
          'malformed_form',
          `The ${type} body does not parse; check its encoding and boundary`,
        );
      }
    }
    return next();
  };
}
