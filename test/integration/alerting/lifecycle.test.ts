// Alerts end to end through a hub with every role: a rule opens one alert per dedup key, later
// events count on it instead of paging, resolveWhen closes it; a policy escalates step by step
// until someone acknowledges, and the acknowledgement stops every later step and pending push;
// a step that reaches nobody is recorded, audited and counted. Bad policies are refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timerKey, timerMember } from '../../../src/domain/alerting/timer.js';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { eventually } from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';
import {
  alertsOf,
  awaitAlert,
  awaitEntries,
  createPolicy,
  dueNow,
  entriesOf,
  person,
  postEvent,
  userStep,
} from './support.js';

let hub: TestHub;
let project: TestProject;
let other: TestProject;
let saToken: string;

beforeAll(async () => {
  hub = await startHub();
  saToken = await superAdminToken(hub);
  project = await createTestProject(hub, saToken, { settings: { delivery: { usePusher: false } } });
  other = await createTestProject(hub, saToken);
});
afterAll(() => hub.close());

const admin = () => ({ token: project.adminToken });

async function createRule(fields: Record<string, unknown>) {
  const res = await api(
    hub,
    'POST',
    '/api/v1/rules',
    {
      name: `r-${Date.now()}-${Math.random()}`,
      title: 'Transfer failed for {{event.payload.account}}',
      body: 'b',
      targetRoles: [],
      ...fields,
    },
    admin(),
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}

const notificationsOf = (alertId: string) =>
  hub.running.db.forProject(project.id).notification.findMany({
    where: { alertId },
    include: { receipts: true },
    orderBy: { createdAt: 'asc' },
  });

describe('alert lifecycle', () => {
  it('opens one alert per dedup key, counts repeats without paging again, and resolves on resolveWhen', async () => {
    const ann = await person(hub, project);
    const type = `lifecycle.${Date.now()}`;
    const policy = await createPolicy(hub, project, { steps: [userStep(ann.id)] });
    await createRule({
      condition: `event.type == "${type}.failed"`,
      escalationPolicyId: policy.id,
      alert: { dedupKey: '{{event.payload.account}}', resolveWhen: `event.type == "${type}.ok"` },
    });

    await postEvent(hub, project, `${type}.failed`, { account: 'A-1' });
    const first = await awaitAlert(hub, project.id, { dedupKey: 'A-1' });
    await awaitEntries(hub, project.id, first.id, 'notified', 1);
    const [page] = await notificationsOf(first.id);
    expect(page).toMatchObject({ alertStep: 1, title: 'Transfer failed for A-1' });
    expect(page!.receipts.map((r) => r.userId)).toEqual([ann.id]);

    // The inbox item says which alert and step it belongs to.
    const inbox = await api(hub, 'GET', '/api/v1/notifications', undefined, { token: ann.token });
    expect(inbox.body.items[0]).toMatchObject({ id: page!.id, alertId: first.id, alertStep: 1 });

    const second = await postEvent(hub, project, `${type}.failed`, { account: 'A-1' });
    await postEvent(hub, project, `${type}.failed`, { account: 'B-2' });
    const b2 = await awaitAlert(hub, project.id, { dedupKey: 'B-2' });
    await eventually(
      async () =>
        (await hub.running.db.forProject(project.id).alert.findFirst({ where: { id: first.id } }))!
          .eventCount === 2,
      'the repeat is counted on the open alert',
    );
    const a1 = await hub.running.db.forProject(project.id).alert.findFirst({ where: { id: first.id } });
    expect(a1).toMatchObject({ eventCount: 2, lastEventId: second, status: 'triggered' });
    expect(await notificationsOf(first.id)).toHaveLength(1); // no second page
    expect(b2.id).not.toBe(first.id);

    await postEvent(hub, project, `${type}.ok`, { account: 'A-1' });
    await eventually(
      async () =>
        (await hub.running.db.forProject(project.id).alert.findFirst({ where: { id: first.id } }))!.status ===
        'resolved',
      'the alert is resolved by the event',
    );
    expect(
      (await hub.running.db.forProject(project.id).alert.findFirst({ where: { id: b2.id } }))!.status,
    ).toBe('triggered');

    // A new event of the resolved key opens a new alert.
    await postEvent(hub, project, `${type}.failed`, { account: 'A-1' });
    await eventually(
      async () => (await alertsOf(hub, project.id)).filter((a) => a.dedupKey === 'A-1').length === 2,
      'a new alert',
    );
  });

  it('is acknowledged and resolved over REST by whoever was notified, once, with timeline and audit rows', async () => {
    const ann = await person(hub, project);
    const stranger = await person(hub, project);
    const type = `rest.${Date.now()}`;
    const policy = await createPolicy(hub, project, { steps: [userStep(ann.id)] });
    await createRule({ condition: `event.type == "${type}"`, escalationPolicyId: policy.id });
    await postEvent(hub, project, type, {});
    const alert = await awaitAlert(hub, project.id, { ruleId: { not: null }, policyId: policy.id });
    await awaitEntries(hub, project.id, alert.id, 'notified', 1);

    expectError(
      await api(hub, 'PUT', `/api/v1/alerts/${alert.id}/acknowledge`, undefined, { token: stranger.token }),
      404,
      'not_found',
    );
    expectError(
      await api(hub, 'PUT', `/api/v1/alerts/${alert.id}/acknowledge`, undefined, {
        token: other.adminToken,
      }),
      404,
      'not_found',
    );

    const ack = await api(hub, 'PUT', `/api/v1/alerts/${alert.id}/acknowledge`, undefined, {
      token: ann.token,
    });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ status: 'acknowledged', acknowledgedBy: ann.id, nextStepAt: null });
    const again = await api(hub, 'PUT', `/api/v1/alerts/${alert.id}/acknowledge`, undefined, {
      token: ann.token,
    });
    expect(again.body.acknowledgedAt).toBe(ack.body.acknowledgedAt);
    const resolved = await api(hub, 'PUT', `/api/v1/alerts/${alert.id}/resolve`, undefined, {
      token: ann.token,
    });
    expect(resolved.body).toMatchObject({ status: 'resolved', resolvedBy: ann.id });
    expect(resolved.body.timeline.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['triggered', 'notified', 'acknowledged', 'resolved']),
    );
    expect((await entriesOf(hub, project.id, alert.id, 'acknowledged')).length).toBe(1);

    await hub.running.services.audit.flush();
    const audit = await hub.running.db
      .forProject(project.id)
      .auditLog.findMany({ where: { resourceId: alert.id } });
    expect(audit.map((a) => a.action).sort()).toEqual([
      'alert.acknowledge',
      'alert.resolve',
      'alert.trigger',
    ]);

    // Listing is for rule readers; another project sees nothing.
    const list = await api(hub, 'GET', '/api/v1/alerts?status=resolved', undefined, admin());
    expect(list.body.items.some((a: { id: string }) => a.id === alert.id)).toBe(true);
    const foreign = await api(hub, 'GET', '/api/v1/alerts', undefined, { token: other.adminToken });
    expect(foreign.body.items).toEqual([]);
    expectError(
      await api(hub, 'GET', `/api/v1/alerts/${alert.id}`, undefined, { token: other.adminToken }),
      404,
    );
  });
});

describe('escalation', () => {
  it('notifies step by step until acknowledged; the acknowledgement stops every later step', async () => {
    const [ann, bob, cy] = [
      await person(hub, project),
      await person(hub, project),
      await person(hub, project),
    ];
    const type = `escalate.${Date.now()}`;
    const policy = await createPolicy(hub, project, {
      steps: [userStep(ann.id), userStep(bob.id), userStep(cy.id)],
    });
    await createRule({ condition: `event.type == "${type}"`, escalationPolicyId: policy.id });
    await postEvent(hub, project, type, {});
    const alert = await awaitAlert(hub, project.id, { policyId: policy.id });
    await awaitEntries(hub, project.id, alert.id, 'notified', 1);

    await dueNow(hub, project.id, alert.id);
    await awaitEntries(hub, project.id, alert.id, 'notified', 2);
    const pages = await notificationsOf(alert.id);
    expect(pages.map((n) => [n.alertStep, n.receipts.map((r) => r.userId)])).toEqual([
      [1, [ann.id]],
      [2, [bob.id]],
    ]);

    // Bob takes it by acknowledging his notification (the socket and REST paths alike).
    const ack = await api(hub, 'PUT', `/api/v1/notifications/${pages[1]!.id}/acknowledge`, undefined, {
      token: bob.token,
    });
    expect(ack.status, JSON.stringify(ack.body)).toBe(200);
    const stored = await hub.running.db.forProject(project.id).alert.findFirst({ where: { id: alert.id } });
    expect(stored).toMatchObject({ status: 'acknowledged', acknowledgedBy: bob.id, nextStepAt: null });
    expect(
      await hub.running.services.redis.zscore(
        timerKey(hub.running.services.keys),
        timerMember(project.id, alert.id),
      ),
    ).toBeNull();

    // Even a stale timer entry (a worker that held it) fires nothing more.
    await hub.running.services.redis.zadd(
      timerKey(hub.running.services.keys),
      Date.now(),
      timerMember(project.id, alert.id),
    );
    await eventually(
      async () =>
        (await hub.running.services.redis.zscore(
          timerKey(hub.running.services.keys),
          timerMember(project.id, alert.id),
        )) === null,
      'the worker drops the stale timer entry',
    );
    expect(await notificationsOf(alert.id)).toHaveLength(2);
    expect(await entriesOf(hub, project.id, alert.id, 'notified')).toHaveLength(2);
  });

  it('records, audits and counts a step that reaches nobody, and goes on to the next step', async () => {
    const bob = await person(hub, project);
    const type = `unrouted.${Date.now()}`;
    const schedule = await api(
      hub,
      'POST',
      '/api/v1/schedules',
      {
        name: `empty-${Date.now()}`,
        timeZone: 'UTC',
        // On call only in the future: nobody now.
        layers: [
          { name: 'later', users: [bob.id], rotation: 'daily', handoff: '00:00', start: '2099-01-01' },
        ],
      },
      admin(),
    );
    expect(schedule.status).toBe(201);
    expect(schedule.body.gaps.length).toBeGreaterThan(0);
    const before =
      (await hub.running.services.metrics.alertsUnrouted.get()).values.find(
        (v) => v.labels.project === project.id,
      )?.value ?? 0;
    const policy = await createPolicy(hub, project, {
      steps: [{ targets: [{ type: 'schedule', id: schedule.body.id }], waitMinutes: 1 }, userStep(bob.id)],
    });
    await createRule({ condition: `event.type == "${type}"`, escalationPolicyId: policy.id });
    await postEvent(hub, project, type, {});
    const alert = await awaitAlert(hub, project.id, { policyId: policy.id });
    await awaitEntries(hub, project.id, alert.id, 'unrouted', 1);
    const after = (await hub.running.services.metrics.alertsUnrouted.get()).values.find(
      (v) => v.labels.project === project.id,
    )?.value;
    expect(after).toBe(before + 1);
    await hub.running.services.audit.flush();
    expect(
      await hub.running.db
        .forProject(project.id)
        .auditLog.count({ where: { resourceId: alert.id, action: 'alert.unrouted' } }),
    ).toBe(1);

    await dueNow(hub, project.id, alert.id);
    await awaitEntries(hub, project.id, alert.id, 'notified', 1);
    expect((await notificationsOf(alert.id)).map((n) => n.alertStep)).toEqual([2]);
  });
});

describe('escalation policies: bad input', () => {
  const post = (body: unknown) => api(hub, 'POST', '/api/v1/escalation-policies', body, admin());

  it('refuses empty policies, empty steps, waits outside 1 min–24 h, unknown targets and cycles', async () => {
    const ann = await person(hub, project);
    expectError(await post({ name: 'x', steps: [] }), 400, 'validation_failed');
    expectError(
      await post({ name: 'x', steps: [{ targets: [], waitMinutes: 5 }] }),
      400,
      'validation_failed',
    );
    expectError(await post({ name: 'x', steps: [userStep(ann.id, 0)] }), 400, 'validation_failed');
    expectError(await post({ name: 'x', steps: [userStep(ann.id, 1441)] }), 400, 'validation_failed');
    expect((await post({ name: `edge-${Date.now()}`, steps: [userStep(ann.id, 1440)] })).status).toBe(201);
    expectError(await post({ name: 'x', steps: [userStep(ann.id)], repeat: 11 }), 400, 'validation_failed');
    const foreignUser = await person(hub, other);
    expectError(await post({ name: 'x', steps: [userStep(foreignUser.id)] }), 400, 'unknown_target');

    const a = await createPolicy(hub, project, { steps: [userStep(ann.id)] });
    const b = await createPolicy(hub, project, { steps: [userStep(ann.id)], fallbackPolicyId: a.id });
    const cycle = await api(
      hub,
      'PUT',
      `/api/v1/escalation-policies/${a.id}`,
      { fallbackPolicyId: b.id },
      admin(),
    );
    expectError(cycle, 400, 'policy_cycle');
    expectError(
      await api(hub, 'PUT', `/api/v1/escalation-policies/${a.id}`, { fallbackPolicyId: a.id }, admin()),
      400,
      'policy_cycle',
    );
    // Another project's policy is not there.
    expectError(
      await api(hub, 'GET', `/api/v1/escalation-policies/${a.id}`, undefined, { token: other.adminToken }),
      404,
    );
    expectError(
      await api(hub, 'DELETE', `/api/v1/escalation-policies/${a.id}`, undefined, admin()),
      409,
      'policy_in_use',
    );
  });
});
