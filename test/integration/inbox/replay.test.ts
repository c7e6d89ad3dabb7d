// Replay on subscription (src/realtime/notifications.ts over src/domain/replay.ts): what the user
// has not acknowledged, from Redis, oldest first, marked delivered by the worker's receipt
// writer; past REPLAY_LIMIT, or while the project's replays are not built, the client is told
// to read its inbox. Acknowledged (socket or API) and hidden notifications drop out at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgeNotification, hideNotification } from '../../../src/domain/notifications.js';
import { acceptAcknowledgement } from '../../../src/domain/receipt-stream.js';
import { keepForReplay, rebuildReplay, REPLAY_LIMIT } from '../../../src/domain/replay.js';
import { notificationHooks, REPLAY_TRUNCATED_EVENT } from '../../../src/realtime/notifications.js';
import { startReceiptWriter } from '../../../src/workers/receipt-changes.js';
import { createTestProject, superAdminToken, type TestProject } from '../../support/api.js';
import { eventually } from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { createUser } from './fixtures.js';
import { insertNotifications } from './notifications.js';

let hub: TestHub;
let project: TestProject;
let replay: (
  userId: string,
  since?: number,
) => Promise<{ events: Array<{ event: string; data: string }>; readAt: number }>;

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  project = await createTestProject(hub, await superAdminToken(hub));
  const hooks = notificationHooks(hub.running.services);
  replay = (userId, since = 0) => hooks.userChannelSubscribed(project.id, userId, since);
});
afterAll(() => hub.close());

const base = Date.now() - 3_600_000;
const idsOf = ({ events }: { events: Array<{ event: string; data: string }> }) =>
  events.filter((e) => e.event === 'notification').map((e) => (JSON.parse(e.data) as { id: string }).id);
const noticed = ({ events }: { events: Array<{ event: string }> }) =>
  events.some((e) => e.event === REPLAY_TRUNCATED_EVENT);
const receipts = () => hub.running.db.forProject(project.id).notificationReceipt;

/** Notifications stored in MySQL, then the project's replays rebuilt from it (once). */
async function stored(userId: string, count: number) {
  const ids = await insertNotifications(hub, project.id, [userId], count, {
    createdAt: (i) => new Date(base + i * 1000),
  });
  await hub.running.services.redis.del(hub.running.services.keys.tagged(project.id, 'replay-ready'));
  expect(await rebuildReplay(hub.running.services, project.id)).toBe(true);
  return ids;
}

describe('replay on subscription', () => {
  it('tells the client to read its inbox while the project is not rebuilt, and not once it is', async () => {
    const user = await createUser(hub, project.id);
    await hub.running.services.redis.del(hub.running.services.keys.tagged(project.id, 'replay-ready'));
    expect(noticed(await replay(user.id))).toBe(true);
    expect(await rebuildReplay(hub.running.services, project.id)).toBe(true);
    expect(await rebuildReplay(hub.running.services, project.id)).toBe(false);
    const after = await replay(user.id);
    expect(after.events).toEqual([]);
  });

  it('sends every unacknowledged notification oldest first, and the worker marks them delivered', async () => {
    const user = await createUser(hub, project.id);
    const ids = await stored(user.id, REPLAY_LIMIT);
    const events = await replay(user.id);
    expect(idsOf(events)).toEqual(ids);
    expect(noticed(events)).toBe(false);
    const writer = startReceiptWriter(hub.running.services, { blockMs: 50 });
    try {
      await eventually(
        async () =>
          (await receipts().count({ where: { userId: user.id, channel: 'gateway' } })) === REPLAY_LIMIT,
        'every replayed receipt is delivered',
      );
    } finally {
      await writer.close();
    }
    expect(await receipts().count({ where: { userId: user.id, deliveredAt: null } })).toBe(0);
  });

  it('keeps at most the limit and then tells the client to read the rest from its inbox', async () => {
    const user = await createUser(hub, project.id);
    const ids = await stored(user.id, REPLAY_LIMIT + 2);
    const events = await replay(user.id);
    expect(idsOf(events)).toEqual(ids.slice(0, REPLAY_LIMIT));
    expect(events.events.at(-1)).toEqual({
      event: REPLAY_TRUNCATED_EVENT,
      data: JSON.stringify({ replayed: REPLAY_LIMIT, inbox: '/api/v1/notifications?acknowledged=false' }),
    });
  });

  it('leaves out what the user acknowledged over a socket or the API, or hid', async () => {
    const user = await createUser(hub, project.id);
    const [bySocket, byApi, hidden, kept] = await stored(user.id, 4);
    const { services } = hub.running;
    await acceptAcknowledgement(services, project.id, user.id, bySocket!);
    await acknowledgeNotification(services, project.id, user.id, byApi!);
    await hideNotification(services, project.id, user.id, hidden!);
    expect(idsOf(await replay(user.id))).toEqual([kept]);
  });

  it('sends again only what was added since the given read', async () => {
    const user = await createUser(hub, project.id);
    const [first] = await stored(user.id, 1);
    const full = await replay(user.id);
    expect(idsOf(full)).toEqual([first]);
    expect(idsOf(await replay(user.id, full.readAt + 1))).toEqual([]);
    const item = JSON.parse(full.events[0]!.data) as Parameters<typeof keepForReplay>[2][number]['item'];
    const later = { ...item, id: '0190a000-0000-7000-8000-000000000001' };
    await keepForReplay(hub.running.services, project.id, [{ userId: user.id, item: later }]);
    expect(idsOf(await replay(user.id, full.readAt))).toEqual([later.id]);
  });
});
