// Events: ingest appends them to the project's Redis stream (the consumer evaluates and stores
// them); the read side lists what the consumer wrote to MySQL. An accepted event that the
// consumer has not stored yet is answered as `queued` from a marker the consumer removes.
import { createHash } from 'node:crypto';
import type { Redis, Result } from 'ioredis';
import { notFound } from '../core/errors.js';
import type { Prisma } from '../core/db.js';
import { uuidv7 } from '../core/ids.js';
import { pageArgs, type DomainDeps, type Page } from './deps.js';

export interface IncomingEvent {
  type: string;
  payload: Record<string, unknown>;
  source?: string;
  /** ISO 8601, when the event happened at its source. */
  occurredAt?: string;
  idempotencyKey?: string;
}

/** What travels in the stream, and what rule conditions see as `event`. */
export interface StreamEvent {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  source: string | null;
  occurredAt: string | null;
  receivedAt: string;
  idempotencyKey: string | null;
}

export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/** Stream entry fields: `id` and `type` stay readable even if `data` is corrupt. */
export function encodeEntry(event: StreamEvent): string[] {
  const { id, type, ...data } = event;
  return ['id', id, 'type', type, 'data', JSON.stringify(data)];
}

/** Throws on an entry that is not one of ours. */
export function decodeEntry(fields: readonly string[]): StreamEvent {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  const id = map.get('id');
  const type = map.get('type');
  if (!id || !type) throw new Error('The stream entry has no id or type');
  const data = JSON.parse(map.get('data') ?? '') as Omit<StreamEvent, 'id' | 'type'>;
  if (typeof data !== 'object' || data === null || typeof data.payload !== 'object') {
    throw new Error('The stream entry has no payload');
  }
  return { ...data, id, type };
}

/** The id and type of an entry, when it has them (to record even an undecodable entry). */
export function entryIdentity(fields: readonly string[]): { id?: string; type?: string } {
  const at = (name: string) => {
    const index = fields.findIndex((value, i) => i % 2 === 0 && value === name);
    return index === -1 ? undefined : fields[index + 1];
  };
  return { id: at('id'), type: at('type') };
}

// KEYS: stream, registry of streams, idempotency key (or the stream again), queued marker
// ARGV: project id, event id, 1 when idempotent else 0, then the entry's fields
// Returns { id, 1 if appended else 0 }: a repeated idempotency key returns the first id.
const APPEND = `
if ARGV[3] == '1' then
  local first = redis.call('GET', KEYS[3])
  if first then return {first, 0} end
  redis.call('SET', KEYS[3], ARGV[2], 'EX', ${IDEMPOTENCY_TTL_SECONDS})
end
local entry = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 4))
redis.call('SET', KEYS[4], entry, 'EX', ${IDEMPOTENCY_TTL_SECONDS})
redis.call('SADD', KEYS[2], ARGV[1])
return {ARGV[2], 1}
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tocsinAppendEvent(
      stream: string,
      registry: string,
      idempotency: string,
      queued: string,
      ...args: string[]
    ): Result<[string, number], Context>;
  }
}

const defined = new WeakSet<Redis>();

export interface Appended {
  id: string;
  /** False when an earlier event with the same idempotency key was returned instead. */
  appended: boolean;
}

/**
 * Appends events to the project's stream in one round trip. Each one is atomic with its
 * idempotency key: a key seen in the last 24 h returns the first id and appends nothing.
 */
export async function appendEvents(
  deps: Pick<DomainDeps, 'redis' | 'keys' | 'metrics'>,
  projectId: string,
  events: readonly IncomingEvent[],
): Promise<Appended[]> {
  const { redis, keys } = deps;
  if (!defined.has(redis)) {
    redis.defineCommand('tocsinAppendEvent', { numberOfKeys: 4, lua: APPEND });
    defined.add(redis);
  }
  const stream = keys.projectStream(projectId);
  const receivedAt = new Date().toISOString();
  const pipeline = redis.pipeline();
  for (const event of events) {
    const id = uuidv7();
    const idempotency = event.idempotencyKey
      ? keys.idempotency(projectId, createHash('sha256').update(event.idempotencyKey).digest('hex'))
      : stream;
    const entry = encodeEntry({
      id,
      type: event.type,
      payload: event.payload,
      source: event.source ?? null,
      occurredAt: event.occurredAt ?? null,
      receivedAt,
      idempotencyKey: event.idempotencyKey ?? null,
    });
    pipeline.tocsinAppendEvent(
      stream,
      keys.activeStreams(),
      idempotency,
      keys.queuedEvent(projectId, id),
      projectId,
      id,
      event.idempotencyKey ? '1' : '0',
      ...entry,
    );
  }
  const results = (await pipeline.exec()) ?? [];
  const appended = results.map(([error, reply]) => {
    if (error) throw error;
    const [id, added] = reply as [string, number];
    return { id, appended: added === 1 };
  });
  // Idempotent repeats added nothing to the stream: only new events count.
  deps.metrics.eventsIngested.inc({ project: projectId }, appended.filter((a) => a.appended).length);
  return appended;
}

export type EventStatusFilter = 'received' | 'processed' | 'failed';

export interface EventFilters {
  type?: string;
  status?: EventStatusFilter;
  /** receivedAt bounds, inclusive. */
  from?: Date;
  to?: Date;
}

const eventSelect = {
  id: true,
  type: true,
  payload: true,
  source: true,
  idempotencyKey: true,
  occurredAt: true,
  receivedAt: true,
  processedAt: true,
  status: true,
  matchedRules: true,
  suppressedRules: true,
  attempts: true,
  error: true,
} as const;

type EventRow = Prisma.EventGetPayload<{ select: typeof eventSelect }>;

type SuppressedRule = { ruleId: string; digestDueAt: string | null };

/** `ruleResults` says, per matched rule, whether its notification was sent or suppressed into a digest. */
function eventView({ suppressedRules, ...row }: EventRow) {
  const matchedRules = (row.matchedRules as string[] | null) ?? [];
  const suppressed = (suppressedRules as SuppressedRule[] | null) ?? [];
  const ruleResults = matchedRules.map((ruleId) => {
    const digest = suppressed.find((s) => s.ruleId === ruleId);
    return digest
      ? { ruleId, suppressed: true, digestDueAt: digest.digestDueAt }
      : { ruleId, suppressed: false };
  });
  return { ...row, matchedRules, ruleResults };
}

/** Events the consumer has stored (queued ones are not listed: they are not in MySQL yet). */
export async function listEvents(deps: DomainDeps, projectId: string, query: Page & EventFilters) {
  const where: Prisma.EventWhereInput = {
    ...(query.type ? { type: query.type } : {}),
    ...(query.status ? { status: query.status } : {}),
    ...(query.from || query.to
      ? { receivedAt: { ...(query.from ? { gte: query.from } : {}), ...(query.to ? { lte: query.to } : {}) } }
      : {}),
  };
  const db = deps.db.forProject(projectId);
  const [rows, total] = await Promise.all([
    db.event.findMany({
      where,
      select: eventSelect,
      orderBy: [{ receivedAt: 'desc' }, { id: 'desc' }],
      ...pageArgs(query),
    }),
    db.event.count({ where }),
  ]);
  return { items: rows.map(eventView), page: query.page, pageSize: query.pageSize, total };
}

/** A stored event with its notifications, or `{ id, status: 'queued' }` while it waits in the stream. */
export async function getEvent(deps: DomainDeps, projectId: string, id: string) {
  const row = await deps.db.forProject(projectId).event.findFirst({
    where: { id },
    select: {
      ...eventSelect,
      notifications: {
        select: {
          id: true,
          ruleId: true,
          kind: true,
          title: true,
          createdAt: true,
          _count: { select: { receipts: true } },
        },
        orderBy: { createdAt: 'asc' },
      },
    },
  });
  if (row) {
    const { notifications, ...event } = row;
    return {
      ...eventView(event),
      notifications: notifications.map(({ _count, ...n }) => ({ ...n, recipients: _count.receipts })),
    };
  }
  if (await deps.redis.exists(deps.keys.queuedEvent(projectId, id))) return { id, status: 'queued' as const };
  throw notFound('Event');
}

export type SettledStatus = 'queued' | 'received' | 'processed' | 'failed';

/**
 * Waits at most `timeoutMs` for the consumer to settle an accepted event (ingest's `?wait=`), then
 * says where it stands: `processed` or `failed` once settled, `received` while an attempt failed
 * and a retry is due, `queued` while it waits in the stream.
 */
export async function waitForEvent(
  deps: Pick<DomainDeps, 'bus' | 'redis' | 'keys' | 'db'>,
  projectId: string,
  id: string,
  timeoutMs: number,
): Promise<SettledStatus> {
  const marker = deps.keys.queuedEvent(projectId, id);
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  // Listening before the marker is checked: a settlement between the two is not missed.
  const stop = deps.bus.on('events.settled', (message) => {
    if (message.projectId === projectId && message.eventIds.includes(id)) settle();
  });
  const timer = setTimeout(settle, timeoutMs);
  try {
    await Promise.race([deps.bus.ready, settled]);
    if (await deps.redis.exists(marker)) await settled;
  } finally {
    clearTimeout(timer);
    stop();
  }
  const row = await deps.db
    .forProject(projectId)
    .event.findFirst({ where: { id }, select: { status: true } });
  return row?.status ?? 'queued';
}
