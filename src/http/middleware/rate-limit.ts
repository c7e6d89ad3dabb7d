// Rate limits in Redis (rate-limiter-flexible, fixed windows), shared by every node:
//   api     per project (settings.rateLimits.apiPerMinute) and per user (userPerMinute);
//           a super admin acting in a project (X-Project-Id) counts against the project only.
//   ingest  per project, events per second (ingestPerSecond); one point per request unless a
//           `cost` is given (a batch of N events costs N).
//   auth    per client IP (login, register, refresh), a fixed limit: no project is known yet.
// Keys carry the prefix and the project id. Every answer carries RateLimit-Limit/-Remaining/
// -Reset; a refusal is a 429 with Retry-After. If Redis cannot answer, requests pass (the
// limiter must not take the API down with it) and a warning is logged.
import type { Context, MiddlewareHandler } from 'hono';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { UUID_PATTERN } from '../../core/ids.js';
import type { DomainDeps } from '../../domain/deps.js';
import type { ProjectSettings } from '../../domain/settings.js';
import { verifyAccessToken } from '../../domain/tokens.js';
import { sendError } from './errors.js';
import type { AppEnv } from './request-context.js';

export type RateLimitKind = 'api' | 'ingest' | 'auth';

/** Requests per minute per client IP on login, register and refresh. */
export const AUTH_PER_MINUTE = 300;

/** Ingest requests (X-API-Key on /api/v1/events…) are limited by the ingest limiter, not by 'api'. */
const INGEST_PATH = /^\/api\/v1\/events(\/|$)/;

type Limits = ProjectSettings['rateLimits'];

interface Bucket {
  key: string;
  points: number;
  durationSeconds: number;
  /** Named in the 429 message. */
  scope: string;
}

interface Caller {
  projectId?: string;
  userId?: string;
  viaApiKey: boolean;
}

/** Limiters, one set per Redis connection (i.e. per running hub). */
interface State {
  limiters: Map<string, RateLimiterRedis>;
}

const states = new WeakMap<object, State>();

function stateOf(deps: DomainDeps): State {
  let state = states.get(deps.redis);
  if (!state) {
    state = { limiters: new Map() };
    states.set(deps.redis, state);
  }
  return state;
}

/**
 * One limiter per (points, duration). The counter lives under the bucket's own key, so when a
 * project's limit changes the new limiter continues the same window.
 */
function limiterFor(deps: DomainDeps, state: State, bucket: Bucket): RateLimiterRedis {
  const id = `${bucket.points}/${bucket.durationSeconds}`;
  let limiter = state.limiters.get(id);
  if (!limiter) {
    limiter = new RateLimiterRedis({
      storeClient: deps.redis,
      points: bucket.points,
      duration: bucket.durationSeconds,
      keyPrefix: '',
      // Fail fast (and open) while Redis is away instead of queueing behind the reconnect.
      rejectIfRedisNotReady: true,
    });
    state.limiters.set(id, limiter);
  }
  return limiter;
}

const limitsOf = async (deps: DomainDeps, projectId: string): Promise<Limits> =>
  (await deps.projects.settings(projectId)).rateLimits;

/**
 * Who is calling, for counting only: the principal when authentication already ran, otherwise
 * the credentials themselves (verified; a bad credential is left to the auth middleware's 401).
 */
async function identify(deps: DomainDeps, c: Context<AppEnv>): Promise<Caller> {
  const principal = c.get('principal');
  if (principal) {
    return {
      projectId: principal.projectId,
      userId: principal.kind === 'user' ? principal.userId : undefined,
      viaApiKey: principal.kind === 'apiKey',
    };
  }
  const apiKey = c.req.header('x-api-key');
  if (apiKey !== undefined) {
    const project = await deps.projects.byApiKey(apiKey);
    return { projectId: project?.active ? project.id : undefined, viaApiKey: true };
  }
  const authorization = c.req.header('authorization');
  if (!authorization?.startsWith('Bearer ')) return { viaApiKey: false };
  try {
    const claims = await verifyAccessToken(deps, authorization.slice(7).trim());
    if (!claims.sa) return { projectId: claims.pid, userId: claims.sub, viaApiKey: false };
    const requested = c.req.header('x-project-id');
    return { projectId: requested && UUID_PATTERN.test(requested) ? requested : undefined, viaApiKey: false };
  } catch {
    return { viaApiKey: false };
  }
}

async function bucketsFor(
  deps: DomainDeps,
  state: State,
  c: Context<AppEnv>,
  kind: RateLimitKind,
  authPerMinute: number,
): Promise<Bucket[]> {
  if (kind === 'auth') {
    const ip = c.get('context')?.ip ?? 'unknown';
    return [
      {
        key: deps.keys.system('rl', 'auth', ip),
        points: authPerMinute,
        durationSeconds: 60,
        scope: 'client',
      },
    ];
  }
  const caller = await identify(deps, c);
  if (!caller.projectId) return [];
  if (kind === 'api' && caller.viaApiKey && INGEST_PATH.test(c.req.path)) return [];
  const limits = await limitsOf(deps, caller.projectId);
  const key = (...parts: string[]) => deps.keys.projectKey(caller.projectId!, 'rl', ...parts);
  if (kind === 'ingest') {
    return [{ key: key('ingest'), points: limits.ingestPerSecond, durationSeconds: 1, scope: 'project' }];
  }
  const buckets: Bucket[] = [
    { key: key('api'), points: limits.apiPerMinute, durationSeconds: 60, scope: 'project' },
  ];
  if (caller.userId) {
    buckets.push({
      key: key('user', caller.userId),
      points: limits.userPerMinute,
      durationSeconds: 60,
      scope: 'user',
    });
  }
  return buckets;
}

interface Outcome {
  bucket: Bucket;
  allowed: boolean;
  remaining: number;
  resetMs: number;
}

function setHeaders(c: Context<AppEnv>, outcome: Outcome): void {
  c.header('RateLimit-Limit', String(outcome.bucket.points));
  c.header('RateLimit-Remaining', String(outcome.remaining));
  c.header('RateLimit-Reset', String(Math.max(0, Math.ceil(outcome.resetMs / 1000))));
}

export interface RateLimitOptions {
  /** Points one request costs (default 1), e.g. the number of events in an ingest batch. */
  cost?: (c: Context<AppEnv>) => number | Promise<number>;
  /** The per-IP limit of the 'auth' kind (default AUTH_PER_MINUTE). */
  authPerMinute?: number;
}

/**
 * The rate-limit middleware. `api` is mounted on /api/v1/* by the app; put `ingest` on the
 * ingest routes and `auth` on the unauthenticated auth routes.
 */
export function rateLimit(
  deps: DomainDeps,
  kind: RateLimitKind,
  options: RateLimitOptions = {},
): MiddlewareHandler<AppEnv> {
  const state = stateOf(deps);
  const authPerMinute = options.authPerMinute ?? AUTH_PER_MINUTE;
  return async (c, next) => {
    let outcomes: Outcome[];
    try {
      const buckets = await bucketsFor(deps, state, c, kind, authPerMinute);
      const cost = options.cost ? Math.max(1, Math.ceil(await options.cost(c))) : 1;
      outcomes = await Promise.all(buckets.map((bucket) => consume(deps, state, bucket, cost)));
    } catch (err) {
      deps.log.warn({ err: (err as Error).message, kind }, 'Rate limiter unavailable; request allowed');
      return next();
    }
    if (!outcomes.length) return next();
    const refused = outcomes.find((o) => !o.allowed);
    // The binding limit: the refused one, else the one closest to refusing.
    const binding = refused ?? outcomes.reduce((a, b) => (b.remaining < a.remaining ? b : a));
    if (refused) {
      const retryAfter = Math.max(1, Math.ceil(refused.resetMs / 1000));
      setHeaders(c, refused);
      c.header('Retry-After', String(retryAfter));
      const per = refused.bucket.durationSeconds === 1 ? 'second' : 'minute';
      return sendError(
        c,
        429,
        'rate_limited',
        `Too many requests: the ${refused.bucket.scope} limit is ${refused.bucket.points} per ${per}; retry in ${retryAfter} s`,
      );
    }
    await next();
    setHeaders(c, binding);
  };
}

async function consume(deps: DomainDeps, state: State, bucket: Bucket, cost: number): Promise<Outcome> {
  const limiter = limiterFor(deps, state, bucket);
  try {
    const res = await limiter.consume(bucket.key, cost);
    return { bucket, allowed: true, remaining: res.remainingPoints, resetMs: res.msBeforeNext };
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    return { bucket, allowed: false, remaining: 0, resetMs: err.msBeforeNext };
  }
}
