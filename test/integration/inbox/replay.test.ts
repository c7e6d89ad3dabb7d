// Replay on subscription (src/gateway/notifications.ts): what the user has not acknowledged,
// oldest first, marked delivered; past REPLAY_LIMIT the client is told to read its inbox.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  notificationHooks,
  REPLAY_LIMIT,
  REPLAY_TRUNCATED_EVENT,
} from '../../../src/gateway/notifications.js';
import { createTestProject, superAdminToken, type TestProject } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { createUser } from './fixtures.js';
import { insertNotifications } from './notifications.js';

let hub: TestHub;
let project: TestProject;
let replay: (userId: string) => Promise<Array<{ event: string; data: string }>>;

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  project = await createTestProject(hub, await superAdminToken(hub));
  const hooks = notificationHooks(hub.running.services);
  replay = (userId) => hooks.userChannelSubscribed(project.id, userId, '1.1');
});
afterAll(() => hub.close());

const base = Date.now() - 3_600_000;
const idsOf = (events: Array<{ event: string; data: string }>) =>
  events.filter((e) => e.event === 'notification').map((e) => (JSON.parse(e.data) as { id: string }).id);

describe('replay on subscription', () => {
  it('sends every unacknowledged notification oldest first, without a notice when all fit', async () => {
    const user = await createUser(hub, project.id);
    const ids = await insertNotifications(hub, project.id, [user.id], REPLAY_LIMIT, {
      createdAt: (i) => new Date(base + i * 1000),
    });
    const events = await replay(user.id);
    expect(idsOf(events)).toEqual(ids);
    expect(events.some((e) => e.event === REPLAY_TRUNCATED_EVENT)).toBe(false);
    const receipts = hub.running.db.forProject(project.id).notificationReceipt;
    expect(await receipts.count({ where: { userId: user.id, deliveredAt: null } })).toBe(0);
    expect(await receipts.count({ where: { userId: user.id, channel: 'gateway' } })).toBe(REPLAY_LIMIT);
  });

  it('cuts at the limit and then tells the client to read the rest from its inbox', async () => {
    const user = await createUser(hub, project.id);
    const ids = await insertNotifications(hub, project.id, [user.id], REPLAY_LIMIT + 2, {
      createdAt: (i) => new Date(base + i * 1000),
    });
    const events = await replay(user.id);
    expect(idsOf(events)).toEqual(ids.slice(0, REPLAY_LIMIT));
    expect(events.at(-1)).toEqual({
      event: REPLAY_TRUNCATED_EVENT,
      data: JSON.stringify({ replayed: REPLAY_LIMIT, inbox: '/api/v1/notifications?acknowledged=false' }),
    });
    // The two left out stay undelivered, for the inbox (and push) to carry.
    const receipts = hub.running.db.forProject(project.id).notificationReceipt;
    const undelivered = await receipts.findMany({
      where: { userId: user.id, deliveredAt: null },
      select: { notificationId: true },
    });
    expect(undelivered.map((r) => r.notificationId).sort()).toEqual(ids.slice(REPLAY_LIMIT).sort());
  });

  it('leaves out what the user acknowledged or hid', async () => {
    const user = await createUser(hub, project.id);
    const [acked, hidden, kept] = await insertNotifications(hub, project.id, [user.id], 3, {
      createdAt: (i) => new Date(base + i * 1000),
    });
    const receipts = hub.running.db.forProject(project.id).notificationReceipt;
    await receipts.updateMany({ where: { notificationId: acked }, data: { acknowledgedAt: new Date() } });
    await receipts.updateMany({ where: { notificationId: hidden }, data: { hiddenAt: new Date() } });
    expect(idsOf(await replay(user.id))).toEqual([kept]);
  });
});
