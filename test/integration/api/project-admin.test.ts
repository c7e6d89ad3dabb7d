// /api/v1/project: a project admin reads their project, changes what a project admin may change
// (never the super admin's limits), and rotates the API key — shown once, the old key refused at
// once. Members are refused; project B's admin reaches only B.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { activeUser, auditRows, expectNoSecrets, type TestUser } from '../identity/helpers.js';

let hub: TestHub;
let sa: string;
let a: TestProject;
let b: TestProject;
let member: TestUser;

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
  [a, b] = [await createTestProject(hub, sa), await createTestProject(hub, sa)];
  member = await activeUser(hub, a, ['member']);
});
afterAll(() => hub.close());

const own = (method: string, path: string, body: unknown, token: string) =>
  api(hub, method, `/api/v1/project${path}`, body, { token });
const ingest = (apiKey: string) =>
  api(hub, 'POST', '/api/v1/events', { type: 'ping', payload: {} }, { apiKey });
const stored = async (id: string) =>
  (await api(hub, 'GET', `/api/v1/projects/${id}`, undefined, { token: sa })).body;

describe('GET /api/v1/project', () => {
  it("shows the admin's own project with the limits the super admin set, and no secret", async () => {
    const res = await own('GET', '', undefined, a.adminToken);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: a.id,
      slug: a.slug,
      settings: { rateLimits: { apiPerMinute: 6000 }, retention: { eventsDays: 30 } },
      apiKeyPrefix: a.apiKey.slice(0, 10),
    });
    expect(JSON.stringify(res.body)).not.toContain(a.apiKey);
    expectNoSecrets(res, 'GET /project');
  });
});

describe('PUT /api/v1/project', () => {
  it('changes the name, webhook and the settings a project admin may set, merged per section, audited', async () => {
    const res = await own(
      'PUT',
      '',
      {
        name: 'Payments alerts',
        description: 'On call for payments',
        webhookUrl: 'https://hooks.example/tocsin',
        settings: {
          gateway: { clientEvents: true },
          suppression: { maxMatches: 3 },
          delivery: { ackTimeoutMs: 0, usePush: false },
        },
      },
      a.adminToken,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      name: 'Payments alerts',
      description: 'On call for payments',
      webhookUrl: 'https://hooks.example/tocsin',
      settings: {
        gateway: { clientEvents: true, maxConnections: 10_000 },
        suppression: { maxMatches: 3, windowSeconds: 60 },
        delivery: { ackTimeoutMs: 0, usePush: false, useGateway: true, maxAttempts: 5 },
      },
    });
    expect((await stored(a.id)).settings.suppression).toEqual({ maxMatches: 3, windowSeconds: 60 });
    const rows = await auditRows(hub, a.id, { action: 'project.update' });
    expect(rows.at(-1)).toMatchObject({ actorType: 'user', resourceId: a.id });
  });

  it('refuses what the super admin sets, naming it and what may be changed; nothing changes', async () => {
    const before = await stored(a.id);
    for (const [body, path, named] of [
      [{ settings: { rateLimits: { apiPerMinute: 1_000_000 } } }, 'settings', 'rateLimits'],
      [{ settings: { retention: { eventsDays: 3650 } } }, 'settings', 'retention'],
      [{ settings: { gateway: { maxConnections: 1_000_000 } } }, 'settings.gateway', 'maxConnections'],
      [{ settings: { delivery: { maxAttempts: 50 } } }, 'settings.delivery', 'maxAttempts'],
      [{ status: 'disabled' }, '', 'status'],
      // Both at once: the allowed one is not applied either.
      [{ name: 'half', settings: { rateLimits: { ingestPerSecond: 9 } } }, 'settings', 'rateLimits'],
    ] as const) {
      const res = await own('PUT', '', body, a.adminToken);
      expectError(res, 400, 'validation_failed');
      expect(res.body.error.details).toEqual([
        {
          path,
          message: expect.stringMatching(
            new RegExp(`^${named}: set by the super admin; a project admin may change`),
          ),
        },
      ]);
    }
    expect(await stored(a.id)).toEqual(before);
  });

  it('holds each setting to its bounds, naming the field by its full path', async () => {
    const cases = [
      ['suppression', 'maxMatches', 1, 1_000_000],
      ['suppression', 'windowSeconds', 1, 86_400],
      ['delivery', 'ackTimeoutMs', 0, 86_400_000],
    ] as const;
    for (const [section, key, min, max] of cases) {
      for (const value of [min, max]) {
        const res = await own('PUT', '', { settings: { [section]: { [key]: value } } }, a.adminToken);
        expect(res.status, `${key}=${value}`).toBe(200);
        expect(res.body.settings[section][key]).toBe(value);
      }
      for (const value of [min - 1, max + 1, 1.5]) {
        const res = await own('PUT', '', { settings: { [section]: { [key]: value } } }, a.adminToken);
        expectError(res, 400, 'validation_failed');
        expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual([
          `settings.${section}.${key}`,
        ]);
      }
    }
    expectError(
      await own('PUT', '', { settings: { gateway: { clientEvents: 'yes' } } }, a.adminToken),
      400,
      'validation_failed',
    );
    expectError(await own('PUT', '', { name: '' }, a.adminToken), 400, 'validation_failed');
  });

  it('names the settings field a super admin gets wrong by its full path too', async () => {
    const res = await api(
      hub,
      'PUT',
      `/api/v1/projects/${a.id}`,
      { settings: { rateLimits: { apiPerMinute: 0 } } },
      { token: sa },
    );
    expectError(res, 400, 'validation_failed');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual([
      'settings.rateLimits.apiPerMinute',
    ]);
  });
});

describe('POST /api/v1/project/api-key', () => {
  it('returns the new key once; the old key is refused at once, the new one accepted; audited', async () => {
    expect((await ingest(a.apiKey)).status).toBe(202);
    const res = await own('POST', '/api-key', undefined, a.adminToken);
    expect(res.status).toBe(200);
    expect(res.body.apiKey).toMatch(/^tk_[0-9A-Za-z]{32,}$/);
    expect(res.body.apiKeyPrefix).toBe(res.body.apiKey.slice(0, 10));
    expectError(await ingest(a.apiKey), 401, 'api_key_invalid');
    expect((await ingest(res.body.apiKey)).status).toBe(202);
    const after = await own('GET', '', undefined, a.adminToken);
    expect(after.body.apiKeyPrefix).toBe(res.body.apiKeyPrefix);
    expect(JSON.stringify(after.body)).not.toContain(res.body.apiKey);
    const rows = await auditRows(hub, a.id, { action: 'project.regenerate_api_key' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actorType: 'user' });
    expect(JSON.stringify(rows)).not.toContain(res.body.apiKey);
    a.apiKey = res.body.apiKey;
  });
});

describe('who may', () => {
  it('refuses a member (no projects:admin) on every route', async () => {
    for (const [method, path, body] of [
      ['GET', '', undefined],
      ['PUT', '', { name: 'mine now' }],
      ['POST', '/api-key', undefined],
    ] as const) {
      expectError(await own(method, path, body, member.token), 403, 'permission_denied');
    }
    expect((await ingest(a.apiKey)).status).toBe(202);
    expect((await stored(a.id)).name).not.toBe('mine now');
  });

  it("keeps project B's admin inside B, even naming A in X-Project-Id", async () => {
    const before = await stored(a.id);
    const asB = { token: b.adminToken, projectId: a.id };
    const read = await api(hub, 'GET', '/api/v1/project', undefined, asB);
    expect(read.body.id).toBe(b.id);
    expect(JSON.stringify(read.body)).not.toContain(a.id);
    const changed = await api(hub, 'PUT', '/api/v1/project', { name: 'B took over' }, asB);
    expect(changed.body).toMatchObject({ id: b.id, name: 'B took over' });
    const rotated = await api(hub, 'POST', '/api/v1/project/api-key', undefined, asB);
    expect(rotated.status).toBe(200);
    expect(await stored(a.id)).toEqual(before);
    expect((await ingest(a.apiKey)).status).toBe(202);
    expectError(await ingest(b.apiKey), 401, 'api_key_invalid');
  });

  it('lets a super admin act through it with X-Project-Id, and asks for the project without it', async () => {
    const res = await api(hub, 'GET', '/api/v1/project', undefined, { token: sa, projectId: a.id });
    expect(res.body.id).toBe(a.id);
    expectError(await api(hub, 'GET', '/api/v1/project', undefined, { token: sa }), 400, 'project_required');
    expectError(await api(hub, 'GET', '/api/v1/project', undefined, { apiKey: a.apiKey }), 401);
  });
});
