// Heartbeats: an event source (a batch job, a payment connector) that must check in at least
// every `intervalSeconds`. A ping moves its deadline on; a deadline passed without one puts the
// internal event `source.silent` into the project's stream — rules decide who is alerted — once
// per silence, and the next ping emits `source.recovered`. Emitting follows the bucket monitor:
// the event is appended under the row lock, before the commit, with an idempotency key naming
// the silence, so a check that dies before its commit is repeated without a second event.
import { conflict, notFound } from '../core/errors.js';
import { isRecordMissing, isUniqueViolation, type Prisma } from '../core/db.js';
import { uuidv7 } from '../core/ids.js';
import { pageArgs, type DomainDeps, type Page } from './deps.js';
import { appendEvents } from './events.js';
import type { Principal } from './principal.js';

export const SILENT_EVENT = 'source.silent';
export const RECOVERED_EVENT = 'source.recovered';
/** How many heartbeats one project may have. */
export const MAX_HEARTBEATS = 100;
/** Heartbeats looked at per check; more are left to the next one. */
const CHECK_BATCH = 500;

const heartbeatSelect = {
  id: true,
  name: true,
  intervalSeconds: true,
  lastSeenAt: true,
  dueBy: true,
  silentSince: true,
  createdAt: true,
  updatedAt: true,
} as const;

type HeartbeatRow = Prisma.HeartbeatGetPayload<{ select: typeof heartbeatSelect }>;

export const heartbeatView = (row: HeartbeatRow) => ({
  ...row,
  state: row.silentSince ? ('silent' as const) : ('ok' as const),
});

type EmitDeps = Pick<DomainDeps, 'db' | 'redis' | 'keys' | 'metrics'>;

const payloadOf = (row: HeartbeatRow) => ({
  heartbeatId: row.id,
  name: row.name,
  intervalSeconds: row.intervalSeconds,
  lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
});

export async function createHeartbeat(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  input: { name: string; intervalSeconds: number },
) {
  const db = deps.db.forProject(projectId);
  if ((await db.heartbeat.count()) >= MAX_HEARTBEATS)
    throw conflict('heartbeat_limit', `A project has at most ${MAX_HEARTBEATS} heartbeats: delete one first`);
  const id = uuidv7();
  const row = await db.heartbeat
    .create({
      // The first deadline runs from the creation: a source gets one interval to start pinging.
      data: { id, projectId, ...input, dueBy: new Date(Date.now() + input.intervalSeconds * 1000) },
      select: heartbeatSelect,
    })
    .catch((err: unknown) => {
      if (isUniqueViolation(err))
        throw conflict('heartbeat_name_taken', `A heartbeat named "${input.name}" exists`);
      throw err;
    });
  deps.audit.record({
    projectId,
    principal,
    action: 'heartbeat.create',
    resourceType: 'heartbeat',
    resourceId: id,
  });
  return heartbeatView(row);
}

export async function listHeartbeats(deps: DomainDeps, projectId: string, query: Page) {
  const db = deps.db.forProject(projectId);
  const [rows, total] = await Promise.all([
    db.heartbeat.findMany({ select: heartbeatSelect, orderBy: { name: 'asc' }, ...pageArgs(query) }),
    db.heartbeat.count(),
  ]);
  return { items: rows.map(heartbeatView), page: query.page, pageSize: query.pageSize, total };
}

export async function getHeartbeat(deps: DomainDeps, projectId: string, id: string) {
  const row = await deps.db
    .forProject(projectId)
    .heartbeat.findFirst({ where: { id }, select: heartbeatSelect });
  if (!row) throw notFound('Heartbeat');
  return heartbeatView(row);
}

export async function deleteHeartbeat(deps: DomainDeps, principal: Principal, projectId: string, id: string) {
  const { count } = await deps.db.forProject(projectId).heartbeat.deleteMany({ where: { id } });
  if (!count) throw notFound('Heartbeat');
  deps.audit.record({
    projectId,
    principal,
    action: 'heartbeat.delete',
    resourceType: 'heartbeat',
    resourceId: id,
  });
}

/** From the source (API key): moves the deadline on; ends a silence with source.recovered. */
export async function pingHeartbeat(deps: EmitDeps, projectId: string, id: string) {
  const db = deps.db.forProject(projectId);
  try {
    return await db.$transaction(async (tx) => {
      const now = new Date();
      // The first UPDATE takes the row lock, so a check running now waits and then sees the ping.
      const before = await tx.heartbeat.update({
        where: { id, projectId },
        data: { lastSeenAt: now },
        select: heartbeatSelect,
      });
      const after = await tx.heartbeat.update({
        where: { id, projectId },
        data: { dueBy: new Date(now.getTime() + before.intervalSeconds * 1000), silentSince: null },
        select: heartbeatSelect,
      });
      if (before.silentSince) {
        await appendEvents(deps, projectId, [
          {
            type: RECOVERED_EVENT,
            source: 'tocsin',
            payload: { ...payloadOf(before), silentSince: before.silentSince.toISOString() },
            idempotencyKey: `heartbeat:${id}:recovered:${before.silentSince.getTime()}`,
          },
        ]);
      }
      return heartbeatView(after);
    });
  } catch (err) {
    if (isRecordMissing(err)) throw notFound('Heartbeat');
    throw err;
  }
}

/**
 * The monitor's pass (worker role): every heartbeat past its deadline and not yet silent goes
 * silent and emits source.silent. Returns how many did.
 */
export async function checkHeartbeats(deps: EmitDeps, now = new Date()): Promise<number> {
  const overdue = await deps.db.system.heartbeat.findMany({
    where: { silentSince: null, dueBy: { lt: now } },
    select: { id: true, projectId: true },
    orderBy: { dueBy: 'asc' },
    take: CHECK_BATCH,
  });
  let silenced = 0;
  for (const { id, projectId } of overdue) {
    const db = deps.db.forProject(projectId);
    silenced += await db.$transaction(async (tx) => {
      const row = await tx.heartbeat.findFirst({ where: { id }, select: heartbeatSelect });
      // Pinged, deleted or silenced by another worker since the query: nothing to do.
      if (!row || row.silentSince || row.dueBy >= now) return 0;
      const { count } = await tx.heartbeat.updateMany({
        where: { id, silentSince: null, dueBy: row.dueBy },
        data: { silentSince: now },
      });
      if (!count) return 0;
      await appendEvents(deps, projectId, [
        {
          type: SILENT_EVENT,
          source: 'tocsin',
          payload: { ...payloadOf(row), dueBy: row.dueBy.toISOString() },
          idempotencyKey: `heartbeat:${id}:silent:${row.dueBy.getTime()}`,
        },
      ]);
      return 1;
    });
  }
  return silenced;
}
