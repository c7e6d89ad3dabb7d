import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_PASSWORD,
  api,
  createTestProject,
  expectError,
  superAdminToken,
  uniqueSlug,
  type TestProject,
} from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { decryptSecret, keyedHash } from '../../../src/core/crypto.js';
import { testConfig } from '../../support/env.js';

let hub: TestHub;
let sa: string;
let project: TestProject;
const config = testConfig();

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
  project = await createTestProject(hub, sa);
});
afterAll(() => hub.close());

describe('POST /api/v1/projects', () => {
  it('creates a project with built-in roles, an active admin, a key shown once and gateway credentials', async () => {
    const slug = uniqueSlug('create');
    const res = await api(
      hub,
      'POST',
      '/api/v1/projects',
      {
        name: 'Payments',
        slug,
        description: 'd',
        webhookUrl: 'https://hooks.example/x',
        admin: { email: `Boss@${slug}.test`, fullName: 'Boss' },
      },
      { token: sa },
    );
    expect(res.status).toBe(201);
    expect(res.body.apiKey).toMatch(/^tk_[0-9A-Za-z]{43,}$/);
    expect(res.body.gateway).toEqual({
      appId: expect.stringMatching(/^\d+$/),
      key: expect.any(String),
      secret: expect.any(String),
    });
    expect(res.body.project).toMatchObject({
      slug,
      status: 'active',
      apiKeyPrefix: res.body.apiKey.slice(0, 10),
    });
    expect(res.body.project.settings.suppression).toEqual({ maxMatches: 10, windowSeconds: 60 });
    expect(res.body.admin).toMatchObject({ email: `boss@${slug}.test`, setupToken: expect.any(String) });

    const row = await hub.running.db.system.project.findUniqueOrThrow({ where: { id: res.body.project.id } });
    expect(row.apiKeyHash).toBe(keyedHash(res.body.apiKey, config.secrets.apiKeyPepper));
    expect(JSON.stringify(row)).not.toContain(res.body.apiKey);
    expect(row.gatewaySecretEnc).not.toContain(res.body.gateway.secret);
    expect(decryptSecret(row.gatewaySecretEnc, config.secrets.encryptionKey)).toBe(res.body.gateway.secret);
    const roles = await hub.running.db.forProject(row.id).role.findMany({ orderBy: { name: 'asc' } });
    expect(roles.map((r) => [r.name, r.builtIn])).toEqual([
      ['admin', true],
      ['member', true],
      ['rule_manager', true],
    ]);
    // The key is never shown again.
    const again = await api(hub, 'GET', `/api/v1/projects/${row.id}`, undefined, { token: sa });
    expect(JSON.stringify(again.body)).not.toContain(res.body.apiKey);
    expect(JSON.stringify(again.body)).not.toContain(res.body.gateway.secret);
  });

  it('lets the admin set a first password with the one-time setup token', async () => {
    const slug = uniqueSlug('setup');
    const created = await api(
      hub,
      'POST',
      '/api/v1/projects',
      { name: 'S', slug, admin: { email: `a@${slug}.test`, fullName: 'A' } },
      { token: sa },
    );
    const token = created.body.admin.setupToken;
    expectError(
      await api(hub, 'POST', '/api/v1/auth/setup-password', { token, password: 'short' }),
      400,
      'weak_password',
    );
    expect(
      (await api(hub, 'POST', '/api/v1/auth/setup-password', { token, password: 'A-good-password-1' }))
        .status,
    ).toBe(204);
    expectError(
      await api(hub, 'POST', '/api/v1/auth/setup-password', { token, password: 'A-good-password-2' }),
      401,
      'setup_token_invalid',
    );
    const login = await api(hub, 'POST', '/api/v1/auth/login', {
      email: `a@${slug}.test`,
      password: 'A-good-password-1',
      projectSlug: slug,
    });
    expect(login.status).toBe(200);
  });

  it('refuses bad input with the field named, and a taken slug with 409', async () => {
    const bad = await api(hub, 'POST', '/api/v1/projects', { name: '', slug: 'NO' }, { token: sa });
    expectError(bad, 400, 'validation_failed');
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['name', 'slug']);
    for (const slug of ['ab', 'a'.repeat(49), 'Has-Upper', 'under_score']) {
      expectError(
        await api(hub, 'POST', '/api/v1/projects', { name: 'x', slug }, { token: sa }),
        400,
        'validation_failed',
      );
    }
    expect(
      (await api(hub, 'POST', '/api/v1/projects', { name: 'x', slug: 'a'.repeat(48) + '' }, { token: sa }))
        .status,
    ).toBe(201);
    expectError(
      await api(hub, 'POST', '/api/v1/projects', { name: 'x', slug: project.slug }, { token: sa }),
      409,
      'slug_taken',
    );
    expectError(
      await api(
        hub,
        'POST',
        '/api/v1/projects',
        { name: 'x', slug: uniqueSlug(), settings: { suppression: { maxMatches: 0 } } },
        { token: sa },
      ),
      400,
    );
  });

  it('refuses webhook URLs that point at private or loopback addresses', async () => {
    const guarded = await startHub({ WEBHOOK_ALLOW_PRIVATE: 'false' }, ['api']);
    try {
      const token = await superAdminToken(guarded);
      for (const webhookUrl of [
        'http://127.0.0.1:8080/hook',
        'http://10.0.0.8/hook',
        'http://[::1]/x',
        'http://169.254.169.254/',
      ]) {
        const res = await api(
          guarded,
          'POST',
          '/api/v1/projects',
          { name: 'x', slug: uniqueSlug(), webhookUrl },
          { token },
        );
        expectError(res, 400, 'url_not_allowed');
        expect(res.body.error.message).toContain('set WEBHOOK_ALLOW_PRIVATE=true');
      }
      const put = await api(
        guarded,
        'PUT',
        `/api/v1/projects/${project.id}`,
        { webhookUrl: 'http://192.168.0.10/' },
        { token },
      );
      expectError(put, 400, 'url_not_allowed');
    } finally {
      await guarded.close();
    }
  });

  it('is for super admins only', async () => {
    expectError(await api(hub, 'GET', '/api/v1/projects'), 401, 'auth_required');
    expectError(
      await api(hub, 'GET', '/api/v1/projects', undefined, { token: project.adminToken }),
      403,
      'super_admin_required',
    );
    expectError(
      await api(hub, 'GET', '/api/v1/projects', undefined, { token: 'not.a.jwt' }),
      401,
      'token_invalid',
    );
  });
});

describe('reading and changing projects', () => {
  it('lists with pagination and filters', async () => {
    const res = await api(hub, 'GET', `/api/v1/projects?search=${project.slug}&pageSize=1`, undefined, {
      token: sa,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ page: 1, pageSize: 1, total: 1 });
    expect(res.body.items[0].id).toBe(project.id);
    const disabled = await api(
      hub,
      'GET',
      `/api/v1/projects?status=disabled&search=${project.slug}`,
      undefined,
      { token: sa },
    );
    expect(disabled.body.total).toBe(0);
    expectError(await api(hub, 'GET', '/api/v1/projects?pageSize=500', undefined, { token: sa }), 400);
  });

  it('gets, updates (merging settings) and reports stats', async () => {
    const res = await api(
      hub,
      'PUT',
      `/api/v1/projects/${project.id}`,
      { name: 'Renamed', settings: { gateway: { clientEvents: true } } },
      { token: sa },
    );
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Renamed');
    expect(res.body.settings.gateway).toMatchObject({ clientEvents: true, maxConnections: 10_000 });
    const stats = await api(hub, 'GET', `/api/v1/projects/${project.id}/stats`, undefined, { token: sa });
    expect(stats.status).toBe(200);
    expect(stats.body.users).toEqual({ pending: 0, active: 1, suspended: 0, total: 1 });
    expect(stats.body.receipts.deliveredRatio).toBe(0);
    expectError(
      await api(hub, 'GET', '/api/v1/projects/00000000-0000-7000-8000-000000000000', undefined, {
        token: sa,
      }),
      404,
    );
    expectError(await api(hub, 'GET', '/api/v1/projects/not-a-uuid', undefined, { token: sa }), 400);
  });

  it('regenerates the API key: the old one stops at once', async () => {
    const own = await createTestProject(hub, sa);
    const probe = (apiKey: string) => hub.running.services.projects.byApiKey(apiKey);
    expect(await probe(own.apiKey)).toMatchObject({ id: own.id, active: true });
    const res = await api(hub, 'POST', `/api/v1/projects/${own.id}/regenerate-api-key`, undefined, {
      token: sa,
    });
    expect(res.status).toBe(200);
    expect(res.body.apiKey).not.toBe(own.apiKey);
    expect(await probe(own.apiKey)).toBeNull();
    expect(await probe(res.body.apiKey)).toMatchObject({ id: own.id });
  });

  it('soft-deletes: the project disappears, its tokens and sessions stop working', async () => {
    const doomed = await createTestProject(hub, sa);
    const login = await api(hub, 'POST', '/api/v1/auth/login', {
      email: doomed.adminEmail,
      password: ADMIN_PASSWORD,
      projectSlug: doomed.slug,
    });
    expect((await api(hub, 'DELETE', `/api/v1/projects/${doomed.id}`, undefined, { token: sa })).status).toBe(
      204,
    );
    expectError(await api(hub, 'GET', `/api/v1/projects/${doomed.id}`, undefined, { token: sa }), 404);
    expectError(
      await api(hub, 'POST', '/api/v1/auth/logout', undefined, { token: doomed.adminToken }),
      401,
      'project_disabled',
    );
    expectError(
      await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: login.body.refreshToken }),
      401,
    );
    expect(await hub.running.services.projects.byApiKey(doomed.apiKey)).toMatchObject({ active: false });
    const deleted = await api(
      hub,
      'GET',
      `/api/v1/projects?status=deleted&search=${doomed.slug}`,
      undefined,
      { token: sa },
    );
    expect(deleted.body.total).toBe(1);
    // Not even a super admin acts inside it through X-Project-Id.
    for (const [method, path] of [
      ['GET', '/api/v1/users'],
      ['POST', '/api/v1/rules/test'],
    ] as const) {
      const inside = await api(hub, method, path, method === 'POST' ? {} : undefined, {
        token: sa,
        projectId: doomed.id,
      });
      expectError(inside, 404, 'not_found');
    }
  });

  it("refuses a disabled or deleted project's API key over HTTP", async () => {
    const sendEvent = (apiKey: string) =>
      api(hub, 'POST', '/api/v1/events', { type: 'probe', payload: {} }, { apiKey });
    const disabled = await createTestProject(hub, sa);
    const deleted = await createTestProject(hub, sa);
    expect((await sendEvent(disabled.apiKey)).status).toBe(202);
    expect((await sendEvent(deleted.apiKey)).status).toBe(202);
    const patch = await api(
      hub,
      'PUT',
      `/api/v1/projects/${disabled.id}`,
      { status: 'disabled' },
      { token: sa },
    );
    expect(patch.status).toBe(200);
    expect(
      (await api(hub, 'DELETE', `/api/v1/projects/${deleted.id}`, undefined, { token: sa })).status,
    ).toBe(204);
    expectError(await sendEvent(disabled.apiKey), 401, 'project_disabled');
    expectError(await sendEvent(deleted.apiKey), 401, 'project_disabled');
  });

  it('audits a super admin acting inside a project', async () => {
    const res = await api(hub, 'POST', '/api/v1/auth/logout', undefined, {
      token: await superAdminToken(hub),
      projectId: project.id,
    });
    expect(res.status).toBe(204);
    await hub.running.services.audit.flush();
    const rows = await hub.running.db
      .forProject(project.id)
      .auditLog.findMany({ where: { action: 'super_admin.request' } });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]).toMatchObject({
      actorType: 'super_admin',
      metadata: { method: 'POST', path: '/api/v1/auth/logout' },
    });
  });
});

describe('ids in upper case', () => {
  it('are folded to lower case at the boundary: X-Project-Id, path ids and body ids', async () => {
    const target = await createTestProject(hub, sa);
    const upper = target.id.toUpperCase();
    const users = await api(hub, 'GET', '/api/v1/users', undefined, { token: sa, projectId: upper });
    expect(users.status).toBe(200);
    const roles = await api(hub, 'GET', '/api/v1/roles', undefined, { token: target.adminToken });
    const member = (roles.body.items as Array<{ id: string; name: string }>).find(
      (r) => r.name === 'member',
    )!;
    const rule = await api(
      hub,
      'POST',
      '/api/v1/rules',
      { name: 'R', condition: 'true', targetRoles: [member.id.toUpperCase()], title: 'T', body: 'B' },
      { token: target.adminToken },
    );
    expect(rule.status).toBe(201);
    expect(rule.body.targetRoles).toEqual([member.id]);
    const shown = await api(hub, 'GET', `/api/v1/rules/${rule.body.id.toUpperCase()}`, undefined, {
      token: target.adminToken,
    });
    expect(shown.body.id).toBe(rule.body.id);
    const deleted = await api(hub, 'DELETE', `/api/v1/projects/${upper}`, undefined, { token: sa });
    expect(deleted.status).toBe(204);
    await hub.running.services.audit.flush();
    const audited = await hub.running.db.system.auditLog.findFirst({
      where: { action: 'project.delete', resourceId: { in: [target.id, upper] } },
    });
    expect(audited?.resourceId).toBe(target.id);
  });
});
