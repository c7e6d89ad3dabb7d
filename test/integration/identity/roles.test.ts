// /api/v1/roles: listing, the permission catalogue, create / change / delete with their guards.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERMISSION_DESCRIPTIONS, PERMISSIONS } from '../../../src/domain/permissions.js';
import {
  api as rawApi,
  createTestProject,
  expectError,
  superAdminToken,
  type RequestOptions,
  type TestProject,
} from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { activeUser, auditRows, expectNoSecrets, login, nextBusMessage, type TestUser } from './helpers.js';

let hub: TestHub;
let sa: string;
let project: TestProject;
let other: TestProject;
let member: TestUser;

async function api(method: string, path: string, body?: unknown, options?: RequestOptions) {
  const res = await rawApi(hub, method, path, body, options);
  expectNoSecrets(res, `${method} ${path}`);
  return res;
}

const createRole = (name: string, permissions: string[], token = project.adminToken) =>
  api('POST', '/api/v1/roles', { name, permissions }, { token });

async function roleByName(name: string, token = project.adminToken) {
  const res = await api('GET', '/api/v1/roles', undefined, { token });
  return res.body.items.find((r: { name: string }) => r.name === name);
}

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
  project = await createTestProject(hub, sa);
  other = await createTestProject(hub, sa);
  member = await activeUser(hub, project, ['member']);
});
afterAll(() => hub.close());

describe('GET /roles and /roles/permissions', () => {
  it('lists the built-in roles with their permissions and holder counts', async () => {
    const res = await api('GET', '/api/v1/roles', undefined, { token: project.adminToken });
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(res.body.items.map((r: { name: string }) => [r.name, r]));
    expect(Object.keys(byName).sort()).toEqual(['admin', 'member', 'rule_manager']);
    expect(byName.admin).toMatchObject({ builtIn: true, permissions: [...PERMISSIONS], userCount: 1 });
    expect(byName.member).toMatchObject({ builtIn: true, permissions: [], userCount: 1 });
    expectError(await api('GET', '/api/v1/roles'), 401, 'auth_required');
    expectError(
      await api('GET', '/api/v1/roles', undefined, { token: member.token }),
      403,
      'permission_denied',
    );
    const asSa = await api('GET', '/api/v1/roles', undefined, { token: sa, projectId: project.id });
    expect(asSa.body.items).toHaveLength(res.body.items.length);
  });

  it('describes every permission', async () => {
    const res = await api('GET', '/api/v1/roles/permissions', undefined, { token: member.token });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual(
      PERMISSIONS.map((name) => ({ name, description: PERMISSION_DESCRIPTIONS[name] })),
    );
    expectError(await api('GET', '/api/v1/roles/permissions'), 401);
  });
});

describe('POST /roles', () => {
  it('creates a role (permissions deduplicated, in catalogue order), publishes and audits', async () => {
    const changed = await nextBusMessage(hub, 'recipients.changed', project.id);
    const res = await createRole('on_call', ['rules:read', 'events:read', 'rules:read']);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'on_call',
      builtIn: false,
      permissions: ['rules:read', 'events:read'],
      userCount: 0,
    });
    await changed();
    const [entry] = await auditRows(hub, project.id, { action: 'role.create', resourceId: res.body.id });
    expect(entry).toMatchObject({ actorType: 'user', metadata: { name: 'on_call' } });
    // The same name is free in another project.
    expect((await createRole('on_call', [], other.adminToken)).status).toBe(201);
  });

  it('refuses a taken name (409), unknown permissions (400 naming them) and bad names (400)', async () => {
    await createRole('dupe', []);
    expectError(await createRole('dupe', []), 409, 'role_exists');
    const bad = await createRole('bad', ['rules:read', 'rules:explode']);
    expectError(bad, 400, 'unknown_permission');
    expect(bad.body.error.message).toContain('rules:explode');
    expect(bad.body.error.details.permission).toBe('rules:explode');
    expectError(await createRole('', []), 400, 'validation_failed');
    expectError(await createRole('a'.repeat(65), []), 400, 'validation_failed');
    expectError(
      await api('POST', '/api/v1/roles', { name: 'x' }, { token: project.adminToken }),
      400,
      'validation_failed',
    );
    expect(await roleByName('bad')).toBeUndefined();
  });

  it('needs credentials (401) and roles:write (403)', async () => {
    expectError(await api('POST', '/api/v1/roles', { name: 'x', permissions: [] }), 401);
    expectError(await createRole('x', [], member.token), 403, 'permission_denied');
  });
});

describe('PUT /roles/{id}', () => {
  it("changes a role; when its permissions change the holders' access tokens stop and a refresh picks them up", async () => {
    const role = (await createRole('auditors', ['audit:read'])).body;
    const holder = await activeUser(hub, project, ['auditors']);
    expect((await api('GET', '/api/v1/audit', undefined, { token: holder.token })).status).toBe(200);

    const changed = await nextBusMessage(hub, 'recipients.changed', project.id);
    const res = await api(
      'PUT',
      `/api/v1/roles/${role.id}`,
      { name: 'readers-2', description: 'Reads users', permissions: ['users:read'] },
      { token: project.adminToken },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'readers-2',
      description: 'Reads users',
      permissions: ['users:read'],
      userCount: 1,
    });
    await changed();
    const [entry] = await auditRows(hub, project.id, { action: 'role.update', resourceId: role.id });
    expect(entry!.metadata).toMatchObject({ added: ['users:read'], removed: ['audit:read'] });

    expectError(await api('GET', '/api/v1/audit', undefined, { token: holder.token }), 401, 'token_revoked');
    const refreshed = await api('POST', '/api/v1/auth/refresh', { refreshToken: holder.refreshToken });
    expect(refreshed.status).toBe(200);
    const token = refreshed.body.accessToken;
    expectError(await api('GET', '/api/v1/audit', undefined, { token }), 403, 'permission_denied');
    expect((await api('GET', '/api/v1/users', undefined, { token })).status).toBe(200);
  });

  it('keeps the built-in roles: admin keeps every permission, built-ins keep their names', async () => {
    const admin = await roleByName('admin');
    const memberRole = await roleByName('member');
    expectError(
      await api(
        'PUT',
        `/api/v1/roles/${admin.id}`,
        { permissions: ['users:read'] },
        { token: project.adminToken },
      ),
      409,
      'builtin_role',
    );
    expectError(
      await api('PUT', `/api/v1/roles/${memberRole.id}`, { name: 'people' }, { token: project.adminToken }),
      409,
      'builtin_role',
    );
    const described = await api(
      'PUT',
      `/api/v1/roles/${admin.id}`,
      { description: 'The bosses' },
      { token: project.adminToken },
    );
    expect(described.body).toMatchObject({
      name: 'admin',
      description: 'The bosses',
      permissions: [...PERMISSIONS],
    });
    const widened = await api(
      'PUT',
      `/api/v1/roles/${memberRole.id}`,
      { permissions: ['rules:read'] },
      { token: project.adminToken },
    );
    expect(widened.body.permissions).toEqual(['rules:read']);
    await api('PUT', `/api/v1/roles/${memberRole.id}`, { permissions: [] }, { token: project.adminToken });
    // Holders of the member role had their access tokens stopped: log in again.
    expectError(
      await api('GET', '/api/v1/roles/permissions', undefined, { token: member.token }),
      401,
      'token_revoked',
    );
    Object.assign(member, await login(hub, project, member.email));
  });

  it('answers 400, 401, 403, 404 and 409 (name taken)', async () => {
    const role = (await createRole('renamable', [])).body;
    await createRole('taken-name', []);
    const path = `/api/v1/roles/${role.id}`;
    expectError(
      await api('PUT', path, { name: 'taken-name' }, { token: project.adminToken }),
      409,
      'role_exists',
    );
    expectError(
      await api('PUT', path, { permissions: ['nope:nope'] }, { token: project.adminToken }),
      400,
      'unknown_permission',
    );
    expectError(
      await api('PUT', path, { name: '!!' }, { token: project.adminToken }),
      400,
      'validation_failed',
    );
    expectError(await api('PUT', path, { name: 'x' }), 401);
    expectError(await api('PUT', path, { name: 'x' }, { token: member.token }), 403, 'permission_denied');
    expectError(
      await api('PUT', `/api/v1/roles/${randomUUID()}`, { name: 'x' }, { token: project.adminToken }),
      404,
    );
    const foreign = await roleByName('member', other.adminToken);
    expectError(
      await api('PUT', `/api/v1/roles/${foreign.id}`, { name: 'x' }, { token: project.adminToken }),
      404,
    );
  });
});

describe('DELETE /roles/{id}', () => {
  it('deletes an unused role, publishes and audits', async () => {
    const role = (await createRole('temporary', [])).body;
    const changed = await nextBusMessage(hub, 'recipients.changed', project.id);
    expect(
      (await api('DELETE', `/api/v1/roles/${role.id}`, undefined, { token: project.adminToken })).status,
    ).toBe(204);
    await changed();
    expect(await roleByName('temporary')).toBeUndefined();
    expect(await auditRows(hub, project.id, { action: 'role.delete', resourceId: role.id })).toHaveLength(1);
  });

  it('refuses while users hold the role or active rules target it (409), never the admin role', async () => {
    const held = (await createRole('held', [])).body;
    await activeUser(hub, project, ['held']);
    const res = await api('DELETE', `/api/v1/roles/${held.id}`, undefined, { token: project.adminToken });
    expectError(res, 409, 'role_in_use');
    expect(res.body.error.details).toEqual({ users: 1, rules: 0 });

    const targeted = (await createRole('targeted', [])).body;
    const rules = hub.running.db.forProject(project.id).rule;
    const rule = await rules.create({
      data: {
        projectId: project.id,
        name: 'r',
        condition: 'true',
        targetRoles: [randomUUID(), targeted.id],
        title: 't',
        body: 'b',
      },
    });
    const blocked = await api('DELETE', `/api/v1/roles/${targeted.id}`, undefined, {
      token: project.adminToken,
    });
    expectError(blocked, 409, 'role_in_use');
    expect(blocked.body.error.details).toEqual({ users: 0, rules: 1 });
    // An inactive rule does not hold it.
    await rules.update({ where: { id: rule.id }, data: { active: false } });
    expect(
      (await api('DELETE', `/api/v1/roles/${targeted.id}`, undefined, { token: project.adminToken })).status,
    ).toBe(204);

    const admin = await roleByName('admin');
    expectError(
      await api('DELETE', `/api/v1/roles/${admin.id}`, undefined, { token: project.adminToken }),
      409,
      'builtin_role',
    );
    expectError(
      await api('DELETE', `/api/v1/roles/${admin.id}`, undefined, { token: sa, projectId: project.id }),
      409,
      'builtin_role',
    );
  });

  it('answers 400, 401, 403 and 404', async () => {
    const role = (await createRole('undeletable-by-members', [])).body;
    expectError(
      await api('DELETE', '/api/v1/roles/zzz', undefined, { token: project.adminToken }),
      400,
      'validation_failed',
    );
    expectError(await api('DELETE', `/api/v1/roles/${role.id}`), 401);
    expectError(await api('DELETE', `/api/v1/roles/${role.id}`, undefined, { token: member.token }), 403);
    expectError(
      await api('DELETE', `/api/v1/roles/${randomUUID()}`, undefined, { token: project.adminToken }),
      404,
    );
    expect(await roleByName('undeletable-by-members')).toBeDefined();
  });
});
