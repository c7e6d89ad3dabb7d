// The console's server side: the page and its assets under a strict CSP, the cookie sign-in
// (httpOnly refresh cookie, CSRF header, rotation, logout), and the live event stream (admins
// only, tenant-scoped, bounded).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LIVE_STREAMS } from '../../src/http/routes/console-live.js';
import {
  ADMIN_PASSWORD,
  api,
  createTestProject,
  expectError,
  superAdminToken,
  type TestProject,
} from '../support/api.js';
import { startHub, type TestHub } from '../support/hub.js';
import { activeUser } from './identity/helpers.js';

let hub: TestHub;
let a: TestProject;
let b: TestProject;

beforeAll(async () => {
  hub = await startHub();
  const sa = await superAdminToken(hub);
  [a, b] = await Promise.all([createTestProject(hub, sa), createTestProject(hub, sa)]);
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

/** Opens the live stream; `next()` resolves with the next message of the given type. */
async function openLive(token: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(`${hub.apiUrl}/api/v1/live`, {
    headers: { Authorization: `Bearer ${token}`, ...headers },
    signal: controller.signal,
  });
  const messages: Array<{ event: string; data: string }> = [];
  const waiters: Array<() => void> = [];
  if (res.ok) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body!) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true });
          let end;
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: ?(.*)$/m.exec(block)?.[1];
            const data = /^data: ?(.*)$/m.exec(block)?.[1];
            if (event && data !== undefined) messages.push({ event, data });
            waiters.splice(0).forEach((wake) => wake());
          }
        }
      } catch {
        // aborted
      }
    })();
  }
  const next = async (event: string) => {
    for (;;) {
      const index = messages.findIndex((m) => m.event === event);
      if (index !== -1) return JSON.parse(messages.splice(index, 1)[0]!.data);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { res, messages, next, close: () => controller.abort() };
}

describe('live stream', () => {
  it("streams the project's processed events with their rules and notifications, and nothing of another project", async () => {
    const roles = await api(hub, 'GET', '/api/v1/roles', undefined, { token: a.adminToken });
    const adminRole = roles.body.items.find((r: { name: string }) => r.name === 'admin').id;
    const rule = await api(
      hub,
      'POST',
      '/api/v1/rules',
      {
        name: 'Live rule',
        condition: 'event.type == "live.test"',
        targetRoles: [adminRole],
        title: 'Live {{event.payload.n}}',
        body: 'b',
      },
      { token: a.adminToken },
    );
    expect(rule.status).toBe(201);

    const liveA = await openLive(a.adminToken);
    // B names A's project too: a project user's X-Project-Id is ignored.
    const liveB = await openLive(b.adminToken, { 'X-Project-Id': a.id });
    expect(liveA.res.headers.get('content-type')).toContain('text/event-stream');
    await Promise.all([liveA.next('ready'), liveB.next('ready')]);

    const posted = await api(
      hub,
      'POST',
      '/api/v1/events',
      { type: 'live.test', payload: { n: 7 } },
      { apiKey: a.apiKey },
    );
    expect(posted.status).toBe(202);
    const unmatched = await api(
      hub,
      'POST',
      '/api/v1/events',
      { type: 'other', payload: {} },
      { apiKey: a.apiKey },
    );
    const seen = [await liveA.next('event'), await liveA.next('event')];
    const byId = new Map(seen.map((e) => [e.id, e]));
    expect(byId.get(posted.body.id)).toMatchObject({
      type: 'live.test',
      status: 'processed',
      matchedRules: [rule.body.id],
      notifications: [{ ruleId: rule.body.id, title: 'Live 7', recipients: 1 }],
    });
    expect(byId.get(unmatched.body.id)).toMatchObject({ type: 'other', matchedRules: [], notifications: [] });

    // B's stream is still open and got nothing of A: an event of B is the next thing it sees.
    const ofB = await api(
      hub,
      'POST',
      '/api/v1/events',
      { type: 'b.only', payload: {} },
      { apiKey: b.apiKey },
    );
    expect((await liveB.next('event')).id).toBe(ofB.body.id);
    expect(liveB.messages).toEqual([]);
    liveA.close();
    liveB.close();
  });

  it('is for admins only', async () => {
    const res = await api(hub, 'GET', '/api/v1/live');
    expectError(res, 401);
    const member = await activeUser(hub, a, ['member']);
    expectError(
      await api(hub, 'GET', '/api/v1/live', undefined, { token: member.token }),
      403,
      'permission_denied',
    );
    const sa = await superAdminToken(hub);
    expectError(await api(hub, 'GET', '/api/v1/live', undefined, { token: sa }), 400, 'project_required');
  });

  it(`allows ${MAX_LIVE_STREAMS} open streams per project, then answers 429`, async () => {
    const open = await Promise.all(Array.from({ length: MAX_LIVE_STREAMS }, () => openLive(b.adminToken)));
    expect(open.map((s) => s.res.status)).toEqual(Array(MAX_LIVE_STREAMS).fill(200));
    await Promise.all(open.map((s) => s.next('ready')));
    const refused = await api(hub, 'GET', '/api/v1/live', undefined, { token: b.adminToken });
    expectError(refused, 429, 'live_streams_exhausted');
    // Another project is not affected.
    const ofA = await openLive(a.adminToken);
    expect(ofA.res.status).toBe(200);
    ofA.close();
    open.forEach((s) => s.close());
  });
});
