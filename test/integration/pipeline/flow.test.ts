// The whole path: an event POSTed with a project's key becomes, within a second, one
// notification with a receipt per active user of the targeted roles, handed over for delivery.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, superAdminToken } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { unreadCount } from '../../../src/domain/unread.js';
import { startWorkers, type Workers } from '../../../src/workers/index.js';
import {
  addUsers,
  createRule,
  eventually,
  dispatches,
  pipelineProject,
  postEvent,
  type PipelineProject,
} from './support.js';

let hub: TestHub;
let sa: string;
let project: PipelineProject;
let workers: Workers;
// The worker role of this process, with what it hands to delivery recorded.
const handed = dispatches();

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  await hub.running.prepared;
  workers = startWorkers(hub.running.services, { blockMs: 100, onDispatch: handed.onDispatch });
  sa = await superAdminToken(hub);
  project = await pipelineProject(hub, sa);
});
afterAll(async () => {
  await workers?.close();
  await hub.close();
});

describe('POST /events → notification', () => {
  it('stores the event, one notification and a receipt per active user of the target roles, then dispatches', async () => {
    const members = await addUsers(hub, project.id, project.roles.member, 3);
    const managers = await addUsers(hub, project.id, project.roles.rule_manager, 1);
    await addUsers(hub, project.id, project.roles.member, 1, 'suspended');
    await addUsers(hub, project.id, project.roles.member, 1, 'pending');
    // A manager who is also a member gets one receipt.
    await hub.running.db.forProject(project.id).userRole.create({
      data: { projectId: project.id, userId: managers[0]!, roleId: project.roles.member },
    });
    const rule = await createRule(hub, project, {
      condition: 'event.type == "transfer.failed" && event.payload.amount > 10000',
      targetRoles: [project.roles.member, project.roles.rule_manager],
      title: 'Transfer of {{event.payload.amount}} failed',
      body: 'Account {{event.payload.account}}: {{event.payload.missing}}.',
      priority: 5,
    });

    const dispatched = handed.next((m) => m.projectId === project.id);
    const res = await postEvent(hub, project, {
      type: 'transfer.failed',
      payload: { amount: 12000, account: 'FR76-1' },
      source: 'core',
    });
    expect(res.status).toBe(202);
    // How fast: bench/pipeline.ts and bench/e2e.ts; here only what arrives.
    const message = await dispatched;
    expect(message.userIds).toEqual([...members, ...managers].sort());

    const db = hub.running.db.forProject(project.id);
    const event = await db.event.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(event).toMatchObject({
      status: 'processed',
      type: 'transfer.failed',
      source: 'core',
      attempts: 1,
    });
    expect(event.matchedRules).toEqual([rule.id]);
    const notification = await db.notification.findUniqueOrThrow({ where: { id: message.notificationId } });
    expect(notification).toMatchObject({
      eventId: res.body.id,
      ruleId: rule.id,
      kind: 'alert',
      title: 'Transfer of 12000 failed',
      body: 'Account FR76-1: .',
      priority: 5,
    });
    const receipts = await db.notificationReceipt.findMany({ where: { notificationId: notification.id } });
    expect(receipts.map((r) => r.userId).sort()).toEqual(message.userIds);

    const detail = await api(hub, 'GET', `/api/v1/events/${res.body.id}`, undefined, {
      token: project.adminToken,
    });
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      status: 'processed',
      matchedRules: [rule.id],
      notifications: [{ id: notification.id, ruleId: rule.id, kind: 'alert', recipients: 4 }],
    });
  });

  it("moves the recipients' unread counters", async () => {
    const [user] = await addUsers(hub, project.id, project.roles.member, 1);
    const deps = hub.running.services;
    expect(await unreadCount(deps, project.id, user!)).toBe(0); // builds the counter
    const dispatched = handed.next((m) => m.userIds.includes(user!));
    await postEvent(hub, project, { type: 'transfer.failed', payload: { amount: 20000 } });
    await dispatched;
    await eventually(
      () => unreadCount(deps, project.id, user!),
      (count) => count === 1,
    );
  });

  it('picks up a rule change whose bus message was missed, by the version check', async () => {
    const db = hub.running.db.forProject(project.id);
    const { redis, keys } = hub.running.services;
    const processed = async (type: string) => {
      const res = await postEvent(hub, project, { type, payload: {} });
      return eventually(
        () => db.event.findUnique({ where: { id: res.body.id } }),
        (row) => row !== null,
      );
    };
    await processed('heal.me'); // the consumer now holds this project's rule set
    // A rule written as another node would, whose announcement never arrived here.
    const rule = await db.rule.create({
      data: {
        projectId: project.id,
        name: 'missed',
        condition: 'event.type == "heal.me"',
        targetRoles: [project.roles.member],
        title: 't',
        body: 'b',
      },
    });
    await redis.incr(keys.rulesVersion(project.id));
    // Each new event is checked against the version until one matches the missed rule.
    await eventually(
      async () => (await processed('heal.me'))!.matchedRules as unknown[],
      (matched) => matched.includes(rule.id),
    );
  });

  it('with ?wait= answers 200 processed once the notification is in the inbox', async () => {
    const [member] = await addUsers(hub, project.id, project.roles.member, 1);
    await createRule(hub, project, {
      condition: 'event.type == "wait.for.me"',
      targetRoles: [project.roles.member],
      title: 'Waited for',
    });
    const res = await postEvent(hub, project, { type: 'wait.for.me', payload: {} }, {}, 30);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: expect.any(String), status: 'processed' });
    // No waiting here: the answer came after the commit.
    const receipt = await hub.running.db.forProject(project.id).notificationReceipt.findFirst({
      where: { userId: member, notification: { eventId: res.body.id } },
      include: { notification: { select: { title: true } } },
    });
    expect(receipt?.notification.title).toBe('Waited for');

    // An idempotent repeat of a settled event answers at once.
    const repeat = () =>
      postEvent(hub, project, { type: 'x', payload: {} }, { 'Idempotency-Key': `wait-${res.body.id}` }, 30);
    const first = await repeat();
    const started = Date.now();
    const again = await repeat();
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ id: first.body.id, status: 'processed' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stores an event no rule matches as processed, without notifications', async () => {
    const res = await postEvent(hub, project, { type: 'nothing.matches', payload: {} });
    const db = hub.running.db.forProject(project.id);
    const event = await eventually(
      () => db.event.findUnique({ where: { id: res.body.id } }),
      (row) => row !== null,
    );
    expect(event).toMatchObject({ status: 'processed', matchedRules: [] });
    expect(await db.notification.count({ where: { eventId: res.body.id } })).toBe(0);
  });
});
