// A bounded cache of loaded values that keeps answering with the last value while its source
// fails (stale-while-error): MySQL being away must not fail requests a remembered answer serves.
// A failed reload is retried at most every `retryMs`, and while one reload runs, callers that
// have a value get it at once instead of queueing behind the outage.
export interface StaleCache<V> {
  get(key: string, load: () => Promise<V>): Promise<V>;
  delete(key: string): void;
  /** Drops every entry whose value matches. */
  deleteWhere(match: (value: V) => boolean): void;
}

interface Entry<V> {
  value?: { current: V };
  expires: number;
  loading?: Promise<V>;
}

export function createStaleCache<V>(options: {
  ttlMs: number;
  retryMs: number;
  maxEntries: number;
  now?: () => number;
}): StaleCache<V> {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry<V>>();
  return {
    get(key, load) {
      const hit = entries.get(key);
      if (hit?.value && (hit.expires > now() || hit.loading)) return Promise.resolve(hit.value.current);
      if (hit?.loading) return hit.loading;
      const entry: Entry<V> = hit ?? { expires: 0 };
      if (!hit) {
        if (entries.size >= options.maxEntries) entries.delete(entries.keys().next().value!);
        entries.set(key, entry);
      }
      entry.loading = load().then(
        (current) => {
          Object.assign(entry, {
            value: { current },
            expires: now() + options.ttlMs,
            loading: undefined,
          });
          return current;
        },
        (err: unknown) => {
          entry.loading = undefined;
          if (!entry.value) {
            if (entries.get(key) === entry) entries.delete(key);
            throw err;
          }
          entry.expires = now() + options.retryMs;
          return entry.value.current;
        },
      );
      return entry.loading;
    },
    delete: (key) => void entries.delete(key),
    deleteWhere(match) {
      for (const [key, entry] of entries) if (entry.value && match(entry.value.current)) entries.delete(key);
    },
  };
}
