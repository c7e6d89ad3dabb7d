// The cluster's status for operators (GET /api/v1/status): MySQL and Redis reachability with
// latency, every queue's job counts, the project streams furthest behind, the gateway nodes and
// delivery-provider health per project. The readers are passed in (they live with the parts
// that own the data). Each part has a deadline, so a dependency that is down shows up as that
// part's error instead of holding the whole answer.
import type { Provider } from './provider-credentials.js';
import type { DomainDeps } from './deps.js';
import type { ProviderStatus } from '../workers/push/providers.js';
import type { QueueCounts, StreamLag } from '../workers/backlog.js';

export const PART_TIMEOUT_MS = 2_000;
/** Streams listed, the ones furthest behind first. */
export const STREAMS_SHOWN = 20;
/** Projects whose providers are checked (one credentials read and one Redis read each). */
export const PROVIDER_PROJECTS_MAX = 100;

export interface GatewayNodeInfo {
  id: string;
  /** False once its lease ran out: dead, waiting for the reaper. */
  alive: boolean;
  connections: number | null;
  renewedAt: string | null;
}

export interface StatusSources {
  queueCounts(): Promise<QueueCounts[]>;
  streamLags(): Promise<StreamLag[]>;
  gatewayNodes(): Promise<GatewayNodeInfo[]>;
  providerStatus(projectId: string): Promise<Record<Provider, ProviderStatus>>;
}

export interface Reachability {
  ok: boolean;
  latencyMs: number | null;
  error?: string;
}

export interface ProjectProviders {
  projectId: string;
  slug: string;
  providers?: Record<Provider, ProviderStatus>;
  error?: string;
}

export interface ClusterStatus {
  status: 'ok' | 'degraded';
  checkedAt: string;
  mysql: Reachability;
  redis: Reachability;
  queues: { items: QueueCounts[]; error?: string };
  streams: { registered: number; top: StreamLag[]; error?: string };
  gateway: { nodes: GatewayNodeInfo[]; error?: string };
  providers: { projects: number; items: ProjectProviders[]; error?: string };
}

type StatusDeps = Pick<DomainDeps, 'db' | 'redis' | 'config'>;

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A part's value, or `empty` with the error that kept it from being read. */
async function part<T extends object>(
  read: () => Promise<T>,
  empty: T,
  ms: number,
): Promise<T & { error?: string }> {
  try {
    return await within(read(), ms);
  } catch (err) {
    return { ...empty, error: messageOf(err) };
  }
}

async function reach(ping: () => Promise<unknown>, ms: number): Promise<Reachability> {
  const started = performance.now();
  try {
    await within(ping(), ms);
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (err) {
    return { ok: false, latencyMs: null, error: messageOf(err) };
  }
}

async function providerHealth(deps: StatusDeps, sources: StatusSources, max: number) {
  // With global FCM/APNs credentials every project has a provider; otherwise only those with
  // credentials of their own.
  const global = Boolean(deps.config.push.fcm || deps.config.push.apns);
  const where = { deletedAt: null, ...(global ? {} : { secretsEnc: { not: null } }) };
  const [projects, rows] = await Promise.all([
    deps.db.system.project.count({ where }),
    deps.db.system.project.findMany({
      where,
      select: { id: true, slug: true },
      orderBy: { slug: 'asc' },
      take: max,
    }),
  ]);
  const items: ProjectProviders[] = await Promise.all(
    rows.map(({ id, slug }) =>
      sources.providerStatus(id).then(
        (providers) => ({ projectId: id, slug, providers }),
        (err: unknown) => ({ projectId: id, slug, error: messageOf(err) }),
      ),
    ),
  );
  // What an operator looks for first: the projects with a broken provider.
  const broken = (item: ProjectProviders) =>
    item.error !== undefined || Object.values(item.providers ?? {}).some((p) => !p.healthy);
  items.sort((a, b) => Number(broken(b)) - Number(broken(a)));
  return { projects, items };
}

export async function readStatus(
  deps: StatusDeps,
  sources: StatusSources,
  options: { timeoutMs?: number; streamsShown?: number; providerProjects?: number } = {},
): Promise<ClusterStatus> {
  const ms = options.timeoutMs ?? PART_TIMEOUT_MS;
  const [mysql, redis, queues, streams, gateway, providers] = await Promise.all([
    reach(() => deps.db.ping(), ms),
    reach(() => deps.redis.ping(), ms),
    part(async () => ({ items: await sources.queueCounts() }), { items: [] }, ms),
    part(
      async () => {
        const lags = await sources.streamLags();
        const behind = (s: StreamLag) => s.lag + s.pending;
        const top = lags
          .sort((a, b) => behind(b) - behind(a))
          .slice(0, options.streamsShown ?? STREAMS_SHOWN);
        return { registered: lags.length, top };
      },
      { registered: 0, top: [] },
      ms,
    ),
    part(async () => ({ nodes: await sources.gatewayNodes() }), { nodes: [] }, ms),
    part(
      () => providerHealth(deps, sources, options.providerProjects ?? PROVIDER_PROJECTS_MAX),
      { projects: 0, items: [] },
      ms,
    ),
  ]);
  const parts = [queues, streams, gateway, providers];
  const healthy = mysql.ok && redis.ok && parts.every((p) => p.error === undefined);
  return {
    status: healthy ? 'ok' : 'degraded',
    checkedAt: new Date().toISOString(),
    mysql,
    redis,
    queues,
    streams,
    gateway,
    providers,
  };
}
