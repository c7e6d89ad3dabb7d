// On-call schedules: layers of rotations in an IANA time zone plus time-bounded overrides.
// Reading a schedule reports its gaps (stretches with nobody on call) for the next two weeks, so
// a hole is seen before an alert falls into it.
import { badRequest, notFound, conflict } from '../../core/errors.js';
import { isUniqueViolation, type Prisma, type ProjectDb } from '../../core/db.js';
import { uuidv7 } from '../../core/ids.js';
import { pageArgs, type DomainDeps, type Page } from '../deps.js';
import type { Principal } from '../principal.js';
import {
  assertTimeZone,
  gapsBetween,
  onCallAt,
  shiftsBetween,
  type OnCallSchedule,
  type ScheduleLayer,
} from './on-call.js';
import { scheduleCalendar } from './ical.js';

export const GAP_HORIZON_MS = 14 * 86_400_000;
/** The longest window one read computes shifts for. */
export const MAX_WINDOW_MS = 90 * 86_400_000;

export interface ScheduleFields {
  name: string;
  description?: string | null;
  timeZone: string;
  layers: ScheduleLayer[];
}

const scheduleSelect = {
  id: true,
  name: true,
  description: true,
  timeZone: true,
  layers: true,
  createdAt: true,
  updatedAt: true,
} as const;

type ScheduleRow = Prisma.ScheduleGetPayload<{ select: typeof scheduleSelect }>;

const overrideSelect = {
  id: true,
  userId: true,
  startsAt: true,
  endsAt: true,
  createdBy: true,
  createdAt: true,
} as const;

function checkTimeZone(timeZone: string | undefined) {
  if (timeZone === undefined) return;
  try {
    assertTimeZone(timeZone);
  } catch {
    throw badRequest(
      'invalid_time_zone',
      `timeZone: "${timeZone}" is not an IANA time zone (e.g. Europe/Berlin)`,
    );
  }
}

async function checkUsers(db: ProjectDb, userIds: string[], field: string) {
  const ids = [...new Set(userIds)];
  const found = await db.user.findMany({ where: { id: { in: ids } }, select: { id: true } });
  const missing = ids.filter((id) => !found.some((u) => u.id === id));
  if (missing.length)
    throw badRequest('unknown_user', `${field}: no user ${missing.join(', ')} in this project`, { missing });
}

const nameTaken = (name: string | undefined) => (err: unknown) => {
  if (isUniqueViolation(err))
    throw conflict('name_taken', `A schedule named "${name}" exists; choose another name`);
  throw err;
};

/** The schedule with the overrides that overlap [from, to). */
async function loadWindow(db: ProjectDb, row: ScheduleRow, from: Date, to: Date): Promise<OnCallSchedule> {
  const overrides = await db.scheduleOverride.findMany({
    where: { scheduleId: row.id, startsAt: { lt: to }, endsAt: { gt: from } },
    select: { userId: true, startsAt: true, endsAt: true },
  });
  return { timeZone: row.timeZone, layers: row.layers as unknown as ScheduleLayer[], overrides };
}

async function scheduleView(db: ProjectDb, row: ScheduleRow, now = new Date()) {
  const until = new Date(now.getTime() + GAP_HORIZON_MS);
  const window = await loadWindow(db, row, now, until);
  const overrides = await db.scheduleOverride.findMany({
    where: { scheduleId: row.id, endsAt: { gt: now } },
    select: overrideSelect,
    orderBy: { startsAt: 'asc' },
  });
  return { ...row, layers: window.layers, overrides, gaps: gapsBetween(window, now, until) };
}

async function findSchedule(db: ProjectDb, id: string) {
  const row = await db.schedule.findFirst({ where: { id, deletedAt: null }, select: scheduleSelect });
  if (!row) throw notFound('Schedule');
  return row;
}

export async function createSchedule(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  fields: ScheduleFields,
) {
  checkTimeZone(fields.timeZone);
  const db = deps.db.forProject(projectId);
  await checkUsers(
    db,
    fields.layers.flatMap((l) => l.users),
    'layers[].users',
  );
  const row = await db.schedule
    .create({
      data: {
        id: uuidv7(),
        projectId,
        name: fields.name,
        description: fields.description,
        timeZone: fields.timeZone,
        layers: fields.layers as unknown as Prisma.InputJsonValue,
      },
      select: scheduleSelect,
    })
    .catch(nameTaken(fields.name));
  deps.audit.record({
    projectId,
    principal,
    action: 'schedule.create',
    resourceType: 'schedule',
    resourceId: row.id,
  });
  return scheduleView(db, row);
}

export async function listSchedules(deps: DomainDeps, projectId: string, page: Page) {
  const db = deps.db.forProject(projectId);
  const where = { deletedAt: null };
  const [rows, total] = await Promise.all([
    db.schedule.findMany({ where, select: scheduleSelect, orderBy: { name: 'asc' }, ...pageArgs(page) }),
    db.schedule.count({ where }),
  ]);
  return { items: await Promise.all(rows.map((row) => scheduleView(db, row))), ...page, total };
}

export async function getSchedule(deps: DomainDeps, projectId: string, id: string) {
  const db = deps.db.forProject(projectId);
  return scheduleView(db, await findSchedule(db, id));
}

export async function updateSchedule(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  id: string,
  fields: Partial<ScheduleFields>,
) {
  checkTimeZone(fields.timeZone);
  const db = deps.db.forProject(projectId);
  await findSchedule(db, id);
  if (fields.layers)
    await checkUsers(
      db,
      fields.layers.flatMap((l) => l.users),
      'layers[].users',
    );
  const row = await db.schedule
    .update({
      where: { id },
      data: {
        name: fields.name,
        description: fields.description,
        timeZone: fields.timeZone,
        layers: fields.layers as unknown as Prisma.InputJsonValue | undefined,
      },
      select: scheduleSelect,
    })
    .catch(nameTaken(fields.name));
  deps.audit.record({
    projectId,
    principal,
    action: 'schedule.update',
    resourceType: 'schedule',
    resourceId: id,
    metadata: { fields: Object.keys(fields) },
  });
  return scheduleView(db, row);
}

/** Refused while a policy step or a rule targets it. */
export async function deleteSchedule(deps: DomainDeps, principal: Principal, projectId: string, id: string) {
  const db = deps.db.forProject(projectId);
  await findSchedule(db, id);
  const [policies, rules] = await Promise.all([
    db.escalationPolicy.findMany({ where: { deletedAt: null }, select: { id: true, steps: true } }),
    db.rule.findMany({
      where: { deletedAt: null, targetSchedules: { array_contains: [id] } },
      select: { id: true },
    }),
  ]);
  const users = policies.filter((p) =>
    (p.steps as Array<{ targets: Array<{ type: string; id: string }> }>).some((s) =>
      s.targets.some((t) => t.type === 'schedule' && t.id === id),
    ),
  );
  if (users.length || rules.length) {
    throw conflict(
      'schedule_in_use',
      `Still targeted by ${[...users.map((p) => `policy ${p.id}`), ...rules.map((r) => `rule ${r.id}`)].join(', ')}; remove it there first`,
    );
  }
  await db.schedule.update({ where: { id }, data: { deletedAt: new Date(), name: `${id} (deleted)` } });
  deps.audit.record({
    projectId,
    principal,
    action: 'schedule.delete',
    resourceType: 'schedule',
    resourceId: id,
  });
}

export async function addOverride(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  scheduleId: string,
  input: { userId: string; startsAt: Date; endsAt: Date },
) {
  if (input.endsAt <= input.startsAt) throw badRequest('invalid_window', 'endsAt must be after startsAt');
  if (input.endsAt.getTime() - input.startsAt.getTime() > MAX_WINDOW_MS) {
    throw badRequest('window_too_long', 'An override may last at most 90 days; add several');
  }
  const db = deps.db.forProject(projectId);
  await findSchedule(db, scheduleId);
  await checkUsers(db, [input.userId], 'userId');
  const row = await db.scheduleOverride.create({
    data: {
      id: uuidv7(),
      projectId,
      scheduleId,
      ...input,
      createdBy: principal.kind === 'user' ? principal.userId : null,
    },
    select: overrideSelect,
  });
  deps.audit.record({
    projectId,
    principal,
    action: 'schedule.override',
    resourceType: 'schedule',
    resourceId: scheduleId,
    metadata: { overrideId: row.id, userId: input.userId },
  });
  return row;
}

export async function deleteOverride(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  scheduleId: string,
  id: string,
) {
  const { count } = await deps.db
    .forProject(projectId)
    .scheduleOverride.deleteMany({ where: { id, scheduleId } });
  if (count === 0) throw notFound('Override');
  deps.audit.record({
    projectId,
    principal,
    action: 'schedule.override_delete',
    resourceType: 'schedule',
    resourceId: scheduleId,
    metadata: { overrideId: id },
  });
}

/** Who is on call at `at`, and the shifts from there over `hours`. */
export async function onCall(deps: DomainDeps, projectId: string, id: string, at: Date, hours = 24) {
  const db = deps.db.forProject(projectId);
  const row = await findSchedule(db, id);
  const until = new Date(at.getTime() + hours * 3_600_000);
  const window = await loadWindow(db, row, at, until);
  return { at, ...onCallAt(window, at), shifts: shiftsBetween(window, at, until) };
}

/** The schedule's shifts over `days` from `from` as an iCalendar document, named after its people. */
export async function calendarOf(deps: DomainDeps, projectId: string, id: string, from: Date, days: number) {
  const db = deps.db.forProject(projectId);
  const row = await findSchedule(db, id);
  const until = new Date(from.getTime() + days * 86_400_000);
  const shifts = shiftsBetween(await loadWindow(db, row, from, until), from, until);
  const users = await db.user.findMany({
    where: { id: { in: [...new Set(shifts.flatMap((s) => s.userIds))] } },
    select: { id: true, fullName: true },
  });
  return scheduleCalendar({
    scheduleId: row.id,
    name: row.name,
    shifts,
    names: new Map(users.map((u) => [u.id, u.fullName])),
    now: new Date(),
  });
}

/** The users on call now in each of `scheduleIds` (deleted or unknown schedules give nobody). */
export async function onCallUsers(
  db: ProjectDb,
  scheduleIds: readonly string[],
  at: Date,
): Promise<string[]> {
  if (!scheduleIds.length) return [];
  const rows = await db.schedule.findMany({
    where: { id: { in: [...scheduleIds] }, deletedAt: null },
    select: scheduleSelect,
  });
  const users = new Set<string>();
  for (const row of rows) {
    const window = await loadWindow(db, row, at, new Date(at.getTime() + 1));
    for (const userId of onCallAt(window, at).userIds) users.add(userId);
  }
  return [...users];
}
