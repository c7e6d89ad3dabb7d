// One notification of the inbox: read, acknowledge, web-view actions, hide, and the admins'
// receipts; another user's or project's notification is always a 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { createUser, type TestUser } from './fixtures.js';
import { insertNotifications } from './notifications.js';

let hub: TestHub;
let sa: string;
let project: TestProject;
let other: TestProject;
let alice: TestUser;
let bob: TestUser;
let stranger: TestUser;

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
  [project, other] = await Promise.all([createTestProject(hub, sa), createTestProject(hub, sa)]);
  [alice, bob, stranger] = await Promise.all([
    createUser(hub, project.id),
    createUser(hub, project.id),
    createUser(hub, other.id),
  ]);
});
afterAll(() => hub.close());

const get = (user: TestUser, path: string) =>
  api(hub, 'GET', `/api/v1/notifications${path}`, undefined, { token: user.token });
const send = (user: TestUser, method: string, path: string, body?: unknown) =>
  api(hub, method, `/api/v1/notifications${path}`, body, { token: user.token });
const unread = async (user: TestUser) => (await get(user, '/unread-count')).body.count as number;

describe('GET /api/v1/notifications/:id', () => {
  it('returns the notification and marks it read on the first read only', async () => {
    const [id] = await insertNotifications(hub, project.id, [alice.id, bob.id]);
    const before = await unread(alice);
    const first = await get(alice, `/${id}`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id, title: 'Alert 0', body: 'Body 0', data: { i: 0 }, sound: null });
    expect(first.body.readAt).toEqual(expect.any(String));
    expect(await unread(alice)).toBe(before - 1);
    const second = await get(alice, `/${id}`);
    expect(second.body.readAt).toBe(first.body.readAt);
    expect(await unread(alice)).toBe(before - 1);
    // Bob's copy is his own.
    const bobs = await hub.running.db
      .forProject(project.id)
      .notificationReceipt.findFirstOrThrow({ where: { notificationId: id, userId: bob.id } });
    expect(bobs.readAt).toBeNull();
  });

  it("carries the rule's sound with a signed URL", async () => {
    const sound = await hub.running.db.forProject(project.id).sound.create({
      data: {
        projectId: project.id,
        name: 'Siren',
        fileName: 'siren.wav',
        mimeType: 'audio/wav',
        sizeBytes: 100,
        storageKey: `${project.id}/sounds/siren.wav`,
      },
    });
    const [id] = await insertNotifications(hub, project.id, [alice.id], 1, { soundId: sound.id });
    const res = await get(alice, `/${id}`);
    expect(res.body.sound).toEqual({
      id: sound.id,
      name: 'Siren',
      fileName: 'siren.wav',
      url: expect.stringMatching(
        new RegExp(`/files/${project.id}/sounds/siren\\.wav\\?expires=\\d+&signature=[0-9a-f]{64}$`),
      ),
    });
    const listed = await get(alice, '?limit=1');
    expect(listed.body.items[0].sound.id).toBe(sound.id);
  });

  it("is 404 for another user's, another project's and an unknown notification, 400 for a bad id", async () => {
    const [mine] = await insertNotifications(hub, project.id, [alice.id]);
    const [theirs] = await insertNotifications(hub, other.id, [stranger.id]);
    expectError(await get(bob, `/${mine}`), 404, 'not_found');
    expectError(await get(alice, `/${theirs}`), 404, 'not_found');
    expectError(await get(stranger, `/${mine}`), 404, 'not_found');
    expectError(await get(alice, '/0190f7a4-0000-7000-8000-000000000000'), 404, 'not_found');
    expectError(await get(alice, '/not-a-uuid'), 400, 'validation_failed');
  });

  it('needs a user token: 401 without one, 403 for a super admin', async () => {
    const [id] = await insertNotifications(hub, project.id, [alice.id]);
    expectError(await api(hub, 'GET', `/api/v1/notifications/${id}`), 401, 'auth_required');
    expectError(
      await api(hub, 'GET', `/api/v1/notifications/${id}`, undefined, { token: sa, projectId: project.id }),
      403,
      'user_token_required',
    );
  });
});

describe('PUT /api/v1/notifications/:id/acknowledge', () => {
  it('acknowledges once, keeps the first time, and reads it too', async () => {
    const [id] = await insertNotifications(hub, project.id, [alice.id]);
    const before = await unread(alice);
    const first = await send(alice, 'PUT', `/${id}/acknowledge`);
    expect(first.status).toBe(200);
    expect(first.body.acknowledgedAt).toEqual(expect.any(String));
    expect(first.body.readAt).toBe(first.body.acknowledgedAt);
    const again = await send(alice, 'PUT', `/${id}/acknowledge`);
    expect(again.status).toBe(200);
    expect(again.body.acknowledgedAt).toBe(first.body.acknowledgedAt);
    expect(await unread(alice)).toBe(before - 1);
  });

  it("is 404 for another user's or project's notification, 401 without a token", async () => {
    const [mine] = await insertNotifications(hub, project.id, [alice.id]);
    expectError(await send(bob, 'PUT', `/${mine}/acknowledge`), 404, 'not_found');
    expectError(await send(stranger, 'PUT', `/${mine}/acknowledge`), 404, 'not_found');
    expectError(await api(hub, 'PUT', `/api/v1/notifications/${mine}/acknowledge`), 401);
    expectError(await send(alice, 'PUT', '/nope/acknowledge'), 400, 'validation_failed');
  });
});

describe('POST /api/v1/notifications/:id/webview-action', () => {
  it('records the action in the audit trail', async () => {
    const [id] = await insertNotifications(hub, project.id, [alice.id]);
    const res = await send(alice, 'POST', `/${id}/webview-action`, {
      action: 'confirm',
      data: { transferId: 't-1' },
    });
    expect(res.status).toBe(204);
    await hub.running.services.audit.flush();
    const row = await hub.running.db.forProject(project.id).auditLog.findFirst({
      where: { action: 'notification.webview_action', resourceId: id },
    });
    expect(row).toMatchObject({
      actorType: 'user',
      actorId: alice.id,
      resourceType: 'notification',
      metadata: { action: 'confirm', data: { transferId: 't-1' } },
    });
  });

  it('validates the body and limits its data', async () => {
    const [id] = await insertNotifications(hub, project.id, [alice.id]);
    for (const body of [
      {},
      { action: '' },
      { action: 'has space' },
      { action: 'x'.repeat(65) },
      { action: 'ok', data: [1] },
    ]) {
      expectError(await send(alice, 'POST', `/${id}/webview-action`, body), 400, 'validation_failed');
    }
    expectError(
      await send(alice, 'POST', `/${id}/webview-action`, { action: 'ok', data: { blob: 'x'.repeat(5000) } }),
      413,
      'payload_too_large',
    );
  });

  it("is 404 for another user's notification and 401 without a token", async () => {
    const [id] = await insertNotifications(hub, project.id, [alice.id]);
    expectError(await send(bob, 'POST', `/${id}/webview-action`, { action: 'confirm' }), 404, 'not_found');
    expectError(
      await api(hub, 'POST', `/api/v1/notifications/${id}/webview-action`, { action: 'confirm' }),
      401,
    );
  });
});

describe('DELETE /api/v1/notifications/:id', () => {
  it('hides it for that user only', async () => {
    const [id] = await insertNotifications(hub, project.id, [alice.id, bob.id]);
    const [aliceBefore, bobBefore] = [await unread(alice), await unread(bob)];
    expect((await send(alice, 'DELETE', `/${id}`)).status).toBe(204);
    expect(await unread(alice)).toBe(aliceBefore - 1);
    expect(await unread(bob)).toBe(bobBefore);
    expectError(await get(alice, `/${id}`), 404, 'not_found');
    expectError(await send(alice, 'PUT', `/${id}/acknowledge`), 404, 'not_found');
    expectError(await send(alice, 'DELETE', `/${id}`), 404, 'not_found');
    expect((await get(alice, '?limit=200')).body.items.map((n: { id: string }) => n.id)).not.toContain(id);
    expect((await get(bob, `/${id}`)).status).toBe(200);
  });

  it("is 404 for another user's or project's notification, 401 without a token", async () => {
    const [id] = await insertNotifications(hub, project.id, [alice.id]);
    expectError(await send(bob, 'DELETE', `/${id}`), 404, 'not_found');
    expectError(await send(stranger, 'DELETE', `/${id}`), 404, 'not_found');
    expectError(await api(hub, 'DELETE', `/api/v1/notifications/${id}`), 401);
    expectError(await send(alice, 'DELETE', '/nope'), 400, 'validation_failed');
    expect((await get(alice, `/${id}`)).status).toBe(200);
  });
});

describe('GET /api/v1/notifications/:id/receipts', () => {
  it('shows admins who received, read and acknowledged it, over which channel', async () => {
    const [id] = await insertNotifications(hub, project.id, [alice.id, bob.id]);
    await hub.running.db.forProject(project.id).notificationReceipt.updateMany({
      where: { notificationId: id, userId: bob.id },
      data: { channel: 'fcm', deliveredAt: new Date() },
    });
    await send(alice, 'PUT', `/${id}/acknowledge`);
    const res = await api(hub, 'GET', `/api/v1/notifications/${id}/receipts`, undefined, {
      token: project.adminToken,
    });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(2);
    const byUser = Object.fromEntries(res.body.items.map((r: { user: { id: string } }) => [r.user.id, r]));
    expect(byUser[alice.id]).toMatchObject({
      acknowledgedAt: expect.any(String),
      readAt: expect.any(String),
      channel: null,
    });
    expect(byUser[bob.id]).toMatchObject({ channel: 'fcm', deliveredAt: expect.any(String), readAt: null });
    expect(byUser[bob.id].user).toEqual({
      id: bob.id,
      email: expect.stringContaining('@inbox.test'),
      fullName: 'Inbox User',
    });

    const viaSuperAdmin = await api(hub, 'GET', `/api/v1/notifications/${id}/receipts`, undefined, {
      token: sa,
      projectId: project.id,
    });
    expect(viaSuperAdmin.body.total).toBe(2);
  });

  it('needs notifications:admin, and hides other projects', async () => {
    const [id] = await insertNotifications(hub, project.id, [alice.id]);
    const auditor = await createUser(hub, project.id, ['notifications:admin']);
    expect((await get(auditor, `/${id}/receipts`)).status).toBe(200);
    expectError(await get(alice, `/${id}/receipts`), 403, 'permission_denied');
    expectError(await api(hub, 'GET', `/api/v1/notifications/${id}/receipts`), 401);
    const outsider = await createUser(hub, other.id, ['notifications:admin']);
    expectError(await get(outsider, `/${id}/receipts`), 404, 'not_found');
    expectError(await get(auditor, '/0190f7a4-0000-7000-8000-000000000000/receipts'), 404, 'not_found');
    expectError(await get(auditor, `/${id}/receipts?pageSize=0`), 400, 'validation_failed');
  });
});
