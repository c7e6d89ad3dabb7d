// GET /api/v1/notifications/unread-count and the counter behind it: right through reads, acks
// and hides, exact under concurrent requests, rebuilt from MySQL when Redis lost it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countUnread, incrementUnread, unreadCounts } from '../../../src/domain/unread.js';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { createUser, type TestUser } from './fixtures.js';
import { insertNotifications } from './notifications.js';

let hub: TestHub;
let sa: string;
let project: TestProject;

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
  project = await createTestProject(hub, sa);
});
afterAll(() => hub.close());

const call = (user: TestUser, method: string, path: string) =>
  api(hub, method, `/api/v1/notifications${path}`, undefined, { token: user.token });

async function unread(user: TestUser): Promise<number> {
  const res = await call(user, 'GET', '/unread-count');
  expect(res.status).toBe(200);
  return res.body.count;
}

const counterKey = (user: TestUser) => hub.running.services.keys.projectKey(project.id, 'unread', user.id);

/** The endpoint agrees with a COUNT(*) over the receipts. */
async function expectUnread(user: TestUser, expected: number) {
  expect(await unread(user)).toBe(expected);
  expect(await countUnread(hub.running.services, project.id, user.id)).toBe(expected);
}

describe('unread count', () => {
  it('follows new notifications, reads, acknowledgements and hides', async () => {
    const user = await createUser(hub, project.id);
    await expectUnread(user, 0);
    const ids = await insertNotifications(hub, project.id, [user.id], 6);
    await expectUnread(user, 6);
    await call(user, 'GET', `/${ids[0]}`);
    await call(user, 'GET', `/${ids[0]}`);
    await expectUnread(user, 5);
    await call(user, 'PUT', `/${ids[1]}/acknowledge`);
    await call(user, 'PUT', `/${ids[0]}/acknowledge`); // already read: no change
    await expectUnread(user, 4);
    await call(user, 'DELETE', `/${ids[2]}`); // unread, hidden
    await call(user, 'DELETE', `/${ids[0]}`); // read, hidden: no change
    await expectUnread(user, 3);
    await call(user, 'GET', '?limit=50'); // listing does not read
    await expectUnread(user, 3);
  });

  it('moves exactly once per notification under concurrent reads, acks and hides', async () => {
    const user = await createUser(hub, project.id);
    const ids = await insertNotifications(hub, project.id, [user.id], 12);
    await expectUnread(user, 12);
    const requests = ids
      .slice(0, 10)
      .flatMap((id) => [
        call(user, 'PUT', `/${id}/acknowledge`),
        call(user, 'PUT', `/${id}/acknowledge`),
        call(user, 'GET', `/${id}`),
        call(user, 'PUT', `/${id}/acknowledge`),
      ]);
    requests.push(call(user, 'DELETE', `/${ids[0]}`), call(user, 'DELETE', `/${ids[1]}`));
    const statuses = (await Promise.all(requests)).map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 204 || s === 404)).toBe(true);
    await expectUnread(user, 2);
  });

  it('keeps the first acknowledgement time when acks race', async () => {
    const user = await createUser(hub, project.id);
    const [id] = await insertNotifications(hub, project.id, [user.id]);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => call(user, 'PUT', `/${id}/acknowledge`)),
    );
    const row = await hub.running.db
      .forProject(project.id)
      .notificationReceipt.findFirstOrThrow({ where: { notificationId: id, userId: user.id } });
    expect(new Set(answers.map((r) => r.body.acknowledgedAt))).toEqual(
      new Set([row.acknowledgedAt!.toISOString()]),
    );
    await expectUnread(user, 0);
  });

  it('is rebuilt from MySQL when the counter is missing, and deltas never create one', async () => {
    const user = await createUser(hub, project.id);
    const ids = await insertNotifications(hub, project.id, [user.id], 4);
    await call(user, 'GET', `/${ids[0]}`);
    await hub.running.services.redis.del(counterKey(user));
    // A delta on a missing counter must not start it at 1.
    await incrementUnread(hub.running.services, project.id, [user.id]);
    expect(await hub.running.services.redis.exists(counterKey(user))).toBe(0);
    await expectUnread(user, 3);
    expect(await hub.running.services.redis.ttl(counterKey(user))).toBeGreaterThan(0);
    await call(user, 'GET', `/${ids[1]}`);
    await expectUnread(user, 2);
  });

  it('answers for many users at once (push badges), per project', async () => {
    const other = await createTestProject(hub, sa);
    const [a, b] = [await createUser(hub, project.id), await createUser(hub, project.id)];
    const stranger = await createUser(hub, other.id);
    await insertNotifications(hub, project.id, [a.id, b.id], 2);
    await insertNotifications(hub, project.id, [a.id], 1);
    await insertNotifications(hub, other.id, [stranger.id], 5);
    const counts = await unreadCounts(hub.running.services, project.id, [a.id, b.id, stranger.id]);
    expect(Object.fromEntries(counts)).toEqual({ [a.id]: 3, [b.id]: 2, [stranger.id]: 0 });
    expect(await unread(stranger)).toBe(5);
  });

  it('needs a user token', async () => {
    expectError(await api(hub, 'GET', '/api/v1/notifications/unread-count'), 401, 'auth_required');
    expectError(
      await api(hub, 'GET', '/api/v1/notifications/unread-count', undefined, {
        token: sa,
        projectId: project.id,
      }),
      403,
      'user_token_required',
    );
  });
});
