import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_FREE_FAILURES } from '../../../src/domain/login-guard.js';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';

let hub: TestHub;
let sa: string;
let project: TestProject;
const PASSWORD = 'Tunnel-vision-9';

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
  project = await createTestProject(hub, sa);
});
afterAll(() => hub.close());

const login = (email: string, password: string, projectSlug?: string) =>
  api(hub, 'POST', '/api/v1/auth/login', { email, password, ...(projectSlug ? { projectSlug } : {}) });

/** Registers a user and activates them directly (the approval route has its own tests). */
async function activeUser(email: string, password = PASSWORD) {
  const reg = await api(hub, 'POST', '/api/v1/auth/register', {
    email,
    password,
    fullName: 'Test User',
    projectSlug: project.slug,
  });
  expect(reg.status).toBe(201);
  await hub.running.db
    .forProject(project.id)
    .user.update({ where: { id: reg.body.id }, data: { status: 'active' } });
  return reg.body.id as string;
}

describe('register', () => {
  it('creates a pending user who cannot log in yet', async () => {
    const res = await api(hub, 'POST', '/api/v1/auth/register', {
      email: 'Pending@Example.test',
      password: PASSWORD,
      fullName: 'Pat Pending',
      projectId: project.id,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email: 'pending@example.test', status: 'pending' });
    expect(JSON.stringify(res.body)).not.toMatch(/password/i);
    expectError(await login('pending@example.test', PASSWORD, project.slug), 401, 'invalid_credentials');
  });

  it('answers a taken email and an unknown project as it answers a new registration', async () => {
    const fresh = { password: PASSWORD, fullName: 'Uma', projectSlug: project.slug };
    const first = await api(hub, 'POST', '/api/v1/auth/register', { ...fresh, email: 'uma@example.test' });
    const again = await api(hub, 'POST', '/api/v1/auth/register', { ...fresh, email: 'uma@example.test' });
    const nowhere = await api(hub, 'POST', '/api/v1/auth/register', {
      ...fresh,
      email: 'uma@example.test',
      projectSlug: 'no-such-project',
    });
    const shape = (res: typeof first) => ({ status: res.status, keys: Object.keys(res.body).sort() });
    expect(shape(again)).toEqual(shape(first));
    expect(shape(nowhere)).toEqual(shape(first));
    expect(again.body).toMatchObject({ email: 'uma@example.test', status: 'pending' });
    expect(again.body.id).not.toBe(first.body.id);
    // Nothing was created by the repeats: the one user is the first.
    const users = await hub.running.db
      .forProject(project.id)
      .user.findMany({ where: { email: 'uma@example.test' }, select: { id: true } });
    expect(users).toEqual([{ id: first.body.id }]);
  });

  it('refuses weak passwords and a missing project', async () => {
    const base = { email: 'weak@example.test', fullName: 'W', projectSlug: project.slug };
    // too short, letters only, digits only, contains the email name
    for (const password of ['Short-1!', 'onlyletterslong', '1234567890123', 'my-weak-name-1']) {
      expectError(
        await api(hub, 'POST', '/api/v1/auth/register', { ...base, password }),
        400,
        'weak_password',
      );
    }
    expectError(
      await api(hub, 'POST', '/api/v1/auth/register', {
        email: 'x@example.test',
        password: PASSWORD,
        fullName: 'x',
      }),
      400,
      'validation_failed',
    );
  });
});

describe('login, refresh, logout', () => {
  it('logs in an active user with a token carrying project, roles and a jti', async () => {
    await activeUser('carol@example.test');
    const res = await login('carol@example.test', PASSWORD, project.slug);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, refreshToken: expect.any(String) });
    const claims = JSON.parse(Buffer.from(res.body.accessToken.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({
      pid: project.id,
      roles: [],
      perms: [],
      jti: expect.any(String),
      iss: 'tocsin',
    });
    expectError(
      await login('carol@example.test', 'Wrong-password-1', project.slug),
      401,
      'invalid_credentials',
    );
    expectError(await login('nobody@example.test', PASSWORD, project.slug), 401, 'invalid_credentials');
    // An unknown project answers exactly as a wrong password does.
    const unknown = await login('carol@example.test', PASSWORD, 'no-such-project');
    expectError(unknown, 401, 'invalid_credentials');
    const wrong = await login('carol@example.test', 'Wrong-password-1', project.slug);
    expect(unknown.body.error.message).toBe(wrong.body.error.message);
  });

  it('counts every byte of a password: bcrypt alone would stop at 72', async () => {
    // 36 'ä' are 72 bytes: before the pre-hash, any suffix logged in.
    const password = `${'ä'.repeat(36)}a-1`;
    await activeUser('umlaut@example.test', password);
    expect((await login('umlaut@example.test', password, project.slug)).status).toBe(200);
    expectError(
      await login('umlaut@example.test', `${'ä'.repeat(36)}b-2`, project.slug),
      401,
      'invalid_credentials',
    );
    expectError(
      await login('umlaut@example.test', `${'ä'.repeat(36)}`, project.slug),
      401,
      'invalid_credentials',
    );
  });

  it('logs in super admins without a project, not with one', async () => {
    const res = await api(hub, 'POST', '/api/v1/auth/login', {
      email: 'admin@tocsin.local',
      password: 'test-admin-password-123',
    });
    expect(res.status).toBe(200);
    const claims = JSON.parse(Buffer.from(res.body.accessToken.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sa: true });
    expectError(await login('admin@tocsin.local', 'test-admin-password-123', project.slug), 401);
  });

  it('tells a project user who left out projectSlug what to add, in the answer every failed admin login gets', async () => {
    await activeUser('no-slug@example.test');
    const noProject = (email: string, password: string) =>
      api(hub, 'POST', '/api/v1/auth/login', { email, password });
    const answers = await Promise.all([
      noProject('no-slug@example.test', PASSWORD), // a project user, right password
      noProject('admin@tocsin.local', 'Wrong-password-1'), // the super admin, wrong password
      noProject('nobody@example.test', PASSWORD), // no account anywhere
    ]);
    for (const res of answers) {
      expectError(res, 401, 'invalid_credentials');
      expect(res.body.error.message).toBe(
        'No super-admin account has this email and password; project users sign in with projectSlug (or projectId)',
      );
    }
  });

  it('rotates refresh tokens; reusing a rotated one revokes the whole family', async () => {
    await activeUser('dave@example.test');
    const first = await login('dave@example.test', PASSWORD, project.slug);
    const second = await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: first.body.refreshToken });
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.body.refreshToken);
    const third = await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: second.body.refreshToken });
    expect(third.status).toBe(200);
    // Replaying the first (rotated) token: reuse detected, the live third token dies too.
    expectError(
      await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: first.body.refreshToken }),
      401,
      'refresh_token_reused',
    );
    expectError(
      await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: third.body.refreshToken }),
      401,
      'refresh_token_reused',
    );
    expectError(
      await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: 'made-up' }),
      401,
      'refresh_token_invalid',
    );
    await hub.running.services.audit.flush();
    expect(
      await hub.running.db.forProject(project.id).auditLog.count({ where: { action: 'auth.refresh_reuse' } }),
    ).toBeGreaterThan(0);
  });

  it('logout revokes the refresh token and denies the access token until it expires', async () => {
    await activeUser('erin@example.test');
    const session = await login('erin@example.test', PASSWORD, project.slug);
    const other = await login('erin@example.test', PASSWORD, project.slug);
    expect(
      (
        await api(
          hub,
          'POST',
          '/api/v1/auth/logout',
          { refreshToken: session.body.refreshToken },
          { token: session.body.accessToken },
        )
      ).status,
    ).toBe(204);
    expectError(
      await api(hub, 'POST', '/api/v1/auth/logout', undefined, { token: session.body.accessToken }),
      401,
      'token_revoked',
    );
    expectError(
      await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: session.body.refreshToken }),
      401,
    );
    // Another session of the same user is untouched.
    expect(
      (await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: other.body.refreshToken })).status,
    ).toBe(200);
  });

  it('change-password checks the current one and ends every session', async () => {
    await activeUser('fay@example.test');
    const session = await login('fay@example.test', PASSWORD, project.slug);
    const token = session.body.accessToken;
    expectError(
      await api(
        hub,
        'POST',
        '/api/v1/auth/change-password',
        { currentPassword: 'nope-nope-1', newPassword: 'Brand-new-pass-2' },
        { token },
      ),
      400,
      'wrong_password',
    );
    expectError(
      await api(
        hub,
        'POST',
        '/api/v1/auth/change-password',
        { currentPassword: PASSWORD, newPassword: 'weak' },
        { token },
      ),
      400,
      'weak_password',
    );
    expect(
      (
        await api(
          hub,
          'POST',
          '/api/v1/auth/change-password',
          { currentPassword: PASSWORD, newPassword: 'Brand-new-pass-2' },
          { token },
        )
      ).status,
    ).toBe(204);
    expectError(await api(hub, 'POST', '/api/v1/auth/logout', undefined, { token }), 401, 'token_revoked');
    expectError(
      await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: session.body.refreshToken }),
      401,
    );
    expect((await login('fay@example.test', 'Brand-new-pass-2', project.slug)).status).toBe(200);
  });
});

describe('brute-force protection', () => {
  it('locks an account after repeated failures with 429 and Retry-After, even for the right password', async () => {
    await activeUser('gus@example.test');
    for (let i = 0; i < ACCOUNT_FREE_FAILURES - 1; i++) {
      expectError(await login('gus@example.test', 'Wrong-password-1', project.slug), 401);
    }
    expectError(await login('gus@example.test', 'Wrong-password-1', project.slug), 401); // this failure sets the lock
    const locked = await login('gus@example.test', PASSWORD, project.slug);
    expectError(locked, 429, 'login_locked');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    await hub.running.services.audit.flush();
    const audit = hub.running.db.forProject(project.id).auditLog;
    expect(await audit.count({ where: { action: 'auth.login_failed' } })).toBeGreaterThanOrEqual(
      ACCOUNT_FREE_FAILURES,
    );
    expect(await audit.count({ where: { action: 'auth.login_locked' } })).toBeGreaterThan(0);
  });
});

describe('OpenAPI', () => {
  it('documents every route with its security, and serves Swagger UI at /docs', async () => {
    const doc = await api(hub, 'GET', '/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/projects',
        '/api/v1/auth/login',
        '/api/v1/projects/{id}',
        '/apps/{appId}/events',
        '/apps/{appId}/channels/{channel}',
      ]),
    );
    for (const [path, operations] of Object.entries<
      Record<string, { security?: unknown; responses: object }>
    >(doc.body.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        expect(operation.security, `${method.toUpperCase()} ${path} documents its auth`).toBeDefined();
        expect(
          Object.keys(operation.responses).length,
          `${method} ${path} documents responses`,
        ).toBeGreaterThan(1);
      }
    }
    const docs = await fetch(`${hub.apiUrl}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/api/v1/openapi.json');
  });
});

describe('tokens across projects', () => {
  it("rejects project A's admin token on routes acting in project B", async () => {
    const other = await createTestProject(hub, sa);
    // A project token names its own project; X-Project-Id is only honoured for super admins.
    const res = await api(hub, 'GET', `/api/v1/projects/${other.id}`, undefined, {
      token: project.adminToken,
      projectId: other.id,
    });
    expectError(res, 403);
    expect(JSON.stringify(res.body)).not.toContain(other.slug);
  });
});
