// Resolves API keys and project ids to live projects, with their settings, on the hot path
// without a query per request: the one cached read of a project's settings that rate limits,
// delivery, rules (the pipeline's and the rule test's) and retention share. Entries expire
// after a short TTL and are dropped at once on every node when the bus says a project changed (key regenerated, disabled, deleted, settings). While
// MySQL is away the last answer keeps being served, so ingest with a known key goes on; a key
// or id it has no answer for fails at once while the outage is fresh, instead of every lookup
// (the rate limiter's, then the auth middleware's) waiting out the pool's acquire timeout.
import type { Bus } from '../core/bus.js';
import { keyedHash } from '../core/crypto.js';
import { isDatabaseUnavailable, type Db } from '../core/db.js';
import { createStaleCache } from '../core/stale-cache.js';
import { readSettings, type ProjectSettings } from './settings.js';

export interface ProjectEntry {
  id: string;
  active: boolean;
  settings: ProjectSettings;
  /** Soft-deleted: nobody acts inside it any more, super admins included. */
  deleted: boolean;
}

export interface ProjectDirectory {
  byApiKey(apiKey: string): Promise<ProjectEntry | null>;
  byId(projectId: string): Promise<ProjectEntry | null>;
  /** The project's settings (defaults for an unknown project). */
  settings(projectId: string): Promise<ProjectSettings>;
  invalidate(projectId: string): void;
}

const TTL_MS = 30_000;
/** While MySQL fails, the last answer is served and MySQL asked again at most this often. */
const RETRY_MS = 5_000;
const MAX_ENTRIES = 10_000;

export function createProjectDirectory(deps: {
  db: { system: { project: Pick<Db['system']['project'], 'findUnique'> } };
  bus: Pick<Bus, 'on'>;
  pepper: string;
  now?: () => number;
}): ProjectDirectory {
  const cacheOf = () =>
    createStaleCache<ProjectEntry | null>({
      ttlMs: TTL_MS,
      retryMs: RETRY_MS,
      maxEntries: MAX_ENTRIES,
      now: deps.now,
    });
  const now = deps.now ?? Date.now;
  let outage: { error: unknown; until: number; probing?: boolean } | undefined;
  /**
   * Runs a lookup unless MySQL failed within RETRY_MS. After that one lookup probes while the
   * others keep failing at once; an answer from MySQL ends the outage.
   */
  const query = async <T>(lookup: () => Promise<T>): Promise<T> => {
    if (outage) {
      if (outage.probing || outage.until > now()) throw outage.error;
      outage.probing = true;
    }
    try {
      const result = await lookup();
      outage = undefined;
      return result;
    } catch (err) {
      outage = isDatabaseUnavailable(err) ? { error: err, until: now() + RETRY_MS } : undefined;
      throw err;
    }
  };
  const byHash = cacheOf();
  const byId = cacheOf();
  const select = { id: true, status: true, deletedAt: true, settings: true } as const;
  const toEntry = (
    row: { id: string; status: string; deletedAt: Date | null; settings: unknown } | null,
  ): ProjectEntry | null =>
    row
      ? {
          id: row.id,
          active: row.status === 'active' && row.deletedAt === null,
          settings: readSettings(row.settings),
          deleted: row.deletedAt !== null,
        }
      : null;

  const directory: ProjectDirectory = {
    byApiKey(apiKey) {
      const hash = keyedHash(apiKey, deps.pepper);
      return byHash.get(hash, async () =>
        toEntry(
          await query(() => deps.db.system.project.findUnique({ where: { apiKeyHash: hash }, select })),
        ),
      );
    },
    byId(projectId) {
      return byId.get(projectId, async () =>
        toEntry(await query(() => deps.db.system.project.findUnique({ where: { id: projectId }, select }))),
      );
    },
    async settings(projectId) {
      return (await directory.byId(projectId))?.settings ?? readSettings(undefined);
    },
    invalidate(projectId) {
      byId.delete(projectId);
      byHash.deleteWhere((entry) => entry?.id === projectId);
    },
  };
  deps.bus.on('project.changed', (message) => directory.invalidate(message.projectId));
  return directory;
}
