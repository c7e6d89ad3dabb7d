// The console's server side: the page and its assets under a strict CSP, the cookie sign-in
// (httpOnly refresh cookie, CSRF header, rotation, logout).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_PASSWORD,
  api,
  createTestProject,
  expectError,
  superAdminToken,
  type TestProject,
} from '../support/api.js';
import { startHub, type TestHub } from '../support/hub.js';

let hub: TestHub;
let a: TestProject;

beforeAll(async () => {
  hub = await startHub();
  a = await createTestProject(hub, await superAdminToken(hub));
});
afterAll(() => hub.close());

const CONSOLE = { 'X-Tocsin-Console': '1' };
const signInBody = (p: TestProject) => ({
  email: p.adminEmail,
  password: ADMIN_PASSWORD,
  projectSlug: p.slug,
});

function consolePost(path: string, headers: Record<string, string>, body?: unknown) {
  return fetch(`${hub.apiUrl}/api/v1/auth/console${path}`, {
    method: 'POST',
    headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
}

const json = (res: Response): Promise<any> => res.json();

/** The refresh cookie's value and attributes from a Set-Cookie header. */
function refreshCookie(res: Response) {
  const header = res.headers.getSetCookie().find((c) => c.startsWith('tocsin_console_refresh='));
  if (!header) return undefined;
  const [pair, ...attributes] = header.split(';').map((part) => part.trim());
  return { value: pair!.slice(pair!.indexOf('=') + 1), attributes };
}

describe('the page', () => {
  it('serves the page at /console and at any deep link, with a CSP that allows only this origin', async () => {
    for (const path of ['/console', '/console/', `/console/rules/${a.id}`]) {
      const res = await fetch(`${hub.apiUrl}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:\/\/(?!127\.0\.0\.1|localhost)/);
      expect(await res.text()).toContain('/console/assets/main.js');
    }
  });

  it('serves the assets, and a 404 error body for an unknown one', async () => {
    const script = await fetch(`${hub.apiUrl}/console/assets/main.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect(script.headers.get('content-security-policy')).toContain("script-src 'self'");
    const missing = await api(hub, 'GET', '/console/assets/nope.js');
    expectError(missing, 404, 'not_found');
    const traversal = await fetch(`${hub.apiUrl}/console/assets/..%2F..%2Fhttp%2Fapp.ts`);
    expect(traversal.status).toBe(404);
  });
});

describe('cookie sign-in', () => {
  it('refuses a sign-in without the console header, or from a foreign origin', async () => {
    const bare = await consolePost('/login', {}, signInBody(a));
    expect(bare.status).toBe(403);
    expect((await json(bare)).error.code).toBe('console_header_required');
    const foreign = await consolePost(
      '/login',
      { ...CONSOLE, Origin: 'https://evil.example' },
      signInBody(a),
    );
    expect(foreign.status).toBe(403);
    expect((await json(foreign)).error.code).toBe('origin_refused');
    expect(refreshCookie(foreign)).toBeUndefined();
  });

  it('keeps the refresh token in an httpOnly, SameSite=Strict, path-scoped cookie; rotates it; logs out', async () => {
    const login = await consolePost('/login', { ...CONSOLE, Origin: hub.apiUrl }, signInBody(a));
    expect(login.status).toBe(200);
    const body = await json(login);
    expect(body).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: expect.any(Number),
    });
    const first = refreshCookie(login)!;
    expect(first.attributes).toEqual(
      expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/api/v1/auth/console']),
    );
    expect(first.attributes.some((attribute) => attribute.startsWith('Max-Age='))).toBe(true);

    // Without the header, even holding the cookie, nothing happens.
    const cookie = (value: string) => ({ Cookie: `tocsin_console_refresh=${value}` });
    const unguarded = await consolePost('/refresh', cookie(first.value));
    expect(unguarded.status).toBe(403);

    const refreshed = await consolePost('/refresh', { ...CONSOLE, ...cookie(first.value) });
    expect(refreshed.status).toBe(200);
    const second = refreshCookie(refreshed)!;
    expect(second.value).not.toBe(first.value);
    const { accessToken } = await json(refreshed);
    expect((await api(hub, 'GET', '/api/v1/rules', undefined, { token: accessToken })).status).toBe(200);

    // The rotated cookie replayed: the family is revoked, the cookie cleared.
    const replayed = await consolePost('/refresh', { ...CONSOLE, ...cookie(first.value) });
    expect(replayed.status).toBe(401);
    expect((await json(replayed)).error.code).toBe('refresh_token_reused');
    expect(refreshCookie(replayed)?.value).toBe('');

    // A fresh session, then logout: the cookie is cleared and no longer refreshes.
    const again = await consolePost('/login', CONSOLE, signInBody(a));
    const third = refreshCookie(again)!;
    const token = (await json(again)).accessToken;
    const logout = await consolePost('/logout', {
      ...CONSOLE,
      ...cookie(third.value),
      Authorization: `Bearer ${token}`,
    });
    expect(logout.status).toBe(204);
    expect(refreshCookie(logout)?.value).toBe('');
    expect((await consolePost('/refresh', { ...CONSOLE, ...cookie(third.value) })).status).toBe(401);
    expect((await api(hub, 'GET', '/api/v1/rules', undefined, { token })).status).toBe(401);
  });

  it('answers a refresh without a cookie with 401 console_signed_out', async () => {
    const res = await consolePost('/refresh', CONSOLE);
    expect(res.status).toBe(401);
    expect((await json(res)).error.code).toBe('console_signed_out');
  });
});
