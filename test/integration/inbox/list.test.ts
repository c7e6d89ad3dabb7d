// GET /api/v1/notifications: the caller's inbox, newest first, with an opaque cursor and filters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { createRule, createUser, type TestUser } from './fixtures.js';
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

const list = (user: TestUser, query = '') =>
  api(hub, 'GET', `/api/v1/notifications${query}`, undefined, { token: user.token });

async function readAll(user: TestUser, query: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await list(user, `?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    ids.push(...res.body.items.map((n: { id: string }) => n.id));
    cursor = res.body.nextCursor;
  } while (cursor);
  return ids;
}

describe('cursor pagination', () => {
  it('walks every notification newest first, without gaps or repeats, ties broken by id', async () => {
    const user = await createUser(hub, project.id);
    const base = Date.now() - 60_000;
    // Groups of three share a millisecond, so the cursor must break ties.
    const ids = await insertNotifications(hub, project.id, [user.id], 23, {
      createdAt: (i) => new Date(base + Math.floor(i / 3) * 1000),
    });
    const pages = await readAll(user, '', 5);
    const expected = await hub.running.db.forProject(project.id).notificationReceipt.findMany({
      where: { userId: user.id },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      select: { notificationId: true },
    });
    expect(pages).toEqual(expected.map((r) => r.notificationId));
    expect(new Set(pages)).toEqual(new Set(ids));
    expect(new Set(pages.slice(0, 2))).toEqual(new Set(ids.slice(21)));
  });

  it('neither repeats nor skips while new notifications arrive between pages', async () => {
    const user = await createUser(hub, project.id);
    const old = await insertNotifications(hub, project.id, [user.id], 10, {
      createdAt: (i) => new Date(Date.now() - 100_000 + i),
    });
    const first = await list(user, '?limit=4');
    await insertNotifications(hub, project.id, [user.id], 3);
    const seen = [...first.body.items.map((n: { id: string }) => n.id)];
    let cursor = first.body.nextCursor;
    while (cursor) {
      const res = await list(user, `?limit=4&cursor=${cursor}`);
      seen.push(...res.body.items.map((n: { id: string }) => n.id));
      cursor = res.body.nextCursor;
    }
    expect(seen).toEqual([...old].reverse());
  });

  it('refuses a cursor it did not make, and bad limits', async () => {
    const user = await createUser(hub, project.id);
    expectError(await list(user, '?cursor=garbage'), 400, 'cursor_invalid');
    expectError(
      await list(user, `?cursor=${Buffer.from('1.x').toString('base64url')}`),
      400,
      'cursor_invalid',
    );
    expectError(await list(user, '?limit=0'), 400, 'validation_failed');
    expectError(await list(user, '?limit=201'), 400, 'validation_failed');
  });
});

describe('filters', () => {
  let user: TestUser;
  let ids: string[];
  let ruleId: string;
  const base = Date.UTC(2030, 0, 1);

  beforeAll(async () => {
    user = await createUser(hub, project.id);
    ruleId = await createRule(hub, project.id);
    ids = await insertNotifications(hub, project.id, [user.id], 3, {
      createdAt: (i) => new Date(base + i * 60_000),
    });
    ids.push(
      ...(await insertNotifications(hub, project.id, [user.id], 2, {
        ruleId,
        createdAt: (i) => new Date(base + (3 + i) * 60_000),
      })),
    );
    // ids[0] read, ids[1] acknowledged (and so read), ids[2] hidden, ids[3..4] untouched.
    await api(hub, 'GET', `/api/v1/notifications/${ids[0]}`, undefined, { token: user.token });
    await api(hub, 'PUT', `/api/v1/notifications/${ids[1]}/acknowledge`, undefined, { token: user.token });
    await api(hub, 'DELETE', `/api/v1/notifications/${ids[2]}`, undefined, { token: user.token });
  });

  const idsOf = async (query: string) =>
    (await list(user, query)).body.items.map((n: { id: string }) => n.id);

  it('leaves hidden notifications out', async () => {
    expect(await idsOf('')).toEqual([ids[4], ids[3], ids[1], ids[0]]);
  });

  it('filters by read and acknowledged state', async () => {
    expect(await idsOf('?unread=true')).toEqual([ids[4], ids[3]]);
    expect(await idsOf('?unread=false')).toEqual([ids[1], ids[0]]);
    expect(await idsOf('?acknowledged=true')).toEqual([ids[1]]);
    expect(await idsOf('?acknowledged=false&unread=false')).toEqual([ids[0]]);
  });

  it('filters by time received (both ends inclusive) and by rule', async () => {
    const at = (i: number) => new Date(base + i * 60_000).toISOString();
    expect(await idsOf(`?from=${at(1)}&to=${at(3)}`)).toEqual([ids[3], ids[1]]);
    expect(await idsOf(`?from=${at(4)}`)).toEqual([ids[4]]);
    expect(await idsOf(`?ruleId=${ruleId}`)).toEqual([ids[4], ids[3]]);
  });

  it('refuses bad filter values', async () => {
    for (const query of ['?unread=yes', '?acknowledged=1', '?from=yesterday', '?ruleId=abc']) {
      expectError(await list(user, query), 400, 'validation_failed');
    }
  });
});

describe('who sees what', () => {
  it("shows only the caller's own notifications of their own project", async () => {
    const other = await createTestProject(hub, sa);
    const [me, neighbour, stranger] = await Promise.all([
      createUser(hub, project.id),
      createUser(hub, project.id),
      createUser(hub, other.id),
    ]);
    const mine = await insertNotifications(hub, project.id, [me.id], 2);
    await insertNotifications(hub, project.id, [neighbour.id], 2);
    await insertNotifications(hub, other.id, [stranger.id], 2);
    expect(new Set(await readAll(me, '', 50))).toEqual(new Set(mine));
  });

  it('needs a user token', async () => {
    expectError(await api(hub, 'GET', '/api/v1/notifications'), 401, 'auth_required');
    expectError(
      await api(hub, 'GET', '/api/v1/notifications', undefined, { token: sa, projectId: project.id }),
      403,
      'user_token_required',
    );
  });
});
