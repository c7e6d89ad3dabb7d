// /api/v1/users: administration (list, pending, get, approve, reject, roles, status) and the
// caller's own profile and push devices. Every response of this file is scanned for hashes.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api as rawApi,
  createTestProject,
  expectError,
  superAdminToken,
  type RequestOptions,
  type TestProject,
} from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import {
  activeUser,
  auditRows,
  expectNoSecrets,
  login,
  nextBusMessage,
  registerUser,
  USER_PASSWORD,
  type TestUser,
} from './helpers.js';

let hub: TestHub;
let sa: string;
let project: TestProject;
let other: TestProject;
let member: TestUser;
let reader: TestUser;
let responses = 0;

/** Every call of this file goes through the secrets scan. */
async function api(method: string, path: string, body?: unknown, options?: RequestOptions) {
  const res = await rawApi(hub, method, path, body, options);
  expectNoSecrets(res, `${method} ${path}`);
  responses++;
  return res;
}

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
  // The admin of this project has no password yet: its setup-token hash must not leak either.
  project = await createTestProject(hub, sa);
  other = await createTestProject(hub, sa);
  const created = await api(
    'POST',
    '/api/v1/projects',
    {
      name: 'Setup',
      slug: `setup-${Date.now().toString(36)}`,
      admin: { email: 'setup@example.test', fullName: 'S' },
    },
    { token: sa },
  );
  expect(created.status).toBe(201);
  await api(
    'POST',
    '/api/v1/roles',
    { name: 'readers', permissions: ['users:read'] },
    { token: project.adminToken },
  );
  member = await activeUser(hub, project, ['member']);
  reader = await activeUser(hub, project, ['readers']);
});
afterAll(async () => {
  expect(responses).toBeGreaterThan(50);
  await hub.close();
});

describe('GET /users', () => {
  it('lists the users of the project only, newest first, with their roles', async () => {
    const res = await api('GET', '/api/v1/users?pageSize=200', undefined, { token: project.adminToken });
    expect(res.status).toBe(200);
    const emails = res.body.items.map((u: { email: string }) => u.email);
    expect(emails).toContain(project.adminEmail);
    expect(emails).toContain(member.email);
    expect(emails).not.toContain(other.adminEmail);
    expect(res.body.total).toBe(res.body.items.length);
    const admin = res.body.items.find((u: { email: string }) => u.email === project.adminEmail);
    expect(admin.roles).toEqual([{ id: expect.any(String), name: 'admin' }]);
    expect(admin).not.toHaveProperty('passwordHash');
  });

  it('pages and filters by status, role (name or id) and search', async () => {
    const pending = await registerUser(hub, project, { fullName: 'Zebulon Pending' });
    const page = await api('GET', '/api/v1/users?pageSize=1&page=2', undefined, {
      token: project.adminToken,
    });
    expect(page.body).toMatchObject({ page: 2, pageSize: 1, items: [expect.any(Object)] });
    expect(page.body.total).toBeGreaterThanOrEqual(4);

    const byStatus = await api('GET', '/api/v1/users?status=pending', undefined, {
      token: project.adminToken,
    });
    expect(byStatus.body.items.map((u: { id: string }) => u.id)).toContain(pending.id);
    expect(byStatus.body.items.every((u: { status: string }) => u.status === 'pending')).toBe(true);

    const byRole = await api('GET', '/api/v1/users?role=readers', undefined, { token: project.adminToken });
    expect(byRole.body.items.map((u: { id: string }) => u.id)).toEqual([reader.id]);
    const roleId = byRole.body.items[0].roles[0].id;
    const byRoleId = await api('GET', `/api/v1/users?role=${roleId}`, undefined, {
      token: project.adminToken,
    });
    expect(byRoleId.body.items.map((u: { id: string }) => u.id)).toEqual([reader.id]);

    const bySearch = await api('GET', '/api/v1/users?search=zebulon', undefined, {
      token: project.adminToken,
    });
    expect(bySearch.body.items.map((u: { id: string }) => u.id)).toEqual([pending.id]);
  });

  it('lets a super admin act in the project with X-Project-Id, and asks for it without', async () => {
    const res = await api('GET', '/api/v1/users', undefined, { token: sa, projectId: project.id });
    expect(res.status).toBe(200);
    expect(res.body.items.map((u: { email: string }) => u.email)).toContain(project.adminEmail);
    expectError(await api('GET', '/api/v1/users', undefined, { token: sa }), 400, 'project_required');
    expectError(
      await api('GET', '/api/v1/users', undefined, { token: sa, projectId: randomUUID() }),
      404,
      'not_found',
    );
  });

  it('refuses bad queries (400), missing credentials (401) and members without users:read (403)', async () => {
    expectError(
      await api('GET', '/api/v1/users?status=sleeping', undefined, { token: project.adminToken }),
      400,
      'validation_failed',
    );
    expectError(
      await api('GET', '/api/v1/users?pageSize=0', undefined, { token: project.adminToken }),
      400,
      'validation_failed',
    );
    expectError(await api('GET', '/api/v1/users'), 401, 'auth_required');
    expectError(await api('GET', '/api/v1/users', undefined, { token: 'not-a-jwt' }), 401, 'token_invalid');
    expectError(
      await api('GET', '/api/v1/users', undefined, { token: member.token }),
      403,
      'permission_denied',
    );
  });
});

describe('GET /users/pending and /users/{id}', () => {
  it('lists only pending registrations', async () => {
    const pending = await registerUser(hub, project);
    const res = await api('GET', '/api/v1/users/pending', undefined, { token: reader.token });
    expect(res.status).toBe(200);
    expect(res.body.items.map((u: { id: string }) => u.id)).toContain(pending.id);
    expect(res.body.items.every((u: { status: string }) => u.status === 'pending')).toBe(true);
    expectError(
      await api('GET', '/api/v1/users/pending?page=0', undefined, { token: reader.token }),
      400,
      'validation_failed',
    );
    expectError(await api('GET', '/api/v1/users/pending'), 401);
    expectError(
      await api('GET', '/api/v1/users/pending', undefined, { token: member.token }),
      403,
      'permission_denied',
    );
  });

  it('gets one user; 404 for unknown ids and for users of other projects', async () => {
    const res = await api('GET', `/api/v1/users/${member.id}`, undefined, { token: reader.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: member.id,
      email: member.email,
      status: 'active',
      roles: [{ name: 'member' }],
    });
    expectError(
      await api('GET', `/api/v1/users/${randomUUID()}`, undefined, { token: reader.token }),
      404,
      'not_found',
    );
    const foreign = await api('GET', '/api/v1/users?pageSize=1', undefined, { token: other.adminToken });
    expectError(
      await api('GET', `/api/v1/users/${foreign.body.items[0].id}`, undefined, { token: reader.token }),
      404,
    );
    expectError(
      await api('GET', '/api/v1/users/not-a-uuid', undefined, { token: reader.token }),
      400,
      'validation_failed',
    );
    expectError(await api('GET', `/api/v1/users/${member.id}`), 401);
    expectError(await api('GET', `/api/v1/users/${member.id}`, undefined, { token: member.token }), 403);
  });
});

describe('POST /users/{id}/approve', () => {
  it('activates a pending user with roles by name or id, publishes recipients.changed and audits', async () => {
    const pending = await registerUser(hub, project);
    const roles = await api('GET', '/api/v1/roles', undefined, { token: project.adminToken });
    const readers = roles.body.items.find((r: { name: string }) => r.name === 'readers');
    const changed = await nextBusMessage(hub, 'recipients.changed', project.id);
    const res = await api(
      'POST',
      `/api/v1/users/${pending.id}/approve`,
      { roles: ['member'], roleIds: [readers.id] },
      { token: project.adminToken },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: pending.id, status: 'active', approvedAt: expect.any(String) });
    expect(res.body.roles.map((r: { name: string }) => r.name)).toEqual(['member', 'readers']);
    expect(await changed()).toEqual({ type: 'recipients.changed', projectId: project.id });
    const [entry] = await auditRows(hub, project.id, { action: 'user.approve', resourceId: pending.id });
    expect(entry).toMatchObject({
      actorType: 'user',
      resourceType: 'user',
      metadata: { roles: ['member', 'readers'] },
    });
    // The approved user can log in; their token carries the roles' permissions.
    const { token } = await login(hub, project, pending.email);
    const me = await api('GET', '/api/v1/users/me', undefined, { token });
    expect(me.body.permissions).toEqual(['users:read']);
  });

  it('refuses unknown roles (400 naming them), including roles of another project', async () => {
    const pending = await registerUser(hub, project);
    const res = await api(
      'POST',
      `/api/v1/users/${pending.id}/approve`,
      { roles: ['member', 'wizard'] },
      { token: project.adminToken },
    );
    expectError(res, 400, 'role_not_found');
    expect(res.body.error.message).toContain('wizard');
    expect(res.body.error.details).toEqual({ roles: ['wizard'] });
    const foreignRoles = await api('GET', '/api/v1/roles', undefined, { token: other.adminToken });
    const foreignId = foreignRoles.body.items[0].id;
    const foreign = await api(
      'POST',
      `/api/v1/users/${pending.id}/approve`,
      { roleIds: [foreignId] },
      { token: project.adminToken },
    );
    expectError(foreign, 400, 'role_not_found');
    const still = await api('GET', `/api/v1/users/${pending.id}`, undefined, { token: project.adminToken });
    expect(still.body.status).toBe('pending');
  });

  it('validates the body and answers 401, 403, 404 and 409', async () => {
    const pending = await registerUser(hub, project);
    const path = `/api/v1/users/${pending.id}/approve`;
    expectError(await api('POST', path, {}, { token: project.adminToken }), 400, 'validation_failed');
    expectError(
      await api('POST', path, { roleIds: ['nope'] }, { token: project.adminToken }),
      400,
      'validation_failed',
    );
    expectError(await api('POST', path, { roles: ['member'] }), 401);
    expectError(
      await api('POST', path, { roles: ['member'] }, { token: reader.token }),
      403,
      'permission_denied',
    );
    expectError(
      await api(
        'POST',
        `/api/v1/users/${randomUUID()}/approve`,
        { roles: ['member'] },
        { token: project.adminToken },
      ),
      404,
    );
    expectError(
      await api(
        'POST',
        `/api/v1/users/${member.id}/approve`,
        { roles: ['member'] },
        { token: project.adminToken },
      ),
      409,
      'user_not_pending',
    );
  });

  it('lets a super admin approve inside a project', async () => {
    const pending = await registerUser(hub, project);
    const res = await api(
      'POST',
      `/api/v1/users/${pending.id}/approve`,
      { roles: ['member'] },
      { token: sa, projectId: project.id },
    );
    expect(res.status).toBe(200);
    const [entry] = await auditRows(hub, project.id, { action: 'user.approve', resourceId: pending.id });
    expect(entry!.actorType).toBe('super_admin');
  });
});

describe('PUT /users/{id}/roles', () => {
  const rolesOf = (res: { body: { roles: Array<{ name: string }> } }) => res.body.roles.map((r) => r.name);
  const roleId = async (name: string) => {
    const roles = await api('GET', '/api/v1/roles', undefined, { token: project.adminToken });
    return roles.body.items.find((r: { name: string }) => r.name === name).id as string;
  };

  it('replaces the roles (ids or names), stops tokens whose permissions changed and audits before/after', async () => {
    const user = await activeUser(hub, project, ['member']);
    const [memberId, readersId] = [await roleId('member'), await roleId('readers')];
    const changed = await nextBusMessage(hub, 'recipients.changed', project.id);
    const res = await api(
      'PUT',
      `/api/v1/users/${user.id}/roles`,
      { roleIds: [readersId, 'member'] },
      { token: project.adminToken },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(rolesOf(res)).toEqual(['member', 'readers']);
    expect(await changed()).toEqual({ type: 'recipients.changed', projectId: project.id });
    const [entry, ...more] = await auditRows(hub, project.id, {
      action: 'user.roles_change',
      resourceId: user.id,
    });
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      actorType: 'user',
      resourceType: 'user',
      metadata: { before: [memberId], after: [memberId, readersId].sort(), roles: ['member', 'readers'] },
    });
    // The permissions changed: the token that carries the old ones stops; a new one has users:read.
    expectError(await api('GET', '/api/v1/users/me', undefined, { token: user.token }), 401, 'token_revoked');
    const { token } = await login(hub, project, user.email);
    expect((await api('GET', '/api/v1/users/me', undefined, { token })).body.permissions).toEqual([
      'users:read',
    ]);

    // The same set again changes nothing and is not audited twice.
    const same = await api(
      'PUT',
      `/api/v1/users/${user.id}/roles`,
      { roleIds: ['readers', 'member'] },
      { token: project.adminToken },
    );
    expect(rolesOf(same)).toEqual(['member', 'readers']);
    expect(
      await auditRows(hub, project.id, { action: 'user.roles_change', resourceId: user.id }),
    ).toHaveLength(1);
    expect((await api('GET', '/api/v1/users/me', undefined, { token })).status).toBe(200);
  });

  it("refuses unknown, other projects', repeated and too many roles (400) and changes nothing", async () => {
    const user = await activeUser(hub, project, ['member']);
    const path = `/api/v1/users/${user.id}/roles`;
    const put = (roleIds: unknown) => api('PUT', path, { roleIds }, { token: project.adminToken });

    const unknown = await put(['member', 'wizard']);
    expectError(unknown, 400, 'role_not_found');
    expect(unknown.body.error.message).toContain('wizard');
    expect(unknown.body.error.details).toEqual({ roles: ['wizard'], field: 'roleIds' });
    // Another project's role is no role of this one: the same answer, naming only what was sent.
    const foreignRoles = await api('GET', '/api/v1/roles', undefined, { token: other.adminToken });
    const foreignId = foreignRoles.body.items[0].id as string;
    const foreign = await put([foreignId]);
    expectError(foreign, 400, 'role_not_found');
    expect(foreign.body.error.details).toEqual({ roles: [foreignId], field: 'roleIds' });

    const repeated = await put(['member', 'member']);
    expectError(repeated, 400, 'duplicate_role');
    expect(repeated.body.error.details).toEqual({ roles: ['member'], field: 'roleIds' });
    // By its id and by its name is the same role twice.
    expectError(await put([await roleId('member'), 'member']), 400, 'duplicate_role');

    // 50 refs is the limit: 50 pass validation (and are then unknown roles), 51 do not.
    const refs = (n: number) => Array.from({ length: n }, (_, i) => `no-such-role-${i}`);
    expectError(await put(refs(50)), 400, 'role_not_found');
    const tooMany = await put(refs(51));
    expectError(tooMany, 400, 'validation_failed');
    expect(tooMany.body.error.message).toContain('at most 50 roles');
    expectError(await put([]), 400, 'validation_failed');
    expectError(await put(['x'.repeat(65)]), 400, 'validation_failed');
    expectError(await api('PUT', path, {}, { token: project.adminToken }), 400, 'validation_failed');

    const still = await api('GET', `/api/v1/users/${user.id}`, undefined, { token: project.adminToken });
    expect(rolesOf(still)).toEqual(['member']);
    expect(await auditRows(hub, project.id, { action: 'user.roles_change', resourceId: user.id })).toEqual(
      [],
    );
  });

  it("is for project admins: 401, 403 for members and readers, 404 for another project's admin", async () => {
    const user = await activeUser(hub, project, ['member']);
    const path = `/api/v1/users/${user.id}/roles`;
    const body = { roleIds: ['readers'] };
    expectError(await api('PUT', path, body), 401);
    expectError(await api('PUT', path, body, { token: member.token }), 403, 'permission_denied');
    expectError(await api('PUT', path, body, { token: reader.token }), 403, 'permission_denied');
    expectError(await api('PUT', path, body, { token: other.adminToken }), 404, 'not_found');
    expectError(
      await api('PUT', `/api/v1/users/${randomUUID()}/roles`, body, { token: project.adminToken }),
      404,
    );
    const still = await api('GET', `/api/v1/users/${user.id}`, undefined, { token: project.adminToken });
    expect(rolesOf(still)).toEqual(['member']);

    const bySuperAdmin = await api('PUT', path, body, { token: sa, projectId: project.id });
    expect(rolesOf(bySuperAdmin)).toEqual(['readers']);
    const [entry] = await auditRows(hub, project.id, { action: 'user.roles_change', resourceId: user.id });
    expect(entry!.actorType).toBe('super_admin');
  });

  it('refuses pending users and an admin taking the admin role from themselves (409)', async () => {
    const pending = await registerUser(hub, project);
    expectError(
      await api(
        'PUT',
        `/api/v1/users/${pending.id}/roles`,
        { roleIds: ['member'] },
        { token: project.adminToken },
      ),
      409,
      'user_pending',
    );
    const me = await api('GET', '/api/v1/users/me', undefined, { token: project.adminToken });
    const demote = await api(
      'PUT',
      `/api/v1/users/${me.body.id}/roles`,
      { roleIds: ['member'] },
      { token: project.adminToken },
    );
    expectError(demote, 409, 'cannot_demote_self');
    expect(demote.body.error.details).toEqual({ field: 'roleIds' });
    // Adding a role to oneself is fine (admin already holds every permission: the token stays).
    const more = await api(
      'PUT',
      `/api/v1/users/${me.body.id}/roles`,
      { roleIds: ['admin', 'member'] },
      { token: project.adminToken },
    );
    expect(rolesOf(more)).toEqual(['admin', 'member']);
    expect((await api('GET', '/api/v1/users/me', undefined, { token: project.adminToken })).status).toBe(200);
    await api(
      'PUT',
      `/api/v1/users/${me.body.id}/roles`,
      { roleIds: ['admin'] },
      { token: project.adminToken },
    );
  });
});

describe('PUT /users/{id}/status', () => {
  it('suspension stops the access and refresh tokens at once, and blocks login; reactivation restores login', async () => {
    const victim = await activeUser(hub, project);
    expect((await api('GET', '/api/v1/users/me', undefined, { token: victim.token })).status).toBe(200);
    const changed = await nextBusMessage(hub, 'recipients.changed', project.id);
    const res = await api(
      'PUT',
      `/api/v1/users/${victim.id}/status`,
      { status: 'suspended' },
      { token: project.adminToken },
    );
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('suspended');
    await changed();
    expectError(
      await api('GET', '/api/v1/users/me', undefined, { token: victim.token }),
      401,
      'token_revoked',
    );
    expectError(await api('POST', '/api/v1/auth/refresh', { refreshToken: victim.refreshToken }), 401);
    expectError(
      await api('POST', '/api/v1/auth/login', {
        email: victim.email,
        password: 'User-password-42',
        projectSlug: project.slug,
      }),
      401,
      'invalid_credentials',
    );
    expect(await auditRows(hub, project.id, { action: 'user.suspend', resourceId: victim.id })).toHaveLength(
      1,
    );

    const back = await api(
      'PUT',
      `/api/v1/users/${victim.id}/status`,
      { status: 'active' },
      { token: project.adminToken },
    );
    expect(back.body.status).toBe('active');
    const { token } = await login(hub, project, victim.email);
    expect((await api('GET', '/api/v1/users/me', undefined, { token })).status).toBe(200);
    expect(
      await auditRows(hub, project.id, { action: 'user.reactivate', resourceId: victim.id }),
    ).toHaveLength(1);
  });

  it('refuses pending users and self-suspension (409)', async () => {
    const pending = await registerUser(hub, project);
    expectError(
      await api(
        'PUT',
        `/api/v1/users/${pending.id}/status`,
        { status: 'active' },
        { token: project.adminToken },
      ),
      409,
      'user_pending',
    );
    const me = await api('GET', '/api/v1/users/me', undefined, { token: project.adminToken });
    expectError(
      await api(
        'PUT',
        `/api/v1/users/${me.body.id}/status`,
        { status: 'suspended' },
        { token: project.adminToken },
      ),
      409,
      'cannot_suspend_self',
    );
  });

  it('answers 400, 401, 403 and 404', async () => {
    const path = `/api/v1/users/${member.id}/status`;
    expectError(
      await api('PUT', path, { status: 'pending' }, { token: project.adminToken }),
      400,
      'validation_failed',
    );
    expectError(await api('PUT', path, { status: 'suspended' }), 401);
    expectError(
      await api('PUT', path, { status: 'suspended' }, { token: reader.token }),
      403,
      'permission_denied',
    );
    expectError(
      await api(
        'PUT',
        `/api/v1/users/${randomUUID()}/status`,
        { status: 'suspended' },
        { token: project.adminToken },
      ),
      404,
    );
    expect((await api('GET', '/api/v1/users/me', undefined, { token: member.token })).status).toBe(200);
  });
});

describe('GET and PUT /users/me', () => {
  it("returns the caller's profile, permissions and devices; not for super admins", async () => {
    const res = await api('GET', '/api/v1/users/me', undefined, { token: reader.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: reader.id,
      email: reader.email,
      permissions: ['users:read'],
      devices: [],
    });
    expectError(await api('GET', '/api/v1/users/me'), 401);
    expectError(
      await api('GET', '/api/v1/users/me', undefined, { token: sa, projectId: project.id }),
      403,
      'user_token_required',
    );
  });

  it('changes the name and phone; a phone taken in the project is a 409', async () => {
    const user = await activeUser(hub, project);
    const res = await api(
      'PUT',
      '/api/v1/users/me',
      { fullName: 'Renamed Person', phone: '+1 555 0100' },
      { token: user.token },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ fullName: 'Renamed Person', phone: '+1 555 0100' });
    const cleared = await api('PUT', '/api/v1/users/me', { phone: null }, { token: user.token });
    expect(cleared.body.phone).toBeNull();
    await api('PUT', '/api/v1/users/me', { phone: '+1 555 0199' }, { token: member.token });
    expectError(
      await api('PUT', '/api/v1/users/me', { phone: '+1 555 0199' }, { token: user.token }),
      409,
      'phone_taken',
    );
    expectError(
      await api('PUT', '/api/v1/users/me', { fullName: '' }, { token: user.token }),
      400,
      'validation_failed',
    );
    expectError(
      await api('PUT', '/api/v1/users/me', { phone: 'call me' }, { token: user.token }),
      400,
      'validation_failed',
    );
    expectError(await api('PUT', '/api/v1/users/me', { fullName: 'X' }), 401);
  });
});

describe('push devices', () => {
  it('registers one device at a time, refreshes a known one, and replaces the set with a list', async () => {
    const user = await activeUser(hub, project);
    const [APNS, WEB, FCM] = ['a1'.repeat(33), `web-${randomUUID()}`, `fcm:${randomUUID()}`];
    const one = await api(
      'PUT',
      '/api/v1/users/me/push-tokens',
      { platform: 'ios', token: APNS },
      { token: user.token },
    );
    expect(one.status).toBe(200);
    expect(one.body.items).toMatchObject([{ platform: 'ios', token: APNS }]);
    const two = await api(
      'PUT',
      '/api/v1/users/me/push-tokens',
      { platform: 'web', token: WEB },
      { token: user.token },
    );
    expect(two.body.items.map((d: { token: string }) => d.token)).toEqual([APNS, WEB]);
    const again = await api(
      'PUT',
      '/api/v1/users/me/push-tokens',
      { platform: 'ios', token: APNS },
      { token: user.token },
    );
    expect(again.body.items).toHaveLength(2);
    expect(again.body.items[0].id).toBe(one.body.items[0].id);

    const replaced = await api(
      'PUT',
      '/api/v1/users/me/push-tokens',
      {
        devices: [
          { platform: 'android', token: FCM },
          { platform: 'ios', token: APNS },
        ],
      },
      { token: user.token },
    );
    expect(replaced.body.items.map((d: { token: string }) => d.token).sort()).toEqual([APNS, FCM]);
    const cleared = await api('PUT', '/api/v1/users/me/push-tokens', { devices: [] }, { token: user.token });
    expect(cleared.body.items).toEqual([]);
  });

  it("moves a token registered by another user of the project to the caller, not another project's", async () => {
    const first = await activeUser(hub, project);
    const second = await activeUser(hub, project);
    const outsider = await activeUser(hub, other);
    const token = `shared-${randomUUID()}`;
    await api('PUT', '/api/v1/users/me/push-tokens', { platform: 'android', token }, { token: first.token });
    await api(
      'PUT',
      '/api/v1/users/me/push-tokens',
      { platform: 'android', token },
      { token: outsider.token },
    );
    const moved = await api(
      'PUT',
      '/api/v1/users/me/push-tokens',
      { platform: 'android', token },
      { token: second.token },
    );
    expect(moved.body.items.map((d: { token: string }) => d.token)).toEqual([token]);
    expect((await api('GET', '/api/v1/users/me', undefined, { token: first.token })).body.devices).toEqual(
      [],
    );
    // The other project's registration of the same token is untouched.
    expect(
      (await api('GET', '/api/v1/users/me', undefined, { token: outsider.token })).body.devices,
    ).toHaveLength(1);
    const rows = await hub.running.db.system.device.findMany({ where: { token } });
    expect(rows.map((r) => r.userId).sort()).toEqual([second.id, outsider.id].sort());
  });

  it('validates devices (400) and needs a user token (401, 403)', async () => {
    const path = '/api/v1/users/me/push-tokens';
    const refused = [
      [{ platform: 'ios', token: 'apns-1' }, 'token: platform ios takes an APNs device token'],
      [{ platform: 'ios', token: 'ab'.repeat(31) }, 'token: platform ios takes an APNs device token'],
      [{ platform: 'ios', token: 'g'.repeat(64) }, 'token: platform ios takes an APNs device token'],
      [{ platform: 'android', token: 'short-token' }, 'token: platform android takes an FCM registration'],
      [
        { platform: 'web', token: `has space ${randomUUID()}` },
        'token: platform web takes an FCM registration',
      ],
      [
        {
          devices: [
            { platform: 'ios', token: 'ab'.repeat(32) },
            { platform: 'android', token: 'x' },
          ],
        },
        'devices[1].token: platform android takes an FCM registration token',
      ],
    ] as const;
    for (const [body, message] of refused) {
      const res = await api('PUT', path, body, { token: member.token });
      expectError(res, 400, 'invalid_device_token');
      expect(res.body.error.message).toContain(message);
    }
    // The bounds themselves are accepted: 200 hex characters, 255 printable ones.
    const fresh = await activeUser(hub, project);
    const longest = await api(
      'PUT',
      path,
      {
        devices: [
          { platform: 'ios', token: 'F'.repeat(200) },
          { platform: 'android', token: '~'.repeat(255) },
        ],
      },
      { token: fresh.token },
    );
    expect(longest.status).toBe(200);
    expect(await hub.running.db.system.device.count({ where: { userId: fresh.id } })).toBe(2);
    expectError(
      await api('PUT', path, { platform: 'blackberry', token: 'x' }, { token: member.token }),
      400,
      'validation_failed',
    );
    expectError(
      await api('PUT', path, { platform: 'ios', token: '' }, { token: member.token }),
      400,
      'validation_failed',
    );
    expectError(
      await api('PUT', path, { devices: [{ platform: 'ios' }] }, { token: member.token }),
      400,
      'validation_failed',
    );
    expectError(await api('PUT', path, {}, { token: member.token }), 400, 'validation_failed');
    expectError(await api('PUT', path, { platform: 'ios', token: 'x' }), 401);
    expectError(
      await api('PUT', path, { platform: 'ios', token: 'x' }, { token: sa, projectId: project.id }),
      403,
    );
  });

  it("deletes only the caller's own device (404 for anyone else's)", async () => {
    const owner = await activeUser(hub, project);
    const stranger = await activeUser(hub, project);
    const res = await api(
      'PUT',
      '/api/v1/users/me/push-tokens',
      { platform: 'web', token: `w-${randomUUID()}` },
      { token: owner.token },
    );
    const id = res.body.items[0].id;
    expectError(
      await api('DELETE', `/api/v1/users/me/push-tokens/${id}`, undefined, { token: stranger.token }),
      404,
      'not_found',
    );
    expectError(
      await api('DELETE', `/api/v1/users/me/push-tokens/${id}`, undefined, { token: project.adminToken }),
      404,
    );
    expectError(
      await api('DELETE', '/api/v1/users/me/push-tokens/nope', undefined, { token: owner.token }),
      400,
    );
    expectError(await api('DELETE', `/api/v1/users/me/push-tokens/${id}`), 401);
    expect(
      (await api('DELETE', `/api/v1/users/me/push-tokens/${id}`, undefined, { token: owner.token })).status,
    ).toBe(204);
    expect(await hub.running.db.system.device.count({ where: { id } })).toBe(0);
    expectError(
      await api('DELETE', `/api/v1/users/me/push-tokens/${id}`, undefined, { token: owner.token }),
      404,
    );
  });
});

describe('POST /users/{id}/reject', () => {
  it('removes a pending registration, audits it, and lets the person register again', async () => {
    const pending = await registerUser(hub, project);
    const res = await api('POST', `/api/v1/users/${pending.id}/reject`, undefined, {
      token: project.adminToken,
    });
    expect(res.status).toBe(204);
    expectError(
      await api('GET', `/api/v1/users/${pending.id}`, undefined, { token: project.adminToken }),
      404,
    );
    const [entry] = await auditRows(hub, project.id, { action: 'user.reject', resourceId: pending.id });
    expect(entry).toMatchObject({ actorType: 'user', resourceType: 'user' });
    const again = await rawApi(hub, 'POST', '/api/v1/auth/register', {
      email: pending.email,
      password: USER_PASSWORD,
      fullName: 'Second try',
      projectSlug: project.slug,
    });
    expect(again.status).toBe(201);
  });

  it('answers 409 for a user who is not pending, 403 without users:approve, 404 for another project', async () => {
    const path = (id: string) => `/api/v1/users/${id}/reject`;
    expectError(
      await api('POST', path(member.id), undefined, { token: project.adminToken }),
      409,
      'user_not_pending',
    );
    const pending = await registerUser(hub, project);
    expectError(
      await api('POST', path(pending.id), undefined, { token: reader.token }),
      403,
      'permission_denied',
    );
    expectError(await api('POST', path(pending.id), undefined, { token: other.adminToken }), 404);
    expectError(await api('POST', path(pending.id)), 401);
    const still = await api('GET', `/api/v1/users/${pending.id}`, undefined, { token: project.adminToken });
    expect(still.body.status).toBe('pending');
  });
});
