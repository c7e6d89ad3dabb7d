// The whole identity flow as a new operator would walk it: a super admin creates a project, a
// user registers, the project admin approves them with roles, the user logs in, refreshes, and
// logs out — after which the tokens they held stop working.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { api, expectError, superAdminToken, uniqueSlug } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { auditRows } from './helpers.js';

let hub: TestHub;

beforeAll(async () => {
  hub = await startHub({}, ['api']);
});
afterAll(() => hub.close());

it('super admin creates a project → user registers → admin approves → login → refresh → logout', async () => {
  // 1. The super admin creates the project with its first admin (no password: a setup token).
  const sa = await superAdminToken(hub);
  const slug = uniqueSlug('flow');
  const created = await api(
    hub,
    'POST',
    '/api/v1/projects',
    { name: 'Flow', slug, admin: { email: `ops@${slug}.test`, fullName: 'Ops Lead' } },
    { token: sa },
  );
  expect(created.status).toBe(201);
  expect(created.body.apiKey).toMatch(/^tk_[0-9A-Za-z]{40,}$/);
  const projectId = created.body.project.id as string;
  const setup = await api(hub, 'POST', '/api/v1/auth/setup-password', {
    token: created.body.admin.setupToken,
    password: 'Lead-secret-2026',
  });
  expect(setup.status).toBe(204);
  const adminLogin = await api(hub, 'POST', '/api/v1/auth/login', {
    email: `ops@${slug}.test`,
    password: 'Lead-secret-2026',
    projectSlug: slug,
  });
  expect(adminLogin.status).toBe(200);
  const admin = adminLogin.body.accessToken as string;

  // 2. A user registers; pending users cannot log in.
  const credentials = { email: 'Ana@Example.test', password: 'correct-horse-7', projectSlug: slug };
  const registered = await api(hub, 'POST', '/api/v1/auth/register', {
    ...credentials,
    fullName: 'Ana Lima',
  });
  expect(registered.status).toBe(201);
  expect(registered.body).toMatchObject({ email: 'ana@example.test', status: 'pending' });
  expectError(await api(hub, 'POST', '/api/v1/auth/login', credentials), 401, 'invalid_credentials');

  // 3. The admin finds them among the pending users and approves them with roles.
  const pending = await api(hub, 'GET', '/api/v1/users/pending', undefined, { token: admin });
  expect(pending.body.items.map((u: { id: string }) => u.id)).toEqual([registered.body.id]);
  const approved = await api(
    hub,
    'POST',
    `/api/v1/users/${registered.body.id}/approve`,
    { roles: ['rule_manager', 'member'] },
    { token: admin },
  );
  expect(approved.status).toBe(200);
  expect(approved.body.status).toBe('active');

  // 4. The user logs in and sees their roles and permissions.
  const login = await api(hub, 'POST', '/api/v1/auth/login', credentials);
  expect(login.status).toBe(200);
  const me = await api(hub, 'GET', '/api/v1/users/me', undefined, { token: login.body.accessToken });
  expect(me.body).toMatchObject({
    email: 'ana@example.test',
    roles: [{ name: 'member' }, { name: 'rule_manager' }],
  });
  expect(me.body.permissions).toContain('rules:write');
  expectError(
    await api(hub, 'GET', '/api/v1/users', undefined, { token: login.body.accessToken }),
    403,
    'permission_denied',
  );

  // 5. Refresh: a new pair; the used refresh token is spent.
  const refreshed = await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: login.body.refreshToken });
  expect(refreshed.status).toBe(200);
  expect(refreshed.body.refreshToken).not.toBe(login.body.refreshToken);
  const access = refreshed.body.accessToken as string;
  expect((await api(hub, 'GET', '/api/v1/users/me', undefined, { token: access })).status).toBe(200);

  // 6. Logout: the access token used and the refresh token presented stop at once.
  const logout = await api(
    hub,
    'POST',
    '/api/v1/auth/logout',
    { refreshToken: refreshed.body.refreshToken },
    { token: access },
  );
  expect(logout.status).toBe(204);
  expectError(await api(hub, 'GET', '/api/v1/users/me', undefined, { token: access }), 401, 'token_revoked');
  expectError(
    await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: refreshed.body.refreshToken }),
    401,
  );
  expectError(await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: login.body.refreshToken }), 401);

  // The trail of it all is in the project's audit log.
  const actions = (await auditRows(hub, projectId)).map((r) => r.action);
  for (const action of [
    'project.create',
    'auth.setup_password',
    'user.register',
    'user.approve',
    'auth.login',
    'auth.logout',
  ]) {
    expect(actions).toContain(action);
  }
});
