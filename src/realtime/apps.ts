// Pusher "apps" are projects: resolved by key (sockets) or app id (HTTP API) from an in-memory
// cache, so connecting never queries MySQL once a project is warm. `project.changed` on the bus
// drops a project's entries on every node and tells listeners (the gateway closes the sockets
// of a project that was disabled or deleted). Every load from MySQL leaves a copy in Redis
// (secret still encrypted) that later loads read first, so connecting needs no MySQL; a project
// change deletes it.
import type { Bus } from '../core/bus.js';
import { decryptSecret } from '../core/crypto.js';
import type { Db } from '../core/db.js';
import type { Logger } from '../core/log.js';
import type { RedisKeys } from '../core/redis.js';
import type { Redis } from 'ioredis';
import { readSettings, type ProjectSettings } from '../domain/settings.js';

export interface GatewayApp {
  projectId: string;
  appId: string;
  key: string;
  secret: string;
  enabled: boolean;
  settings: ProjectSettings['gateway'];
}

export interface AppDirectory {
  byKey(key: string): Promise<GatewayApp | undefined>;
  byAppId(appId: string): Promise<GatewayApp | undefined>;
  byProjectId(projectId: string): Promise<GatewayApp | undefined>;
  /** Called after a project changed, with its current app (undefined once deleted). */
  onChange(listener: (projectId: string, app: GatewayApp | undefined) => void): () => void;
  close(): void;
}

// The bus is at-most-once: entries also expire, so a missed invalidation heals by itself.
const TTL_MS = 60_000;
// Unknown keys are remembered briefly, so a client hammering a bad key does not reach MySQL.
const MISS_TTL_MS = 5_000;
const MAX_ENTRIES = 10_000;

type Entry = { app: Promise<GatewayApp | undefined>; expires: number };

/** What the Redis copy holds of a project row. */
interface AppRow {
  id: string;
  gatewayAppId: string;
  gatewayKey: string;
  gatewaySecretEnc: string;
  status: string;
  settings: unknown;
}

/**
 * How long a copy lives: how long a gateway admits a project's clients with MySQL away, and how
 * long a change whose deletion of the copy failed (Redis away at that moment) can go unseen.
 */
const COPY_TTL_SECONDS = 3600;

type Where = { gatewayKey: string } | { gatewayAppId: string } | { id: string };

export function createAppDirectory(deps: {
  db: Db;
  redis: Redis;
  keys: RedisKeys;
  bus: Bus;
  encryptionKey: Buffer;
  log: Logger;
}): AppDirectory {
  const { db, redis, keys, encryptionKey, log } = deps;
  const cache = new Map<string, Entry>();
  const listeners = new Set<(projectId: string, app: GatewayApp | undefined) => void>();
  const indexField = (where: Where) =>
    'gatewayKey' in where
      ? `key:${where.gatewayKey}`
      : 'gatewayAppId' in where
        ? `id:${where.gatewayAppId}`
        : undefined;

  const keepCopy = async (row: AppRow) => {
    await redis
      .multi()
      .set(keys.appCopy(row.id), JSON.stringify(row), 'EX', COPY_TTL_SECONDS)
      .hset(keys.appCopyIndex(), `key:${row.gatewayKey}`, row.id, `id:${row.gatewayAppId}`, row.id)
      .exec();
  };

  /** The copy a load from MySQL left, when it still matches what was asked for. */
  const fromCopy = async (where: Where): Promise<AppRow | null> => {
    const field = indexField(where);
    const projectId = field ? await redis.hget(keys.appCopyIndex(), field) : (where as { id: string }).id;
    const raw = projectId ? await redis.get(keys.appCopy(projectId)) : null;
    if (!raw) return null;
    const row = JSON.parse(raw) as AppRow;
    const matches =
      'gatewayKey' in where
        ? row.gatewayKey === where.gatewayKey
        : 'gatewayAppId' in where
          ? row.gatewayAppId === where.gatewayAppId
          : true;
    return matches ? row : null;
  };

  // The copy first: a project change deletes it, so it is current, and connecting then needs no
  // MySQL at all. A miss reads MySQL and leaves a copy.
  const load = async (where: Where) => {
    let row = await fromCopy(where).catch((err: Error) => {
      log.warn({ err: err.message }, 'Could not read an app copy from Redis');
      return null;
    });
    if (!row) {
      row = await db.system.project.findFirst({ where: { ...where, deletedAt: null } });
      if (row)
        await keepCopy(row).catch((err: Error) =>
          log.warn({ err: err.message }, 'Could not copy an app to Redis'),
        );
    }
    if (!row) return undefined;
    const app: GatewayApp = {
      projectId: row.id,
      appId: row.gatewayAppId,
      key: row.gatewayKey,
      secret: decryptSecret(row.gatewaySecretEnc, encryptionKey),
      enabled: row.status === 'active',
      settings: readSettings(row.settings).gateway,
    };
    return app;
  };

  const forget = (cacheKey: string, entry: Entry) => {
    if (cache.get(cacheKey) === entry) cache.delete(cacheKey);
  };

  const lookup = (cacheKey: string, where: Parameters<typeof load>[0]) => {
    const hit = cache.get(cacheKey);
    if (hit && hit.expires > Date.now()) return hit.app;
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    const entry: Entry = { app: load(where), expires: Date.now() + TTL_MS };
    cache.set(cacheKey, entry);
    entry.app.then(
      (app) => {
        if (!app) entry.expires = Date.now() + MISS_TTL_MS;
      },
      () => forget(cacheKey, entry), // MySQL away: do not remember the failure
    );
    return entry.app;
  };

  const off = deps.bus.on('project.changed', ({ projectId }) => {
    // Again here: a load that read MySQL just before the change may have copied the old row.
    redis.del(keys.appCopy(projectId)).catch(() => undefined);
    // Drop the project's entries and every miss (a miss may be a project created just now).
    for (const [cacheKey, entry] of cache) {
      void entry.app.then(
        (app) => {
          if (!app || app.projectId === projectId) forget(cacheKey, entry);
        },
        () => undefined,
      );
    }
    if (listeners.size === 0) return;
    load({ id: projectId }).then(
      (app) => listeners.forEach((listener) => listener(projectId, app)),
      (err: Error) => log.warn({ err: err.message, projectId }, 'Could not reload a changed project'),
    );
  });

  return {
    byKey: (key) => lookup(`key:${key}`, { gatewayKey: key }),
    byAppId: (appId) => lookup(`id:${appId}`, { gatewayAppId: appId }),
    byProjectId: (projectId) => lookup(`project:${projectId}`, { id: projectId }),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      off();
      cache.clear();
      listeners.clear();
    },
  };
}
