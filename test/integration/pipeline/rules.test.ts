// /api/v1/rules: every route, with validation, authentication, permissions, not-found and
// tenant isolation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, superAdminToken } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { createRule, pipelineProject, userWith, type PipelineProject } from './support.js';

let hub: TestHub;
let sa: string;
let project: PipelineProject;
let other: PipelineProject;
let reader: string;
let nobody: string;

const CONDITION = 'event.type == "transfer.failed" && event.payload.amount > 10000';

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
  [project, other] = await Promise.all([pipelineProject(hub, sa), pipelineProject(hub, sa)]);
  [reader, nobody] = await Promise.all([userWith(hub, project, ['rules:read']), userWith(hub, project, [])]);
});
afterAll(() => hub.close());

const as = (token: string) => ({ token });

describe('POST /api/v1/rules', () => {
  it('creates a rule, bumps the rules version and announces it on the bus', async () => {
    const versionKey = hub.running.services.keys.rulesVersion(project.id);
    const before = Number((await hub.running.services.redis.get(versionKey)) ?? 0);
    const announced = new Promise<{ version: number }>((resolve) => {
      const off = hub.running.services.bus.on('rules.changed', (m) => {
        if (m.projectId !== project.id) return;
        off();
        resolve(m);
      });
    });
    const res = await api(
      hub,
      'POST',
      '/api/v1/rules',
      {
        name: 'Large failed transfer',
        description: 'Over 10k',
        condition: CONDITION,
        targetRoles: [project.roles.member, project.roles.member],
        title: 'Transfer of {{event.payload.amount}} failed',
        body: 'Account {{event.payload.account}}',
        action: { url: 'https://console.example/transfers' },
        priority: 10,
        suppression: { maxMatches: 3 },
      },
      as(project.adminToken),
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.any(String),
      name: 'Large failed transfer',
      condition: CONDITION,
      targetRoles: [project.roles.member],
      priority: 10,
      active: true,
      soundId: null,
      suppression: { maxMatches: 3 },
      action: { url: 'https://console.example/transfers' },
    });
    expect((await announced).version).toBe(before + 1);
  });

  it('refuses a malformed condition with invalid_condition and the column', async () => {
    const res = await api(
      hub,
      'POST',
      '/api/v1/rules',
      {
        name: 'Bad',
        condition: 'event.amount > 5 = 3',
        targetRoles: [project.roles.member],
        title: 't',
        body: 'b',
      },
      as(project.adminToken),
    );
    expectError(res, 400, 'invalid_condition');
    expect(res.body.error.message).toBe('condition: unexpected token "=" at column 18');
    expect(res.body.error.details).toEqual({ field: 'condition', reason: 'syntax', column: 18 });
  });

  it('refuses a condition that reaches for prototypes or other names', async () => {
    for (const condition of ['event.__proto__.x == 1', 'process.exit() == 1', 'event.a + 1 > 2']) {
      const res = await api(
        hub,
        'POST',
        '/api/v1/rules',
        { name: 'Bad', condition, targetRoles: [project.roles.member], title: 't', body: 'b' },
        as(project.adminToken),
      );
      expectError(res, 400, 'invalid_condition');
      expect(res.body.error.details.reason).toBe('not_allowed');
    }
  });

  it('refuses a template placeholder that is not an event path', async () => {
    const res = await api(
      hub,
      'POST',
      '/api/v1/rules',
      {
        name: 'Bad',
        condition: CONDITION,
        targetRoles: [project.roles.member],
        title: 'x {{event.a + 1}}',
        body: 'b',
      },
      as(project.adminToken),
    );
    expectError(res, 400, 'invalid_template');
    expect(res.body.error.details).toMatchObject({ field: 'title', column: 5 });
  });

  it('refuses a template placeholder left open, where it would be sent as is', async () => {
    const res = await api(
      hub,
      'POST',
      '/api/v1/rules',
      {
        name: 'Open',
        condition: CONDITION,
        targetRoles: [project.roles.member],
        title: 'ok',
        body: 'Amount {{event.payload.amount',
      },
      as(project.adminToken),
    );
    expectError(res, 400, 'invalid_template');
    expect(res.body.error.message).toBe('body: placeholder "{{" is not closed with "}}" at column 8');
    expect(res.body.error.details).toEqual({ field: 'body', reason: 'syntax', column: 8 });
  });

  it('takes target roles by name as channel auth does, stores their ids, and names an unknown one', async () => {
    const base = { name: 'By name', condition: CONDITION, title: 't', body: 'b' };
    const byName = await api(
      hub,
      'POST',
      '/api/v1/rules',
      { ...base, targetRoles: ['member', project.roles.member, 'admin'] },
      as(project.adminToken),
    );
    expect(byName.status).toBe(201);
    expect(byName.body.targetRoles).toEqual([project.roles.member, project.roles.admin]);
    const unknown = await api(
      hub,
      'POST',
      '/api/v1/rules',
      { ...base, targetRoles: ['member', 'no-such-role'] },
      as(project.adminToken),
    );
    expectError(unknown, 400, 'unknown_role');
    expect(unknown.body.error.message).toBe('targetRoles: no role no-such-role in this project');
    const changed = await api(
      hub,
      'PUT',
      `/api/v1/rules/${byName.body.id}`,
      { targetRoles: ['admin'] },
      as(project.adminToken),
    );
    expect(changed.body.targetRoles).toEqual([project.roles.admin]);
  });

  it('refuses target roles and sounds that are not of this project', async () => {
    const base = { name: 'R', condition: CONDITION, title: 't', body: 'b' };
    const foreignRole = await api(
      hub,
      'POST',
      '/api/v1/rules',
      { ...base, targetRoles: [other.roles.member] },
      as(project.adminToken),
    );
    expectError(foreignRole, 400, 'unknown_role');
    expect(foreignRole.body.error.details.missing).toEqual([other.roles.member]);
    const sound = await api(
      hub,
      'POST',
      '/api/v1/rules',
      { ...base, targetRoles: [project.roles.member], soundId: '0193a0c4-7b1e-7c3d-9f00-000000000001' },
      as(project.adminToken),
    );
    expectError(sound, 400, 'unknown_sound');
    const empty = await api(
      hub,
      'POST',
      '/api/v1/rules',
      { ...base, targetRoles: [] },
      as(project.adminToken),
    );
    // No roles, schedules or policy: the rule would reach nobody.
    expectError(empty, 400, 'no_targets');
  });

  it('accepts a sound of the project', async () => {
    const soundId = '0193a0c4-7b1e-7c3d-9f00-00000000aaaa';
    await hub.running.db.forProject(project.id).sound.create({
      data: {
        id: soundId,
        projectId: project.id,
        name: `s-${Date.now()}`,
        fileName: 'a.mp3',
        mimeType: 'audio/mpeg',
        sizeBytes: 1,
        storageKey: 'k',
      },
    });
    const rule = await createRule(hub, project, {
      condition: CONDITION,
      targetRoles: [project.roles.member],
      soundId,
    });
    expect((await api(hub, 'GET', `/api/v1/rules/${rule.id}`, undefined, as(reader))).body.soundId).toBe(
      soundId,
    );
  });

  it('needs a token with rules:write', async () => {
    const body = {
      name: 'R',
      condition: CONDITION,
      targetRoles: [project.roles.member],
      title: 't',
      body: 'b',
    };
    expectError(await api(hub, 'POST', '/api/v1/rules', body), 401, 'auth_required');
    expectError(await api(hub, 'POST', '/api/v1/rules', body, as(reader)), 403, 'permission_denied');
    expectError(await api(hub, 'POST', '/api/v1/rules', body, { apiKey: project.apiKey }), 401);
  });

  it('lets a super admin act inside a project with X-Project-Id, and asks for it otherwise', async () => {
    const body = {
      name: 'SA rule',
      condition: CONDITION,
      targetRoles: [project.roles.member],
      title: 't',
      body: 'b',
    };
    const res = await api(hub, 'POST', '/api/v1/rules', body, { token: sa, projectId: project.id });
    expect(res.status).toBe(201);
    expect(res.body.createdBy).toBeNull();
    expectError(await api(hub, 'POST', '/api/v1/rules', body, { token: sa }), 400, 'project_required');
  });
});

describe('GET /api/v1/rules', () => {
  let low: string;
  let high: string;
  let inactive: string;

  beforeAll(async () => {
    const base = { condition: CONDITION, title: 't', body: 'b' };
    low = (
      await createRule(hub, other, {
        ...base,
        name: 'low alpha',
        targetRoles: [other.roles.member],
        priority: 1,
      })
    ).id;
    high = (
      await createRule(hub, other, {
        ...base,
        name: 'high beta',
        description: 'needle here',
        targetRoles: [other.roles.admin],
        priority: 9,
      })
    ).id;
    inactive = (
      await createRule(hub, other, { ...base, name: 'off', targetRoles: [other.roles.member], active: false })
    ).id;
  });

  const list = async (query = '') =>
    api(hub, 'GET', `/api/v1/rules${query}`, undefined, as(other.adminToken)).then((r) => {
      expect(r.status).toBe(200);
      return r.body as { items: Array<{ id: string }>; total: number; page: number; pageSize: number };
    });

  it('pages through the rules, highest priority first', async () => {
    const all = await list();
    expect(all.items.map((r) => r.id)).toEqual([high, low, inactive]);
    const page2 = await list('?page=2&pageSize=2');
    expect(page2).toMatchObject({ total: 3, page: 2, pageSize: 2 });
    expect(page2.items.map((r) => r.id)).toEqual([inactive]);
  });

  it('filters by active, priority, role and search', async () => {
    expect((await list('?active=true')).items.map((r) => r.id)).toEqual([high, low]);
    expect((await list('?active=false')).items.map((r) => r.id)).toEqual([inactive]);
    expect((await list('?priority=9')).items.map((r) => r.id)).toEqual([high]);
    expect((await list(`?role=${other.roles.member}`)).items.map((r) => r.id)).toEqual([low, inactive]);
    expect((await list('?search=needle')).items.map((r) => r.id)).toEqual([high]);
    expect((await list('?search=alpha')).items.map((r) => r.id)).toEqual([low]);
  });

  it('refuses bad filters and callers without rules:read', async () => {
    expectError(await api(hub, 'GET', '/api/v1/rules?active=maybe', undefined, as(other.adminToken)), 400);
    expectError(await api(hub, 'GET', '/api/v1/rules', undefined, as(nobody)), 403, 'permission_denied');
    expectError(await api(hub, 'GET', '/api/v1/rules'), 401);
  });

  it("never lists another project's rules", async () => {
    const mine = await api(hub, 'GET', '/api/v1/rules?pageSize=200', undefined, as(project.adminToken));
    const ids = (mine.body.items as Array<{ id: string }>).map((r) => r.id);
    expect(ids).not.toContain(low);
    expect(ids).not.toContain(high);
  });
});

describe('GET, PUT and DELETE /api/v1/rules/:id', () => {
  it('reads, changes and soft-deletes a rule', async () => {
    const rule = await createRule(hub, project, {
      condition: CONDITION,
      targetRoles: [project.roles.member],
    });
    const got = await api(hub, 'GET', `/api/v1/rules/${rule.id}`, undefined, as(reader));
    expect(got.status).toBe(200);
    expect(got.body.condition).toBe(CONDITION);

    const changed = await api(
      hub,
      'PUT',
      `/api/v1/rules/${rule.id}`,
      { condition: 'event.type == "x"', priority: 3, suppression: null, action: null },
      as(project.adminToken),
    );
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({
      condition: 'event.type == "x"',
      priority: 3,
      suppression: null,
      name: 'Rule',
    });

    const bad = await api(
      hub,
      'PUT',
      `/api/v1/rules/${rule.id}`,
      { condition: 'event.type ==' },
      as(project.adminToken),
    );
    expectError(bad, 400, 'invalid_condition');
    expect(bad.body.error.message).toContain('at column 14');
    expectError(
      await api(
        hub,
        'PUT',
        `/api/v1/rules/${rule.id}`,
        { targetRoles: [other.roles.admin] },
        as(project.adminToken),
      ),
      400,
      'unknown_role',
    );
    expectError(await api(hub, 'PUT', `/api/v1/rules/${rule.id}`, { priority: 1 }, as(reader)), 403);

    expectError(await api(hub, 'DELETE', `/api/v1/rules/${rule.id}`, undefined, as(reader)), 403);
    const deleted = await api(hub, 'DELETE', `/api/v1/rules/${rule.id}`, undefined, as(project.adminToken));
    expect(deleted.status).toBe(204);
    expectError(await api(hub, 'GET', `/api/v1/rules/${rule.id}`, undefined, as(reader)), 404, 'not_found');
    expectError(await api(hub, 'DELETE', `/api/v1/rules/${rule.id}`, undefined, as(project.adminToken)), 404);
    const row = await hub.running.db
      .forProject(project.id)
      .rule.findUniqueOrThrow({ where: { id: rule.id } });
    expect(row.deletedAt).not.toBeNull();
  });

  it("answers 404 for another project's rule and for unknown ids, 400 for malformed ids", async () => {
    const theirs = await createRule(hub, other, { condition: CONDITION, targetRoles: [other.roles.member] });
    for (const [method, body] of [
      ['GET', undefined],
      ['PUT', { priority: 1 }],
      ['DELETE', undefined],
    ] as const) {
      expectError(
        await api(hub, method, `/api/v1/rules/${theirs.id}`, body, as(project.adminToken)),
        404,
        'not_found',
      );
    }
    expectError(
      await api(hub, 'GET', '/api/v1/rules/0193a0c4-7b1e-7c3d-9f00-000000000009', undefined, as(reader)),
      404,
    );
    expectError(await api(hub, 'GET', '/api/v1/rules/not-a-uuid', undefined, as(reader)), 400);
    // Untouched.
    expect(
      (await api(hub, 'GET', `/api/v1/rules/${theirs.id}`, undefined, as(other.adminToken))).status,
    ).toBe(200);
  });
});

describe('POST /api/v1/rules/test', () => {
  it('explains a condition against a sample event, step by step', async () => {
    const res = await api(
      hub,
      'POST',
      '/api/v1/rules/test',
      { condition: CONDITION, event: { type: 'transfer.failed', payload: { amount: 12000 } } },
      as(reader),
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      condition: CONDITION,
      matched: true,
      steps: [
        { expression: 'event.type', value: 'transfer.failed' },
        { expression: 'event.type == "transfer.failed"', value: true },
        { expression: 'event.payload.amount', value: 12000 },
        { expression: 'event.payload.amount > 10000', value: true },
        { expression: CONDITION, value: true },
      ],
    });
  });

  it('tests a saved rule and shows the notification it would send', async () => {
    const rule = await createRule(hub, project, {
      condition: CONDITION,
      targetRoles: [project.roles.member],
      title: 'Failed: {{event.payload.amount}}',
    });
    const matched = await api(
      hub,
      'POST',
      '/api/v1/rules/test',
      { ruleId: rule.id, event: { type: 'transfer.failed', payload: { amount: 20000 } } },
      as(reader),
    );
    expect(matched.body).toMatchObject({
      matched: true,
      notification: { title: 'Failed: 20000', body: 'Body' },
    });
    const missed = await api(
      hub,
      'POST',
      '/api/v1/rules/test',
      { ruleId: rule.id, event: { type: 'transfer.failed', payload: {} } },
      as(reader),
    );
    expect(missed.body.matched).toBe(false);
    expect(missed.body.notification).toBeUndefined();
    expect(missed.body.steps).toContainEqual({ expression: 'event.payload.amount > 10000', value: false });
  });

  it('previews templates sent with a condition, refusing one left open', async () => {
    const event = { type: 'transfer.failed', payload: { amount: 12000 } };
    const preview = await api(
      hub,
      'POST',
      '/api/v1/rules/test',
      { condition: CONDITION, title: 'Failed: {{event.payload.amount}}', body: 'b', event },
      as(reader),
    );
    expect(preview.body).toMatchObject({
      matched: true,
      notification: { title: 'Failed: 12000', body: 'b' },
    });
    const open = await api(
      hub,
      'POST',
      '/api/v1/rules/test',
      { condition: CONDITION, title: 'Failed: {{event.payload.amount', event },
      as(reader),
    );
    expectError(open, 400, 'invalid_template');
    expect(open.body.error.details).toEqual({ field: 'title', reason: 'syntax', column: 9 });
  });

  it("renders a draft's templates (instead of a saved rule's), refusing a bad one with its position", async () => {
    const event = { type: 'transfer.failed', payload: { amount: 20000, account: 'FR-1' } };
    const draft = await api(
      hub,
      'POST',
      '/api/v1/rules/test',
      {
        condition: CONDITION,
        event,
        title: 'Draft {{event.payload.amount}}',
        body: 'On {{event.payload.account}}',
      },
      as(reader),
    );
    expect(draft.body).toMatchObject({
      matched: true,
      notification: { title: 'Draft 20000', body: 'On FR-1' },
    });
    const rule = await createRule(hub, project, {
      condition: CONDITION,
      targetRoles: [project.roles.member],
      title: 'Saved',
      body: 'Saved body',
    });
    const edited = await api(
      hub,
      'POST',
      '/api/v1/rules/test',
      { ruleId: rule.id, event, title: 'Edited {{event.type}}' },
      as(reader),
    );
    expect(edited.body.notification).toEqual({ title: 'Edited transfer.failed', body: 'Saved body' });
    const bad = await api(
      hub,
      'POST',
      '/api/v1/rules/test',
      { condition: CONDITION, event, title: 'x {{event.a + 1}}', body: 'b' },
      as(reader),
    );
    expectError(bad, 400, 'invalid_template');
    expect(bad.body.error.details).toMatchObject({ field: 'title', column: 5 });
  });

  it('refuses a bad condition with its position, a foreign rule with 404, and both or neither with 400', async () => {
    const bad = await api(
      hub,
      'POST',
      '/api/v1/rules/test',
      { condition: 'event.a ==', event: {} },
      as(reader),
    );
    expectError(bad, 400, 'invalid_condition');
    const theirs = await createRule(hub, other, { condition: CONDITION, targetRoles: [other.roles.member] });
    expectError(
      await api(hub, 'POST', '/api/v1/rules/test', { ruleId: theirs.id, event: {} }, as(reader)),
      404,
    );
    expectError(
      await api(
        hub,
        'POST',
        '/api/v1/rules/test',
        { ruleId: theirs.id, condition: 'true', event: {} },
        as(reader),
      ),
      400,
      'validation_failed',
    );
    expectError(
      await api(hub, 'POST', '/api/v1/rules/test', { event: {} }, as(reader)),
      400,
      'validation_failed',
    );
    expectError(
      await api(hub, 'POST', '/api/v1/rules/test', { condition: 'true', event: {} }, as(nobody)),
      403,
    );
  });
});
