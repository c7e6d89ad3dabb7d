// Alert storms: past N matches in M seconds a rule's matches are suppressed and counted, and one
// digest goes to the same recipients when the window closes. N and M come from the project's
// settings unless the rule overrides them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../../src/core/ids.js';
import { createSuppression } from '../../../src/engine/suppression.js';
import { api, superAdminToken } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { startWorkers, type Workers } from '../../../src/workers/index.js';
import { addUsers, createRule, dispatches, eventually, pipelineProject } from './support.js';

let hub: TestHub;
let sa: string;
let workers: Workers;
// The worker role of this process, with what it hands to delivery recorded.
const handed = dispatches();

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  await hub.running.prepared;
  workers = startWorkers(hub.running.services, { blockMs: 100, onDispatch: handed.onDispatch });
  sa = await superAdminToken(hub);
});
afterAll(async () => {
  await workers?.close();
  await hub.close();
});

describe('suppression window (Lua)', () => {
  const limit = { maxMatches: 2, windowSeconds: 10 };
  const check = (projectId: string, ruleId: string, eventId: string, now: number) =>
    createSuppression(hub.running.services)
      .check([{ projectId, ruleId, eventId, limit, newPeriodId: uuidv7() }], now)
      .then(([decision]) => decision!);

  it('allows N per sliding window, counts the rest in one period, and repeats a decision for the same event', async () => {
    const [projectId, ruleId] = [uuidv7(), uuidv7()];
    const t0 = 1_000_000;
    expect(await check(projectId, ruleId, 'e1', t0)).toEqual({ suppressed: false });
    expect(await check(projectId, ruleId, 'e2', t0 + 1_000)).toEqual({ suppressed: false });
    const third = await check(projectId, ruleId, 'e3', t0 + 2_000);
    expect(third).toMatchObject({ suppressed: true, startsPeriod: true });
    const fourth = await check(projectId, ruleId, 'e4', t0 + 3_000);
    expect(fourth).toEqual({
      suppressed: true,
      startsPeriod: false,
      periodId: (third as { periodId: string }).periodId,
    });
    // Redelivered events get their first decision back.
    expect(await check(projectId, ruleId, 'e1', t0 + 3_500)).toEqual({ suppressed: false });
    expect(await check(projectId, ruleId, 'e3', t0 + 3_500)).toMatchObject({
      suppressed: true,
      startsPeriod: false,
    });
    // e1 leaves the window 10 s later: one slot frees.
    expect(await check(projectId, ruleId, 'e5', t0 + 10_001)).toEqual({ suppressed: false });
    expect(await check(projectId, ruleId, 'e6', t0 + 10_002)).toMatchObject({ suppressed: true });

    const suppression = createSuppression(hub.running.services);
    const periodId = (third as { periodId: string }).periodId;
    expect(await suppression.claimDigest(projectId, ruleId, periodId)).toBe(3); // e3, e4, e6
    expect(await suppression.claimDigest(projectId, ruleId, periodId)).toBe(3); // a retried job
    // The next suppressed match starts a new period.
    expect(await check(projectId, ruleId, 'e7', t0 + 10_003)).toMatchObject({
      suppressed: true,
      startsPeriod: true,
    });
  });
});

describe('suppression in the pipeline', () => {
  it('suppresses past the rule limit and sends one digest to the same recipients when the window closes', async () => {
    const project = await pipelineProject(hub, sa, { rateLimits: { ingestPerSecond: 100_000 } });
    const users = await addUsers(hub, project.id, project.roles.member, 2);
    const rule = await createRule(hub, project, {
      name: 'transfer failed',
      condition: 'event.type == "transfer.failed"',
      targetRoles: [project.roles.member],
      suppression: { maxMatches: 2, windowSeconds: 2 },
    });
    const digests = handed.next(async (m) => {
      if (m.projectId !== project.id) return false;
      const n = await hub.running.db
        .forProject(project.id)
        .notification.findUnique({ where: { id: m.notificationId } });
      return n?.kind === 'digest';
    }, 15_000);
    const res = await api(
      hub,
      'POST',
      '/api/v1/events/batch',
      { events: Array.from({ length: 16 }, (_, i) => ({ type: 'transfer.failed', payload: { i } })) },
      { apiKey: project.apiKey },
    );
    expect(res.status).toBe(202);

    const message = await digests;
    expect(message.userIds).toEqual(users);
    const db = hub.running.db.forProject(project.id);
    const notifications = await db.notification.findMany({
      where: { ruleId: rule.id },
      orderBy: { createdAt: 'asc' },
    });
    expect(notifications.filter((n) => n.kind === 'alert')).toHaveLength(2);
    const [sent] = notifications.filter((n) => n.kind === 'digest');
    expect(sent).toMatchObject({ eventId: null, title: "14 more 'transfer failed' alerts in the last 2 s" });
    expect(await db.notificationReceipt.count({ where: { notificationId: sent!.id } })).toBe(2);
    // Every event is stored, with the rule among its matches, suppressed or not.
    const events = await db.event.findMany({ where: { id: { in: res.body.ids } } });
    expect(events).toHaveLength(16);
    expect(events.every((e) => (e.matchedRules as string[]).includes(rule.id))).toBe(true);
  });

  it('shows a suppressed match and its digest due time on the event and in the rule test', async () => {
    const project = await pipelineProject(hub, sa, { suppression: { maxMatches: 1, windowSeconds: 60 } });
    await addUsers(hub, project.id, project.roles.member, 1);
    const rule = await createRule(hub, project, { condition: 'event.type == "y"', targetRoles: ['member'] });
    const as = { token: project.adminToken };
    const ruleTest = async () =>
      (
        await api(
          hub,
          'POST',
          '/api/v1/rules/test',
          { ruleId: rule.id, event: { type: 'y', payload: {} } },
          as,
        )
      ).body;
    const processed = async (type: string) => {
      const sent = await api(
        hub,
        'POST',
        '/api/v1/events',
        { type, payload: {} },
        { apiKey: project.apiKey },
      );
      return eventually(
        async () => (await api(hub, 'GET', `/api/v1/events/${sent.body.id}`, undefined, as)).body,
        (event) => event.status === 'processed',
      );
    };

    expect(await ruleTest()).toMatchObject({ matched: true, suppressed: false });
    const first = await processed('y');
    expect(first.ruleResults).toEqual([{ ruleId: rule.id, suppressed: false }]);
    expect(first.notifications).toHaveLength(1);

    // The limit is reached: the rule test says the next match would go to a digest.
    const before = Date.now();
    const preview = await ruleTest();
    expect(preview).toMatchObject({ matched: true, suppressed: true });
    expect(Date.parse(preview.digestDueAt)).toBeGreaterThanOrEqual(before + 59_000);

    const second = await processed('y');
    expect(second.notifications).toEqual([]);
    expect(second.ruleResults).toEqual([
      { ruleId: rule.id, suppressed: true, digestDueAt: expect.any(String) },
    ]);
    const due = Date.parse(second.ruleResults[0].digestDueAt);
    expect(due).toBeGreaterThan(Date.parse(second.receivedAt) + 59_000);
    expect(due).toBeLessThan(Date.now() + 61_000);
    // Once the digest period is open, the rule test names the same due time.
    expect((await ruleTest()).digestDueAt).toBe(second.ruleResults[0].digestDueAt);
    const listed = await api(hub, 'GET', '/api/v1/events', undefined, as);
    expect(listed.body.items.find((e: any) => e.id === second.id).ruleResults[0].suppressed).toBe(true);
  });

  it("uses the project's settings for rules that do not override them", async () => {
    const project = await pipelineProject(hub, sa, { suppression: { maxMatches: 1, windowSeconds: 60 } });
    await addUsers(hub, project.id, project.roles.member, 1);
    const defaults = await createRule(hub, project, {
      condition: 'event.type == "x"',
      targetRoles: [project.roles.member],
    });
    const own = await createRule(hub, project, {
      condition: 'event.type == "x"',
      targetRoles: [project.roles.member],
      suppression: { maxMatches: 3 },
    });
    const res = await api(
      hub,
      'POST',
      '/api/v1/events/batch',
      { events: Array.from({ length: 4 }, () => ({ type: 'x', payload: {} })) },
      { apiKey: project.apiKey },
    );
    const db = hub.running.db.forProject(project.id);
    await eventually(
      () => db.event.count({ where: { id: { in: res.body.ids } } }),
      (n) => n === 4,
    );
    expect(await db.notification.count({ where: { ruleId: defaults.id, kind: 'alert' } })).toBe(1);
    expect(await db.notification.count({ where: { ruleId: own.id, kind: 'alert' } })).toBe(3);
  });
});
