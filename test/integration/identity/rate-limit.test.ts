// Rate limits: per user and per project on the REST API (limits from the project's settings),
// per project on ingest, per client IP on auth routes — each tested at its boundary.
import { request as httpRequest } from 'node:http';
import { randomInt } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../../src/http/middleware/errors.js';
import { authenticate } from '../../../src/http/middleware/auth.js';
import { AUTH_PER_MINUTE, rateLimit } from '../../../src/http/middleware/rate-limit.js';
import { requestContext } from '../../../src/http/middleware/request-context.js';
import { createRouter } from '../../../src/http/openapi.js';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { login, nextBusMessage, registerUser } from './helpers.js';

let hub: TestHub;
let sa: string;

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
});
afterAll(() => hub.close());

const projectWith = (rateLimits: Record<string, number>) =>
  createTestProject(hub, sa, { settings: { rateLimits } });

/** An active member whose set-up does not touch the project's API budget (straight to MySQL). */
async function quietUser(project: TestProject) {
  const user = await registerUser(hub, project);
  const db = hub.running.db.forProject(project.id);
  const member = await db.role.findFirstOrThrow({ where: { name: 'member' } });
  await db.user.updateMany({ where: { id: user.id }, data: { status: 'active' } });
  await db.userRole.create({ data: { projectId: project.id, userId: user.id, roleId: member.id } });
  return { ...user, ...(await login(hub, project, user.email)) };
}

const me = (token: string) => api(hub, 'GET', '/api/v1/users/me', undefined, { token });

async function statuses(count: number, call: () => Promise<{ status: number }>) {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await call()).status);
  return out;
}

describe('REST API', () => {
  it('allows exactly userPerMinute requests per user, then 429 with Retry-After and RateLimit-*', async () => {
    const project = await projectWith({ userPerMinute: 5, apiPerMinute: 1000 });
    const first = await quietUser(project);
    const second = await quietUser(project);

    const ok = await me(first.token);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('ratelimit-limit')).toBe('5');
    expect(ok.headers.get('ratelimit-remaining')).toBe('4');
    expect(Number(ok.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1);
    expect(Number(ok.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(60);
    expect(await statuses(4, () => me(first.token))).toEqual([200, 200, 200, 200]);

    const refused = await me(first.token);
    expectError(refused, 429, 'rate_limited');
    expect(refused.body.error.message).toContain('user limit is 5 per minute');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit-limit')).toBe('5');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(refused.headers.get('ratelimit-reset')).toBe(String(retryAfter));
    // Another user of the same project has their own budget.
    expect((await me(second.token)).status).toBe(200);
  });

  it('allows exactly apiPerMinute requests per project across its users and super admins', async () => {
    const project = await projectWith({ apiPerMinute: 6, userPerMinute: 100 });
    const [a, b] = [await quietUser(project), await quietUser(project)];
    const calls = [a, b, a, b, a].map((u) => () => me(u.token));
    const results: number[] = [];
    for (const call of calls) results.push((await call()).status);
    const asSa = await api(hub, 'GET', '/api/v1/users', undefined, { token: sa, projectId: project.id });
    expect([...results, asSa.status]).toEqual([200, 200, 200, 200, 200, 200]);
    expect(asSa.headers.get('ratelimit-remaining')).toBe('0');

    const refused = await me(b.token);
    expectError(refused, 429, 'rate_limited');
    expect(refused.body.error.message).toContain('project limit is 6 per minute');
    expectError(await api(hub, 'GET', '/api/v1/users', undefined, { token: sa, projectId: project.id }), 429);
    // Other projects, and super admins outside a project, are not affected.
    expect((await api(hub, 'GET', `/api/v1/projects/${project.id}`, undefined, { token: sa })).status).toBe(
      200,
    );
    const keys = await hub.running.services.redis.keys(
      `${hub.running.services.keys.projectKey(project.id, 'rl')}:*`,
    );
    expect(keys.length).toBeGreaterThanOrEqual(3); // the project, and each user
  });

  it('applies a changed limit at once (the settings cache drops on project.changed)', async () => {
    const project = await projectWith({ userPerMinute: 2 });
    const user = await quietUser(project);
    expect(await statuses(3, () => me(user.token))).toEqual([200, 200, 429]);
    const changed = await nextBusMessage(hub, 'project.changed', project.id);
    const put = await api(
      hub,
      'PUT',
      `/api/v1/projects/${project.id}`,
      { settings: { rateLimits: { userPerMinute: 5 } } },
      { token: sa },
    );
    expect(put.status).toBe(200);
    await changed();
    // The window continues: 3 requests counted so far (the refused one too), 5 allowed.
    expect(await statuses(3, () => me(user.token))).toEqual([200, 200, 429]);
  });

  it('sends RateLimit-* on successful responses and leaves unauthenticated requests to the auth check', async () => {
    const project = await projectWith({});
    const res = await me(project.adminToken);
    expect(res.headers.get('ratelimit-limit')).toBe('600'); // the default userPerMinute binds first
    expect(res.headers.get('ratelimit-remaining')).toBe('599');
    const anonymous = await api(hub, 'GET', '/api/v1/users/me');
    expectError(anonymous, 401);
    expect(anonymous.headers.get('ratelimit-limit')).toBeNull();
  });
});

describe('ingest', () => {
  /** A stand-in for the ingest routes: API-key auth, then the ingest limiter (one with a cost). */
  function ingestApp(deps = hub.running.services) {
    const app = createRouter();
    app.use('*', requestContext());
    app.onError(errorHandler(deps.log));
    app.use('/api/v1/*', rateLimit(deps, 'api'));
    const accepted = (c: { json: (body: unknown, status: 202) => Response }) => c.json({ ok: true }, 202);
    app.post(
      '/api/v1/events',
      authenticate(hub.running.services, 'apiKey'),
      rateLimit(deps, 'ingest'),
      accepted,
    );
    app.post(
      '/api/v1/events/batch',
      authenticate(hub.running.services, 'apiKey'),
      rateLimit(deps, 'ingest', { cost: (c) => Number(c.req.header('x-count') ?? 1) }),
      accepted,
    );
    app.post('/api/v1/other', authenticate(hub.running.services, 'apiKey'), accepted);
    return app;
  }
  const post = (
    app: ReturnType<typeof ingestApp>,
    path: string,
    apiKey: string,
    headers: Record<string, string> = {},
  ) => app.request(path, { method: 'POST', headers: { 'X-API-Key': apiKey, ...headers } });

  it('allows exactly ingestPerSecond events per project per second; the API limit does not apply to ingest', async () => {
    const project = await projectWith({ ingestPerSecond: 3, apiPerMinute: 2 });
    const app = ingestApp();
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await post(app, '/api/v1/events', project.apiKey));
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 429]);
    expect(results[2]!.headers.get('ratelimit-limit')).toBe('3');
    expect(results[3]!.headers.get('retry-after')).toBe('1');
    expect(await results[3]!.json()).toMatchObject({
      error: { code: 'rate_limited', message: expect.stringContaining('3 per second') },
    });
    // The same key elsewhere is under the project's API limit (2 per minute).
    const other = [];
    for (let i = 0; i < 3; i++) other.push((await post(app, '/api/v1/other', project.apiKey)).status);
    expect(other).toEqual([202, 202, 429]);
  });

  it('charges a batch its cost', async () => {
    const project = await projectWith({ ingestPerSecond: 5 });
    const app = ingestApp();
    expect((await post(app, '/api/v1/events/batch', project.apiKey, { 'x-count': '4' })).status).toBe(202);
    expect((await post(app, '/api/v1/events/batch', project.apiKey, { 'x-count': '2' })).status).toBe(429);
  });

  it('lets requests through when Redis cannot answer (fails open)', async () => {
    const project = await projectWith({ ingestPerSecond: 1 });
    const dead = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    try {
      const app = ingestApp({ ...hub.running.services, redis: dead });
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await post(app, '/api/v1/events', project.apiKey));
      expect(results.map((r) => r.status)).toEqual([202, 202, 202]);
      expect(results[0]!.headers.get('ratelimit-limit')).toBeNull();
    } finally {
      dead.disconnect();
    }
  });
});

describe('auth routes', () => {
  /** POST from a chosen loopback address, so this test has an IP of its own. */
  function postFrom(
    localAddress: string,
    path: string,
    body: unknown,
  ): Promise<{ status: number; headers: Record<string, unknown> }> {
    const url = new URL(path, hub.apiUrl);
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          localAddress,
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  it(`allows exactly ${AUTH_PER_MINUTE} login/register/refresh requests per client IP per minute`, async () => {
    const ip = `127.0.${randomInt(1, 250)}.${randomInt(2, 250)}`;
    const refresh = () => postFrom(ip, '/api/v1/auth/refresh', { refreshToken: 'not-a-real-token' });
    const results: number[] = [];
    // In parallel bursts: the counter is atomic in Redis.
    for (let sent = 0; sent < AUTH_PER_MINUTE; sent += 25) {
      const burst = await Promise.all(Array.from({ length: Math.min(25, AUTH_PER_MINUTE - sent) }, refresh));
      results.push(...burst.map((r) => r.status));
    }
    expect(results.filter((s) => s === 401)).toHaveLength(AUTH_PER_MINUTE);
    const refused = await refresh();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['ratelimit-limit']).toBe(String(AUTH_PER_MINUTE));
    expect(
      (await postFrom(ip, '/api/v1/auth/login', { email: 'x@example.test', password: 'whatever-1' })).status,
    ).toBe(429);
    expect((await postFrom(ip, '/api/v1/auth/register', {})).status).toBe(429);
    // Another address is not affected.
    expect(
      (await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: 'not-a-real-token' })).status,
    ).toBe(401);
  });
});
