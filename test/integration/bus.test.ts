import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus, shardOf, BUS_SHARDS, type Bus, type BusMessage } from '../../src/core/bus.js';
import { createLogger } from '../../src/core/log.js';
import { createRedis, redisKeys } from '../../src/core/redis.js';
import { testConfig } from '../support/env.js';

const config = testConfig();
const log = createLogger({ level: 'silent' });
const connections = Array.from({ length: 3 }, (_, i) => createRedis(config.redis.url, `bus-test-${i}`));
let nodeA: Bus;
let nodeB: Bus;

beforeAll(async () => {
  const keys = redisKeys(config.redis.prefix);
  nodeA = createBus({ publisher: connections[0]!, subscriber: connections[1]!, keys, log });
  nodeB = createBus({ publisher: connections[0]!, subscriber: connections[2]!, keys, log });
  await Promise.all([nodeA.ready, nodeB.ready]);
});
afterAll(async () => {
  await nodeA.close();
  await nodeB.close();
  for (const c of connections) c.disconnect();
});

const nextMessage = <T extends BusMessage['type']>(bus: Bus, type: T) =>
  new Promise<Extract<BusMessage, { type: T }>>((resolve) => {
    const off = bus.on(type, (message) => {
      off();
      resolve(message);
    });
  });

describe('bus', () => {
  it('delivers a typed message to every node, whatever its shard', async () => {
    const projects = ['p-1', 'p-2', 'p-3', 'another-project'];
    expect(new Set(projects.map((p) => shardOf(p))).size).toBeGreaterThan(1);
    for (const projectId of projects) {
      const onA = nextMessage(nodeA, 'rules.changed');
      const onB = nextMessage(nodeB, 'rules.changed');
      await nodeA.publish({ type: 'rules.changed', projectId, version: 7 });
      expect(await onA).toEqual({ type: 'rules.changed', projectId, version: 7 });
      expect(await onB).toEqual({ type: 'rules.changed', projectId, version: 7 });
    }
  });

  it('routes only to handlers of the message type', async () => {
    const seen: string[] = [];
    const off = nodeB.on('project.changed', (m) => seen.push(m.type));
    const rules = nextMessage(nodeB, 'rules.changed');
    await nodeA.publish({ type: 'rules.changed', projectId: 'p', version: 1 });
    await rules;
    off();
    expect(seen).toEqual([]);
  });

  it('maps a project to a stable shard in range', () => {
    for (let i = 0; i < 100; i++) {
      const shard = shardOf(`project-${i}`);
      expect(shard).toBe(shardOf(`project-${i}`));
      expect(shard).toBeGreaterThanOrEqual(0);
      expect(shard).toBeLessThan(BUS_SHARDS);
    }
  });
});
