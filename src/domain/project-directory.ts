// Resolves API keys and project ids to live projects, with their settings, on the hot path
// without a query per request: the one cached read of a project's settings that rate limits,
// delivery and rules share. Entries expire after a short TTL and are dropped at once on every
// node when the bus says a project changed (key regenerated, disabled, deleted, settings).
import type { Bus } from '../core/bus.js';
import { keyedHash } from '../core/crypto.js';
import type { Db } from '../core/db.js';
import { readSettings, type ProjectSettings } from './settings.js';

export interface ProjectEntry {
  id: string;
  active: boolean;
  settings: ProjectSettings;
}

export interface ProjectDirectory {
  byApiKey(apiKey: string): Promise<ProjectEntry | null>;
  byId(projectId: string): Promise<ProjectEntry | null>;
  /** The project's settings (defaults for an unknown project). */
  settings(projectId: string): Promise<ProjectSettings>;
  invalidate(projectId: string): void;
}

const TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;

type Cached = { entry: ProjectEntry | null; expires: number };

export function createProjectDirectory(deps: { db: Db; bus: Bus; pepper: string }): ProjectDirectory {
  const byHash = new Map<string, Cached & { projectId?: string }>();
  const byId = new Map<string, Cached>();

  const remember = <V extends Cached>(map: Map<string, V>, key: string, value: V) => {
    if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
    map.set(key, value);
  };
  const select = { id: true, status: true, deletedAt: true, settings: true } as const;
  const toEntry = (
    row: { id: string; status: string; deletedAt: Date | null; settings: unknown } | null,
  ): ProjectEntry | null =>
    row
      ? {
          id: row.id,
          active: row.status === 'active' && row.deletedAt === null,
          settings: readSettings(row.settings),
        }
      : null;

  const directory: ProjectDirectory = {
    async byApiKey(apiKey) {
      const hash = keyedHash(apiKey, deps.pepper);
      const cached = byHash.get(hash);
      if (cached && cached.expires > Date.now()) return cached.entry;
      const entry = toEntry(await deps.db.system.project.findUnique({ where: { apiKeyHash: hash }, select }));
      remember(byHash, hash, { entry, expires: Date.now() + TTL_MS, projectId: entry?.id });
      return entry;
    },
    async byId(projectId) {
      const cached = byId.get(projectId);
      if (cached && cached.expires > Date.now()) return cached.entry;
      const entry = toEntry(await deps.db.system.project.findUnique({ where: { id: projectId }, select }));
      remember(byId, projectId, { entry, expires: Date.now() + TTL_MS });
      return entry;
    },
    async settings(projectId) {
      return (await directory.byId(projectId))?.settings ?? readSettings(undefined);
    },
    invalidate(projectId) {
      byId.delete(projectId);
      for (const [hash, cached] of byHash) if (cached.projectId === projectId) byHash.delete(hash);
    },
  };
  deps.bus.on('project.changed', (message) => directory.invalidate(message.projectId));
  return directory;
}
