// Who is on call, computed from a schedule's layers and overrides at an instant, with the IANA
// time zone read through Intl (no tz library). Daily and weekly rotations hand off at a wall-clock
// time, so on DST days a shift is 23 or 25 hours long and the hand-off stays at, say, 09:00;
// custom rotations count elapsed hours from their first hand-off. A hand-off time that does not
// exist on a spring-forward day happens when the clock reaches it (02:30 becomes 03:30).

export type Rotation = 'daily' | 'weekly' | 'custom';

export interface ScheduleLayer {
  name: string;
  /** User ids in rotation order. */
  users: string[];
  rotation: Rotation;
  /** Custom rotations: the length of one shift, in hours. */
  lengthHours?: number;
  /** Local "HH:MM" at which one shift hands over to the next. */
  handoff: string;
  /** Local "YYYY-MM-DD" of the first shift (users[0]); nobody is on call in this layer before it. */
  start: string;
  /** Only these local hours each day, e.g. a night rotation { from: "20:00", to: "08:00" }. */
  restrict?: { from: string; to: string } | null;
}

export interface OverrideWindow {
  userId: string;
  startsAt: Date;
  endsAt: Date;
}

export interface OnCallSchedule {
  timeZone: string;
  /** Lowest first: a higher layer wins wherever it has someone on call. */
  layers: ScheduleLayer[];
  overrides: OverrideWindow[];
}

export interface OnCall {
  userIds: string[];
  /** The layer's name, "override", or null when nobody is on call. */
  source: string | null;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws RangeError for a time zone Intl does not know. */
export function assertTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone });
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

interface LocalTime {
  /** Days since 1970-01-01 of the local calendar date. */
  day: number;
  /** Minutes since local midnight (fractional). */
  minute: number;
}

/** The wall-clock date and time of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(at)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const day = Date.UTC(parts.year!, parts.month! - 1, parts.day!) / DAY_MS;
  const minute = parts.hour! * 60 + parts.minute! + (parts.second! + at.getUTCMilliseconds() / 1000) / 60;
  return { day, minute };
}

/** The zone's offset from UTC at `at`, in ms. */
function offsetAt(at: number, timeZone: string): number {
  const { day, minute } = localTime(new Date(at), timeZone);
  return day * DAY_MS + Math.round(minute * MINUTE_MS) - at;
}

/** The instant at which the local clock in `timeZone` shows `minute` on local `day`. */
export function instantOf(day: number, minute: number, timeZone: string): number {
  const wall = day * DAY_MS + minute * MINUTE_MS;
  const first = wall - offsetAt(wall, timeZone);
  const second = wall - offsetAt(first, timeZone);
  // In a spring-forward gap neither guess shows `wall`: take the later one (the clock has jumped).
  return Math.max(first, second);
}

export const parseClock = (clock: string): number => {
  const [h, m] = clock.split(':').map(Number);
  return h! * 60 + m!;
};

export const parseDate = (date: string): number => Date.parse(`${date}T00:00:00Z`) / DAY_MS;

/** Whether local `minute` falls in the daily window (which may wrap past midnight). */
function inWindow(minute: number, restrict: { from: string; to: string }): boolean {
  const from = parseClock(restrict.from);
  const to = parseClock(restrict.to);
  return from <= to ? minute >= from && minute < to : minute >= from || minute < to;
}

/** The shift number of the layer at `at` (0 for users[0]'s first shift), or -1 before the start. */
function shiftIndex(layer: ScheduleLayer, at: Date, timeZone: string): number {
  const handoff = parseClock(layer.handoff);
  const startDay = parseDate(layer.start);
  if (layer.rotation === 'custom') {
    const first = instantOf(startDay, handoff, timeZone);
    const elapsed = at.getTime() - first;
    return elapsed < 0 ? -1 : Math.floor(elapsed / ((layer.lengthHours ?? 24) * 3_600_000));
  }
  const local = localTime(at, timeZone);
  // Before today's hand-off, the shift that began yesterday is still on.
  const days = local.day - startDay - (local.minute < handoff ? 1 : 0);
  if (days < 0) return -1;
  return layer.rotation === 'weekly' ? Math.floor(days / 7) : days;
}

function layerOnCall(layer: ScheduleLayer, at: Date, timeZone: string): string | null {
  if (layer.users.length === 0) return null;
  if (layer.restrict && !inWindow(localTime(at, timeZone).minute, layer.restrict)) return null;
  const index = shiftIndex(layer, at, timeZone);
  return index < 0 ? null : layer.users[index % layer.users.length]!;
}

export function onCallAt(schedule: OnCallSchedule, at: Date): OnCall {
  const overriding = schedule.overrides.filter((o) => o.startsAt <= at && at < o.endsAt);
  if (overriding.length) {
    return { userIds: [...new Set(overriding.map((o) => o.userId))].sort(), source: 'override' };
  }
  for (const layer of [...schedule.layers].reverse()) {
    const userId = layerOnCall(layer, at, schedule.timeZone);
    if (userId) return { userIds: [userId], source: layer.name };
  }
  return { userIds: [], source: null };
}

/** Every instant in [from, to) at which who is on call may change, sorted, from included. */
function changePoints(schedule: OnCallSchedule, from: number, to: number): number[] {
  const points = new Set<number>([from]);
  const add = (t: number) => {
    if (t > from && t < to) points.add(t);
  };
  const { timeZone } = schedule;
  const firstDay = localTime(new Date(from), timeZone).day - 1;
  const lastDay = localTime(new Date(to), timeZone).day + 1;
  for (const layer of schedule.layers) {
    const clocks = [layer.handoff, ...(layer.restrict ? [layer.restrict.from, layer.restrict.to] : [])];
    for (let day = firstDay; day <= lastDay; day++) {
      for (const clock of clocks) add(instantOf(day, parseClock(clock), timeZone));
    }
    if (layer.rotation === 'custom') {
      const first = instantOf(parseDate(layer.start), parseClock(layer.handoff), timeZone);
      const length = (layer.lengthHours ?? 24) * 3_600_000;
      const k0 = Math.max(0, Math.floor((from - first) / length));
      for (let t = first + k0 * length; t < to; t += length) add(t);
    }
  }
  for (const o of schedule.overrides) {
    add(o.startsAt.getTime());
    add(o.endsAt.getTime());
  }
  return [...points].sort((a, b) => a - b);
}

export interface Shift extends OnCall {
  start: Date;
  end: Date;
}

/** Who is on call over [from, to), as consecutive shifts (merged when nothing changes). */
export function shiftsBetween(schedule: OnCallSchedule, from: Date, to: Date): Shift[] {
  const end = to.getTime();
  const points = changePoints(schedule, from.getTime(), end);
  const shifts: Shift[] = [];
  points.forEach((start, i) => {
    const onCall = onCallAt(schedule, new Date(start));
    const last = shifts.at(-1);
    const same = last && last.source === onCall.source && last.userIds.join() === onCall.userIds.join();
    const until = new Date(points[i + 1] ?? end);
    if (same) last.end = until;
    else shifts.push({ ...onCall, start: new Date(start), end: until });
  });
  return shifts;
}

/** The stretches of [from, to) with nobody on call. */
export function gapsBetween(
  schedule: OnCallSchedule,
  from: Date,
  to: Date,
): Array<{ start: Date; end: Date }> {
  return shiftsBetween(schedule, from, to)
    .filter((s) => s.userIds.length === 0)
    .map(({ start, end }) => ({ start, end }));
}
