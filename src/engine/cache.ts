// A per-project cache of something built from the database (a compiled rule set), rebuilt lazily.
// Writers bump a per-project version counter, then announce it on the bus; a node drops its entry
// when told, and a node that missed the message notices by reading the counter — at most once per
// `checkEveryMs` per project — so it self-heals within that delay. The cache does no I/O itself:
// reading the version and loading the value are given to it.
export interface VersionedCacheOptions<T> {
  /** The current version; read before `load`, so a change racing a load is seen next time. */
  readVersion(projectId: string): Promise<number>;
  load(projectId: string): Promise<T>;
  /** How long an entry is trusted before its version is compared again. */
  checkEveryMs: number;
  maxProjects?: number;
  now?: () => number;
}

export interface VersionedCache<T> {
  get(projectId: string): Promise<T>;
  /** Drops the entry if it is older than `version` (or unconditionally without one). */
  invalidate(projectId: string, version?: number): void;
}

interface Entry<T> {
  version: number;
  value: T;
  checkedAt: number;
}

export function createVersionedCache<T>(options: VersionedCacheOptions<T>): VersionedCache<T> {
  const { readVersion, load, checkEveryMs, maxProjects = 10_000, now = Date.now } = options;
  const entries = new Map<string, Entry<T>>();
  // The newest version announced per project: a load that finishes with an older one is kept
  // but not trusted, so the next get checks again.
  const announced = new Map<string, number>();
  const loading = new Map<string, Promise<T>>();

  const reload = (projectId: string): Promise<T> => {
    const pending = loading.get(projectId);
    if (pending) return pending;
    const promise = (async () => {
      const version = await readVersion(projectId);
      const value = await load(projectId);
      const trusted = version >= (announced.get(projectId) ?? 0);
      if (!entries.has(projectId) && entries.size >= maxProjects)
        entries.delete(entries.keys().next().value!);
      entries.set(projectId, { version, value, checkedAt: trusted ? now() : -Infinity });
      return value;
    })().finally(() => loading.delete(projectId));
    loading.set(projectId, promise);
    return promise;
  };

  return {
    async get(projectId) {
      const entry = entries.get(projectId);
      if (!entry) return reload(projectId);
      if (now() - entry.checkedAt < checkEveryMs) return entry.value;
      if ((await readVersion(projectId)) === entry.version && entries.get(projectId) === entry) {
        entry.checkedAt = now();
        return entry.value;
      }
      return reload(projectId);
    },
    invalidate(projectId, version) {
      if (version !== undefined) announced.set(projectId, Math.max(version, announced.get(projectId) ?? 0));
      const entry = entries.get(projectId);
      if (entry && (version === undefined || entry.version < version)) entries.delete(projectId);
    },
  };
}
