// The audit trail: the mutation middleware, GET /audit (filters, cursor pagination), the CSV
// export, and no loss of buffered entries on graceful shutdown.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../../../src/core/db.js';
import { uuidv7 } from '../../../src/core/ids.js';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { testConfig } from '../../support/env.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { SANITIZED_MARKER, createAuditWriter } from '../../../src/domain/audit.js';
import { createMetrics } from '../../../src/core/metrics.js';
import { insertNotifications } from '../inbox/notifications.js';
import { activeUser, auditRows, expectNoSecrets, registerUser, type TestUser } from './helpers.js';

let hub: TestHub;
let sa: string;
let project: TestProject;
let other: TestProject;
let auditor: TestUser;
let member: TestUser;

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
  project = await createTestProject(hub, sa);
  other = await createTestProject(hub, sa);
  await api(
    hub,
    'POST',
    '/api/v1/roles',
    { name: 'auditor', permissions: ['audit:read'] },
    { token: project.adminToken },
  );
  auditor = await activeUser(hub, project, ['auditor']);
  member = await activeUser(hub, project, ['member']);
});
afterAll(() => hub.close());

describe('mutation middleware', () => {
  it('records every mutating request after the handler: method, route pattern, status, principal', async () => {
    const pending = await registerUser(hub, project);
    const res = await api(
      hub,
      'POST',
      `/api/v1/users/${pending.id}/approve`,
      { roles: ['nope'] },
      { token: project.adminToken },
    );
    expect(res.status).toBe(400);
    await api(hub, 'PUT', '/api/v1/users/me', { fullName: 'Audited' }, { token: member.token });
    await api(hub, 'GET', '/api/v1/users/me', undefined, { token: member.token });

    const rows = await auditRows(hub, project.id, { action: 'api.request' });
    const approve = rows.find(
      (r) => (r.metadata as { path?: string }).path === `/api/v1/users/${pending.id}/approve`,
    );
    expect(approve).toMatchObject({
      actorType: 'user',
      resourceType: 'route',
      requestId: res.headers.get('x-request-id'),
      metadata: { method: 'POST', route: '/api/v1/users/:id/approve', status: 400 },
    });
    const profile = rows.filter((r) => r.actorId === member.id);
    expect(profile.map((r) => r.metadata)).toEqual([
      { method: 'PUT', route: '/api/v1/users/me', path: '/api/v1/users/me', status: 200 },
    ]);
  });

  it('records refused and anonymous requests too, but not reads', async () => {
    const requestId = `audit-${randomUUID()}`;
    const res = await api(hub, 'DELETE', `/api/v1/roles/${randomUUID()}`, undefined, {
      headers: { 'X-Request-Id': requestId },
    });
    expect(res.status).toBe(401);
    await hub.running.services.audit.flush();
    const row = await hub.running.db.system.auditLog.findFirst({ where: { requestId } });
    expect(row).toMatchObject({
      projectId: null,
      actorType: 'anonymous',
      action: 'api.request',
      metadata: { method: 'DELETE', route: '/api/v1/roles/:id', status: 401 },
    });
    const readId = `audit-${randomUUID()}`;
    await api(hub, 'GET', '/api/v1/users/me', undefined, {
      token: member.token,
      headers: { 'X-Request-Id': readId },
    });
    await hub.running.services.audit.flush();
    expect(await hub.running.db.system.auditLog.count({ where: { requestId: readId } })).toBe(0);
  });
});

describe('GET /audit', () => {
  let seeded: TestProject;
  const actor = randomUUID();
  const base = Date.parse('2030-01-01T00:00:00.000Z');

  beforeAll(async () => {
    seeded = await createTestProject(hub, sa);
    await hub.running.services.audit.flush();
    // 30 rows, three per millisecond, so the cursor must break ties on the id.
    const data = Array.from({ length: 30 }, (_, i) => ({
      id: uuidv7(),
      projectId: seeded.id,
      actorType: 'user',
      actorId: i % 2 ? actor : null,
      action: i % 3 ? 'thing.update' : 'thing.create',
      resourceType: i % 5 ? 'thing' : 'other',
      resourceId: String(i),
      createdAt: new Date(base + Math.floor(i / 3)),
    }));
    await hub.running.db.system.auditLog.createMany({ data });
  });

  const list = async (query: string, token = seeded.adminToken) => {
    const res = await api(hub, 'GET', `/api/v1/audit?${query}`, undefined, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectNoSecrets(res);
    return res.body as {
      items: Array<{ id: string; resourceId: string; createdAt: string }>;
      nextCursor: string | null;
    };
  };

  it('pages newest first by (createdAt, id) with an opaque cursor, without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof list>> = await list(
        `from=2030-01-01T00:00:00Z&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.items.map((i) => i.resourceId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => String(29 - i)));
  });

  it('filters by date range, user, action (exact or prefix) and resource type', async () => {
    const ids = (page: Awaited<ReturnType<typeof list>>) =>
      page.items.map((i) => Number(i.resourceId)).sort((a, b) => a - b);
    const range = await list(
      `from=${new Date(base + 2).toISOString()}&to=${new Date(base + 3).toISOString()}`,
    );
    expect(ids(range)).toEqual([6, 7, 8, 9, 10, 11]);
    const byUser = await list(`userId=${actor}`);
    expect(ids(byUser)).toEqual(Array.from({ length: 15 }, (_, i) => 2 * i + 1));
    const created = await list('action=thing.create&from=2030-01-01T00:00:00Z');
    expect(ids(created)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
    const prefixed = await list('action=thing.*&limit=200');
    expect(prefixed.items).toHaveLength(30);
    const others = await list('resourceType=other');
    expect(ids(others)).toEqual([0, 5, 10, 15, 20, 25]);
    const combined = await list(`resourceType=other&userId=${actor}&action=thing.update`);
    expect(ids(combined)).toEqual([5, 25]);
  });

  it("shows only the project's own entries", async () => {
    const mine = await list('limit=200');
    expect(mine.items.length).toBeGreaterThanOrEqual(30);
    const theirs = await list(`userId=${actor}&limit=200`, other.adminToken);
    expect(theirs.items).toEqual([]);
  });

  it('answers 400 (bad filters or cursor), 401 and 403', async () => {
    const get = (query: string, token?: string) =>
      api(hub, 'GET', `/api/v1/audit?${query}`, undefined, { token });
    expectError(await get('cursor=garbage', seeded.adminToken), 400, 'cursor_invalid');
    expectError(await get('from=yesterday', seeded.adminToken), 400, 'validation_failed');
    expectError(await get('limit=500', seeded.adminToken), 400, 'validation_failed');
    expectError(await get('userId=bob', seeded.adminToken), 400, 'validation_failed');
    expectError(await get(''), 401, 'auth_required');
    expectError(await get('', member.token), 403, 'permission_denied');
    expect((await get('', auditor.token)).status).toBe(200);
  });
});

describe('GET /audit/export', () => {
  it('streams CSV with a header row, quoted and formula-safe cells, honouring the filters', async () => {
    const seeded = await createTestProject(hub, sa);
    const createdAt = new Date('2031-05-05T05:05:05.005Z');
    await hub.running.db.system.auditLog.createMany({
      data: [
        {
          projectId: seeded.id,
          actorType: 'user',
          action: 'csv.test',
          resourceId: '=cmd|/C calc',
          createdAt,
          metadata: { note: 'a,"b"' },
        },
        {
          projectId: seeded.id,
          actorType: 'user',
          action: 'csv.test',
          resourceId: 'plain',
          createdAt: new Date(+createdAt + 1),
        },
        { projectId: other.id, actorType: 'user', action: 'csv.test', resourceId: 'foreign', createdAt },
      ],
    });
    const res = await fetch(`${hub.apiUrl}/api/v1/audit/export?action=csv.test`, {
      headers: { Authorization: `Bearer ${seeded.adminToken}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-.+\.csv"$/);
    const text = await res.text();
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(
      'createdAt,id,actorType,actorId,action,resourceType,resourceId,requestId,ip,metadata',
    );
    expect(lines).toHaveLength(4); // header, two rows, and the empty string after the last CRLF
    expect(lines[1]).toMatch(/^2031-05-05T05:05:05\.006Z,[0-9a-f-]{36},user,,csv\.test,,plain,,,$/);
    expect(lines[2]).toMatch(
      /^2031-05-05T05:05:05\.005Z,[0-9a-f-]{36},user,,csv\.test,,'=cmd\|\/C calc,,,"\{""note"":""a,\\""b\\""""\}"$/,
    );
    expect(text).not.toContain('foreign');
  });

  it('answers 400, 401 and 403', async () => {
    expectError(
      await api(hub, 'GET', '/api/v1/audit/export?to=soon', undefined, { token: project.adminToken }),
      400,
    );
    expectError(await api(hub, 'GET', '/api/v1/audit/export'), 401);
    expectError(
      await api(hub, 'GET', '/api/v1/audit/export', undefined, { token: member.token }),
      403,
      'permission_denied',
    );
  });
});

describe('graceful shutdown', () => {
  it('flushes buffered audit entries to MySQL when the hub closes', async () => {
    const own = await startHub({}, ['api']);
    const token = await superAdminToken(own);
    const created = await createTestProject(own, token);
    const marker = `shutdown-${randomUUID()}`;
    const res = await api(
      own,
      'PUT',
      '/api/v1/users/me',
      { fullName: marker },
      { token: created.adminToken },
    );
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id')!;
    for (let i = 0; i < 50; i++) {
      own.running.services.audit.record({
        projectId: created.id,
        principal: { kind: 'anonymous' },
        action: 'test.shutdown',
        resourceId: `${marker}-${i}`,
      });
    }
    await own.close();

    const db = createDb(testConfig().database);
    try {
      const rows = await db.system.auditLog.findMany({ where: { projectId: created.id } });
      expect(rows.filter((r) => r.action === 'test.shutdown')).toHaveLength(50);
      expect(
        rows
          .filter((r) => r.requestId === requestId)
          .map((r) => r.action)
          .sort(),
      ).toEqual(['api.request', 'user.update_profile']);
    } finally {
      await db.close();
    }
  });
});

describe('a row MySQL refuses', () => {
  /** `{"a":{"a":…}}` nested `depth` deep, as JSON text. */
  const nested = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

  it('does not hold back other rows: the webview repro, then another project', async () => {
    const [id] = await insertNotifications(hub, project.id, [member.id]);
    const refused: string[] = [];
    for (const data of ['{"x":"\\ud800"}', nested(31)]) {
      const res = await fetch(`${hub.apiUrl}/api/v1/notifications/${id}/webview-action`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${member.token}` },
        body: `{"action":"confirm","data":${data}}`,
      });
      expect(res.status).toBe(400);
      refused.push(res.headers.get('x-request-id')!);
    }
    const res = await api(hub, 'PUT', '/api/v1/users/me', { fullName: 'After' }, { token: other.adminToken });
    expect(res.status).toBe(200);
    const rows = await auditRows(hub, other.id, { requestId: res.headers.get('x-request-id') });
    expect(rows.map((r) => r.action).sort()).toEqual(['api.request', 'user.update_profile']);
    const audited = await hub.running.db.system.auditLog.findMany({ where: { requestId: { in: refused } } });
    expect(audited.map((r) => (r.metadata as { status: number }).status)).toEqual([400, 400]);
  });

  it('is stored with storable metadata and a marker; the rest of its batch is stored as sent', async () => {
    const writer = createAuditWriter(
      { db: hub.running.db, log: hub.running.services.log, metrics: createMetrics() },
      { flushIntervalMs: 60_000 },
    );
    const marker = `isolate-${randomUUID()}`;
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 40; i++) cursor = cursor.a = {} as Record<string, unknown>;
    const bad = [{ x: '\ud800' }, deep];
    for (let i = 0; i < 30; i++) {
      writer.record({
        projectId: i % 2 ? project.id : other.id,
        principal: { kind: 'anonymous' },
        action: 'test.isolate',
        resourceId: `${marker}-${i}`,
        metadata: i === 7 || i === 20 ? { data: bad[i === 7 ? 0 : 1] } : { i },
      });
    }
    await writer.close();
    const rows = await hub.running.db.system.auditLog.findMany({
      where: { resourceId: { startsWith: marker } },
    });
    expect(rows).toHaveLength(30);
    const byIndex = new Map(rows.map((r) => [Number(r.resourceId!.split('-').at(-1)), r.metadata]));
    for (let i = 0; i < 30; i++) if (i !== 7 && i !== 20) expect(byIndex.get(i)).toEqual({ i });
    expect(byIndex.get(7)).toEqual({ data: { x: '\ufffd' }, [SANITIZED_MARKER]: true });
    expect(byIndex.get(20)).toMatchObject({
      [SANITIZED_MARKER]: true,
      data: { a: { a: expect.anything() } },
    });
    expect(JSON.stringify(byIndex.get(20))).toContain('[nested too deep]');
  });

  it('bounds the buffer while MySQL refuses everything, counting what it drops', async () => {
    const metrics = createMetrics();
    const failing = { system: { auditLog: { createMany: () => Promise.reject(new Error('MySQL away')) } } };
    const writer = createAuditWriter(
      { db: failing as never, log: hub.running.services.log, metrics },
      { flushIntervalMs: 60_000, maxBuffered: 50 },
    );
    for (let i = 0; i < 80; i++)
      writer.record({ projectId: null, principal: { kind: 'anonymous' }, action: 'test.bound' });
    await writer.flush();
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^tocsin_audit_buffered_rows 50$/m);
    expect(text).toMatch(/^tocsin_audit_dropped_rows_total 30$/m);
    await expect(writer.close()).rejects.toThrow('50 audit rows could not be stored');
  }, 20_000);
});
