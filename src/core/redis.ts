// Redis connections (ioredis) and the key names every part shares. Every key carries the
// configured prefix (one per test worker) and, where it belongs to a tenant, the project id.
import { Redis, type RedisOptions } from 'ioredis';

/** Reconnect forever with capped exponential backoff: Redis coming back must heal us. */
export const retryStrategy = (attempt: number): number => Math.min(50 * 2 ** attempt, 5_000);

export function redisOptions(url: string, overrides: RedisOptions = {}): RedisOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    connectTimeout: 2_000,
    retryStrategy,
    ...overrides,
  };
}

export function createRedis(url: string, name: string, overrides: RedisOptions = {}): Redis {
  return new Redis(redisOptions(url, { connectionName: name, ...overrides }));
}

/** How long a request may wait for one Redis command before it answers 503. */
export const REQUEST_COMMAND_TIMEOUT_MS = 2_000;

/**
 * The connection HTTP requests use: no offline queue (a command while Redis is away fails at
 * once instead of waiting in ioredis's queue and running after the client gave up — an event
 * answered 503 must not be stored later) and a bounded wait for each answer.
 */
export function createRequestRedis(url: string): Redis {
  return createRedis(url, 'tocsin-requests', {
    enableOfflineQueue: false,
    commandTimeout: REQUEST_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
  });
}

/** An error that says Redis is unreachable or too slow, not that the command was wrong. */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    err.message === 'Command timed out' ||
    err.message.includes('enableOfflineQueue options is false') ||
    err.message === 'Connection is closed.'
  );
}

/** Key and channel names, built in one place. */
export function redisKeys(prefix: string) {
  return {
    prefix,
    projectStream: (projectId: string) => `${prefix}${projectId}:events`,
    projectKey: (projectId: string, ...parts: string[]) => [`${prefix}${projectId}`, ...parts].join(':'),
    /**
     * A project's key under a `{projectId}` hash tag: every such key of one project lands in one
     * Redis Cluster slot, so one script may touch several (newer keys use it).
     */
    tagged: (projectId: string, ...parts: string[]) => [`${prefix}{${projectId}}`, ...parts].join(':'),
    /** A project's gateway app as last loaded from MySQL (served while MySQL is away). */
    appCopy: (projectId: string) => `${prefix}{${projectId}}:gateway-app`,
    /** Gateway key / app id → project id, for the copies. */
    appCopyIndex: () => `${prefix}system:gateway-apps`,
    busChannel: (shard: number) => `${prefix}bus:${shard}`,
    system: (...parts: string[]) => [`${prefix}system`, ...parts].join(':'),
    /** Set of project ids that have an event stream: what the consumers read. */
    activeStreams: () => `${prefix}system:streams`,
    deadLetterStream: (projectId: string) => `${prefix}${projectId}:events:dead`,
    /** Set of project ids that have a receipt stream (socket acknowledgements, replays). */
    receiptStreams: () => `${prefix}system:receipt-streams`,
    /** Bumped on every rule change; caches compare it to self-heal after a missed bus message. */
    rulesVersion: (projectId: string) => `${prefix}${projectId}:rules:version`,
    /** Idempotency key → first event id (24 h); the key part is a hash of the client's key. */
    idempotency: (projectId: string, keyHash: string) => `${prefix}${projectId}:idem:${keyHash}`,
    /** Marks an accepted event until the consumer has written it to MySQL. */
    queuedEvent: (projectId: string, eventId: string) => `${prefix}${projectId}:queued:${eventId}`,
    /** Suppression state of one rule: `allowed` (sliding window) and `suppressed` (digest count). */
    suppression: (projectId: string, ruleId: string, part: string) =>
      `${prefix}${projectId}:suppression:${ruleId}:${part}`,
    bullPrefix: `${prefix}bull`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
