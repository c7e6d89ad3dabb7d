// Presence bookkeeping in the real Redis, in one process: a user stays present while any of
// their connections remains, on any node; reaping a dead node removes only what it held.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis, redisKeys } from '../../../src/core/redis.js';
import { createPresence } from '../../../src/realtime/presence.js';
import { testConfig } from '../../support/env.js';

const config = testConfig();
const redis = createRedis(config.redis.url, 'presence-test');
const keys = redisKeys(config.redis.prefix);
const nodeA = createPresence({ redis, keys, nodeId: () => 'node-a' });
const nodeB = createPresence({ redis, keys, nodeId: () => 'node-b' });
afterAll(() => redis.disconnect());

const channel = 'presence-room';
const member = (userId: string) => ({ userId, info: JSON.stringify({ name: userId }) });

describe('presence', () => {
  it('removes a user only when their last connection leaves, whichever node holds it', async () => {
    const project = randomUUID();
    const first = await nodeA.join(project, channel, '1.1', member('ann'));
    expect(first).toMatchObject({ status: 'joined', firstConnection: true });
    const second = await nodeB.join(project, channel, '2.1', member('ann'));
    expect(second).toMatchObject({ status: 'joined', firstConnection: false });
    await nodeA.join(project, channel, '1.2', member('bob'));

    expect(await nodeA.leave(project, channel, '1.1')).toBeUndefined();
    expect(await nodeA.isPresent(project, channel, 'ann')).toBe(true);
    expect((await nodeA.userIds(project, channel)).sort()).toEqual(['ann', 'bob']);
    expect(await nodeA.count(project, channel)).toBe(2);

    expect(await nodeB.leave(project, channel, '2.1')).toBe('ann');
    expect(await nodeA.isPresent(project, channel, 'ann')).toBe(false);
    expect(await nodeA.userIds(project, channel)).toEqual(['bob']);
    // Leaving twice is not a second departure.
    expect(await nodeB.leave(project, channel, '2.1')).toBeUndefined();
  });

  it('reaps only the connections of the dead node', async () => {
    const project = randomUUID();
    await nodeA.join(project, channel, '1.1', member('ann'));
    await nodeB.join(project, channel, '2.1', member('ann'));
    await nodeA.join(project, channel, '1.2', member('cy'));
    expect(await nodeB.reap(project, 'node-a')).toEqual([{ group: channel, userId: 'cy' }]);
    expect(await nodeB.userIds(project, channel)).toEqual(['ann']);
  });

  it('refuses a new user when the channel is full, not another connection of a member', async () => {
    const project = randomUUID();
    await nodeA.join(project, channel, '1.1', member('ann'), 2);
    await nodeA.join(project, channel, '1.2', member('bob'), 2);
    expect(await nodeA.join(project, channel, '1.3', member('cy'), 2)).toEqual({ status: 'full' });
    const again = await nodeB.join(project, channel, '2.1', member('ann'), 2);
    expect(again).toMatchObject({ status: 'joined', firstConnection: false });
    expect([...(again as { members: Map<string, unknown> }).members.entries()].sort()).toEqual([
      ['ann', { name: 'ann' }],
      ['bob', { name: 'bob' }],
    ]);
  });
});
