// One SDK client per project, built from its credentials and rebuilt when they change (the
// fingerprint differs). Least recently used clients are closed past a bound, so thousands of
// tenants do not keep thousands of connections.
export interface ClientCache<C> {
  get(projectId: string, fingerprint: string, build: () => C): C;
  close(): Promise<void>;
}

export function createClientCache<C>(
  dispose: (client: C) => Promise<unknown> | void,
  maxClients = 500,
): ClientCache<C> {
  const clients = new Map<string, { fingerprint: string; client: C }>();
  // Disposal is best effort: a broken client must not fail the send that replaced it.
  const drop = (client: C) => void Promise.resolve(dispose(client)).catch(() => undefined);

  return {
    get(projectId, fingerprint, build) {
      const cached = clients.get(projectId);
      clients.delete(projectId);
      if (cached && cached.fingerprint === fingerprint) {
        clients.set(projectId, cached); // most recently used goes last
        return cached.client;
      }
      if (cached) drop(cached.client);
      if (clients.size >= maxClients) {
        const [oldest, entry] = clients.entries().next().value!;
        clients.delete(oldest);
        drop(entry.client);
      }
      const client = build();
      clients.set(projectId, { fingerprint, client });
      return client;
    },
    async close() {
      const all = [...clients.values()];
      clients.clear();
      await Promise.allSettled(all.map(({ client }) => dispose(client)));
    },
  };
}
