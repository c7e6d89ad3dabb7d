// Gateway nodes and their leases. Each node registers under an id and renews a lease key in
// Redis; everything it writes to shared state (presence, channel counts, connections) is
// indexed by that id and by project. Every node also runs the reaper: a node whose lease ran
// out is dead, and one live node (holding a lock) removes its state project by project.
// A node that finds its own lease gone (Redis was away too long, and it may have been reaped)
// closes its sockets so their state is rebuilt, and continues under a new id. The lease holds
// the node's connection count and renewal time, for /api/v1/status.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../core/log.js';
import type { RedisKeys } from '../core/redis.js';
import type { GatewayNodeInfo } from '../domain/status.js';

export const DEFAULT_LEASE_MS = 10_000;
const REAP_LOCK_MS = 60_000;

/** The registry's keys: the set of node ids, and per node its lease, projects and reap lock. */
export const nodeKeys = (keys: RedisKeys) => ({
  nodes: keys.system('gw', 'nodes'),
  lease: (nodeId: string) => keys.system('gw', 'node', nodeId, 'lease'),
  projects: (nodeId: string) => keys.system('gw', 'node', nodeId, 'projects'),
  lock: (nodeId: string) => keys.system('gw', 'node', nodeId, 'reaping'),
});

/** Every registered node as its lease describes it. */
export async function readGatewayNodes(redis: Redis, keys: RedisKeys): Promise<GatewayNodeInfo[]> {
  const names = nodeKeys(keys);
  const ids = (await redis.smembers(names.nodes)).sort();
  if (ids.length === 0) return [];
  const leases = await redis.mget(ids.map(names.lease));
  return ids.map((id, i) => {
    const lease = leases[i];
    if (lease == null) return { id, alive: false, connections: null, renewedAt: null };
    const { connections, renewedAt } = parseLease(lease);
    return { id, alive: true, connections, renewedAt };
  });
}

function parseLease(value: string): { connections: number | null; renewedAt: string | null } {
  try {
    const lease = JSON.parse(value) as { connections?: unknown; renewedAt?: unknown };
    return {
      connections: typeof lease.connections === 'number' ? lease.connections : null,
      renewedAt: typeof lease.renewedAt === 'number' ? new Date(lease.renewedAt).toISOString() : null,
    };
  } catch {
    return { connections: null, renewedAt: null }; // a lease written before it held anything
  }
}

export interface NodeRegistry {
  /** This node's current id (it changes only after the node lost its lease). */
  id(): string;
  /** Records that this node holds state in a project, so the reaper finds it there. */
  holds(projectId: string): Promise<void>;
  start(): void;
  /** Removes this node's own state and registration (after its sockets are closed). */
  stop(): Promise<void>;
}

export function createNodeRegistry(deps: {
  redis: Redis;
  keys: RedisKeys;
  log: Logger;
  leaseMs?: number;
  /** This node's open connections, written into each lease renewal. */
  connections: () => number;
  /** Removes what `nodeId` held in `projectId` (and tells the clients that remain). */
  reapProject: (projectId: string, nodeId: string) => Promise<void>;
  onLeaseLost: () => void;
}): NodeRegistry {
  const { redis, keys, log } = deps;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const { nodes: nodesKey, lease: leaseKey, projects: projectsKey, lock: lockKey } = nodeKeys(keys);
  const lease = () => JSON.stringify({ connections: deps.connections(), renewedAt: Date.now() });
  let id = randomUUID();
  const held = new Set<string>(); // projects already recorded under the current id
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;

  const register = async () => {
    await redis.multi().sadd(nodesKey, id).set(leaseKey(id), lease(), 'PX', leaseMs).exec();
  };

  const reapNode = async (nodeId: string) => {
    for (const projectId of await redis.smembers(projectsKey(nodeId))) {
      await deps.reapProject(projectId, nodeId);
    }
    await redis.multi().srem(nodesKey, nodeId).del(projectsKey(nodeId), leaseKey(nodeId)).exec();
  };

  const reapDead = async () => {
    const others = (await redis.smembers(nodesKey)).filter((nodeId) => nodeId !== id);
    for (const nodeId of others) {
      if (await redis.exists(leaseKey(nodeId))) continue;
      if ((await redis.set(lockKey(nodeId), id, 'PX', REAP_LOCK_MS, 'NX')) !== 'OK') continue;
      log.info({ nodeId }, 'Reaping a gateway node whose lease ran out');
      await reapNode(nodeId);
      await redis.del(lockKey(nodeId));
    }
  };

  const tick = async () => {
    if (ticking) return; // a slow Redis must not stack ticks
    ticking = true;
    try {
      const renewed = await redis.set(leaseKey(id), lease(), 'PX', leaseMs, 'XX');
      if (renewed !== 'OK') {
        log.error({ nodeId: id }, 'Gateway lease was lost; closing sockets and re-registering');
        deps.onLeaseLost();
        id = randomUUID();
        held.clear();
        await register();
      }
      await reapDead();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'Gateway lease renewal failed');
    } finally {
      ticking = false;
    }
  };

  return {
    id: () => id,
    async holds(projectId) {
      if (held.has(projectId)) return;
      await redis.sadd(projectsKey(id), projectId);
      held.add(projectId);
    },
    start() {
      // Not awaited: the gateway must boot while Redis is away; the first renewal after
      // Redis returns finds no lease and registers.
      register().catch((err: Error) => log.warn({ err: err.message }, 'Gateway registration failed'));
      timer = setInterval(() => void tick(), Math.max(100, Math.floor(leaseMs / 4)));
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await reapNode(id);
    },
  };
}
