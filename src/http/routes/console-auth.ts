// /api/v1/auth/console — the browser console's sign-in. The refresh token never reaches page
// script: it lives in an httpOnly, SameSite=Strict cookie scoped to these routes, and the page
// keeps only the short-lived access token in memory. CSRF defence on top of SameSite: every
// route demands the X-Tocsin-Console header, which a cross-site form cannot send and a
// cross-origin fetch cannot either (CORS does not allow it), and a foreign Origin is refused.
import { createRoute } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { forbidden, unauthorized } from '../../core/errors.js';
import * as auth from '../../domain/auth.js';
import type { DomainDeps } from '../../domain/deps.js';
import type { Principal } from '../../domain/principal.js';
import { authenticate } from '../middleware/auth.js';
import { rateLimit } from '../middleware/rate-limit.js';
import type { AppEnv } from '../middleware/request-context.js';
import { createRouter, errorResponses, jsonBody, jsonContent, security, z } from '../openapi.js';
import { clientInfo, Login } from './auth.js';

export const CONSOLE_AUTH_PATH = '/api/v1/auth/console';
export const REFRESH_COOKIE = 'tocsin_console_refresh';
export const CONSOLE_HEADER = 'x-tocsin-console';

const ConsoleSession = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().openapi({ description: 'Seconds' }),
  })
  .openapi('ConsoleSession', {
    description: `The refresh token is set as the httpOnly cookie ${REFRESH_COOKIE} (Path=${CONSOLE_AUTH_PATH})`,
  });

const ConsoleHeader = z.object({
  [CONSOLE_HEADER]: z.string().openapi({ description: 'Any value; proves a same-origin script sent it' }),
});

const tags = ['Auth'];

/** Refuses requests a cross-site page could have made. */
function sameOriginOnly(publicUrl: string): MiddlewareHandler<AppEnv> {
  const publicOrigin = new URL(publicUrl).origin;
  return async (c, next) => {
    if (c.req.header(CONSOLE_HEADER) === undefined) {
      throw forbidden('console_header_required', `Send the ${CONSOLE_HEADER} header (the console does)`);
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && origin !== publicOrigin && origin !== new URL(c.req.url).origin) {
      throw forbidden('origin_refused', `Requests from ${origin} may not use the console sign-in`);
    }
    await next();
  };
}

export function consoleAuthRoutes(deps: DomainDeps) {
  const router = createRouter();
  const guard = sameOriginOnly(deps.config.http.publicUrl);
  const secure = (c: Context) =>
    new URL(deps.config.http.publicUrl).protocol === 'https:' || new URL(c.req.url).protocol === 'https:';

  /** Keeps the refresh token in the cookie and hands the page the access token only. */
  const answer = (c: Context<AppEnv>, tokens: auth.TokenPair) => {
    setCookie(c, REFRESH_COOKIE, tokens.refreshToken, {
      httpOnly: true,
      secure: secure(c),
      sameSite: 'Strict',
      path: CONSOLE_AUTH_PATH,
      maxAge: tokens.refreshExpiresIn,
    });
    c.header('Cache-Control', 'no-store');
    return c.json(
      { accessToken: tokens.accessToken, tokenType: tokens.tokenType, expiresIn: tokens.expiresIn },
      200,
    );
  };
  const forget = (c: Context) =>
    deleteCookie(c, REFRESH_COOKIE, { path: CONSOLE_AUTH_PATH, secure: secure(c) });

  router.openapi(
    createRoute({
      method: 'post',
      path: '/login',
      tags,
      middleware: [guard, rateLimit(deps, 'auth')] as const,
      summary: 'Console sign-in: the access token in the body, the refresh token in an httpOnly cookie',
      security: security.none,
      request: { headers: ConsoleHeader, body: jsonBody(Login) },
      responses: {
        200: jsonContent(ConsoleSession, 'Signed in'),
        ...errorResponses(400, 401, 403, 404, 429),
      },
    }),
    async (c) => answer(c, await auth.login(deps, c.req.valid('json'), clientInfo(c))),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/refresh',
      tags,
      middleware: [guard, rateLimit(deps, 'auth')] as const,
      summary: 'A new access token from the refresh cookie (which is rotated)',
      security: security.none,
      request: { headers: ConsoleHeader },
      responses: {
        200: jsonContent(ConsoleSession, 'A new access token'),
        ...errorResponses(401, 403, 429),
      },
    }),
    async (c) => {
      const refreshToken = getCookie(c, REFRESH_COOKIE);
      if (!refreshToken) throw unauthorized('console_signed_out', 'Not signed in to the console');
      try {
        return answer(c, await auth.refresh(deps, refreshToken, clientInfo(c)));
      } catch (err) {
        forget(c);
        throw err;
      }
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/logout',
      tags,
      middleware: [guard, authenticate(deps, 'user', 'superAdmin')] as const,
      summary: 'Console sign-out: revokes the refresh cookie and this access token, clears the cookie',
      security: security.bearerOrSuperAdmin,
      request: { headers: ConsoleHeader },
      responses: { 204: { description: 'Signed out' }, ...errorResponses(401, 403) },
    }),
    async (c) => {
      const principal = c.get('principal') as Extract<Principal, { kind: 'user' | 'superAdmin' }>;
      await auth.logout(deps, principal, getCookie(c, REFRESH_COOKIE));
      forget(c);
      return c.body(null, 204);
    },
  );

  return router;
}
