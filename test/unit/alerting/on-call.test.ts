// On-call arithmetic in an IANA zone: hand-offs stay at their wall-clock time across the
// spring-forward and fall-back days, layers stack, overrides win, gaps are found.
import { describe, expect, it } from 'vitest';
import {
  gapsBetween,
  instantOf,
  onCallAt,
  parseDate,
  shiftsBetween,
  type OnCallSchedule,
  type ScheduleLayer,
} from '../../../src/domain/alerting/on-call.js';

const NY = 'America/New_York';
const daily = (over: Partial<ScheduleLayer> = {}): ScheduleLayer => ({
  name: 'day',
  users: ['ann', 'bob'],
  rotation: 'daily',
  handoff: '09:00',
  start: '2026-03-01',
  ...over,
});
const schedule = (layers: ScheduleLayer[], overrides: OnCallSchedule['overrides'] = []): OnCallSchedule => ({
  timeZone: NY,
  layers,
  overrides,
});
const who = (s: OnCallSchedule, iso: string) => onCallAt(s, new Date(iso)).userIds;

describe('daily rotation across DST', () => {
  const s = schedule([daily()]);

  it('hands off at 09:00 EST (14:00 UTC) before the change', () => {
    // 2026-03-01 is day 0 (ann); 03-02 is bob.
    expect(who(s, '2026-03-02T13:59:59Z')).toEqual(['ann']);
    expect(who(s, '2026-03-02T14:00:00Z')).toEqual(['bob']);
  });

  it('hands off at 09:00 EDT (13:00 UTC) on the spring-forward day: a 23-hour shift', () => {
    // 03-07 is day 6 (ann), 03-08 (clocks jump 02:00 → 03:00) is day 7 (bob).
    expect(who(s, '2026-03-08T12:59:59Z')).toEqual(['ann']);
    expect(who(s, '2026-03-08T13:00:00Z')).toEqual(['bob']);
    const shift = shiftsBetween(s, new Date('2026-03-07T12:00:00Z'), new Date('2026-03-09T12:00:00Z'));
    expect(shift.map((x) => [x.userIds[0], x.start.toISOString()])).toEqual([
      ['bob', '2026-03-07T12:00:00.000Z'],
      ['ann', '2026-03-07T14:00:00.000Z'],
      ['bob', '2026-03-08T13:00:00.000Z'],
    ]);
    expect(shift[1]!.end.getTime() - shift[1]!.start.getTime()).toBe(23 * 3_600_000);
  });

  it('hands off at 09:00 EST (14:00 UTC) on the fall-back day: a 25-hour shift before it', () => {
    const fall = schedule([daily({ start: '2026-10-31' })]);
    // 10-31 ann (09:00 EDT = 13:00Z), 11-01 (01:00–02:00 happens twice) bob at 09:00 EST = 14:00Z.
    expect(who(fall, '2026-11-01T13:59:59Z')).toEqual(['ann']);
    expect(who(fall, '2026-11-01T14:00:00Z')).toEqual(['bob']);
    const [first] = shiftsBetween(fall, new Date('2026-10-31T13:00:00Z'), new Date('2026-11-02T00:00:00Z'));
    expect(first!.end.getTime() - first!.start.getTime()).toBe(25 * 3_600_000);
  });

  it('a hand-off inside the skipped hour happens when the clock jumps past it', () => {
    const s2 = schedule([daily({ handoff: '02:30' })]);
    // 02:30 does not exist on 2026-03-08; the clock goes from 01:59:59 EST to 03:00 EDT (07:00Z).
    expect(instantOf(parseDate('2026-03-08'), 150, NY)).toBe(Date.parse('2026-03-08T07:30:00Z'));
    expect(who(s2, '2026-03-08T06:59:59Z')).toEqual(['ann']);
    expect(who(s2, '2026-03-08T07:00:00Z')).toEqual(['bob']);
  });
});

describe('weekly and custom rotations', () => {
  it('weekly: one user per seven local days, handing off on the start weekday', () => {
    const s = schedule([daily({ rotation: 'weekly', start: '2026-10-26', users: ['ann', 'bob', 'cy'] })]);
    expect(who(s, '2026-11-02T13:59:59Z')).toEqual(['ann']); // 09:00 EST is 14:00Z after fall-back
    expect(who(s, '2026-11-02T14:00:00Z')).toEqual(['bob']);
    expect(who(s, '2026-11-16T14:00:00Z')).toEqual(['ann']);
  });

  it('custom: elapsed hours from the first hand-off, DST or not', () => {
    const s = schedule([
      daily({ rotation: 'custom', lengthHours: 12, start: '2026-03-07', handoff: '20:00' }),
    ]);
    // First shift 2026-03-08T01:00Z (20:00 EST); 12 h later is 13:00Z, although the clock shows 09:00 EDT.
    expect(who(s, '2026-03-08T12:59:59Z')).toEqual(['ann']);
    expect(who(s, '2026-03-08T13:00:00Z')).toEqual(['bob']);
    expect(who(s, '2026-03-08T00:59:59Z')).toEqual([]);
  });
});

describe('layers, overrides and gaps', () => {
  const day = daily({ restrict: { from: '08:00', to: '20:00' }, handoff: '08:00' });
  const night = daily({
    name: 'night',
    users: ['nia', 'ned'],
    handoff: '20:00',
    restrict: { from: '20:00', to: '08:00' },
  });

  it('the night layer covers 20:00–08:00 local, above the day layer', () => {
    const s = schedule([day, night]);
    expect(onCallAt(s, new Date('2026-03-03T14:00:00Z'))).toEqual({ userIds: ['ann'], source: 'day' }); // 09:00 EST
    // 21:00 EST on 03-02: the night layer's second shift.
    expect(onCallAt(s, new Date('2026-03-03T02:00:00Z'))).toEqual({ userIds: ['ned'], source: 'night' });
  });

  it('an override wins for its window only', () => {
    const s = schedule(
      [day, night],
      [
        {
          userId: 'zed',
          startsAt: new Date('2026-03-03T13:00:00Z'),
          endsAt: new Date('2026-03-03T15:00:00Z'),
        },
      ],
    );
    expect(onCallAt(s, new Date('2026-03-03T14:00:00Z'))).toEqual({ userIds: ['zed'], source: 'override' });
    expect(who(s, '2026-03-03T15:00:00Z')).toEqual(['ann']);
  });

  it('reports the hours nobody covers', () => {
    const s = schedule([day]);
    const gaps = gapsBetween(s, new Date('2026-03-03T05:00:00Z'), new Date('2026-03-04T05:00:00Z'));
    // Day layer 08:00–20:00 EST = 13:00Z–01:00Z; the rest of the window is a gap.
    expect(gaps.map((g) => [g.start.toISOString(), g.end.toISOString()])).toEqual([
      ['2026-03-03T05:00:00.000Z', '2026-03-03T13:00:00.000Z'],
      ['2026-03-04T01:00:00.000Z', '2026-03-04T05:00:00.000Z'],
    ]);
    expect(
      gapsBetween(schedule([day, night]), new Date('2026-03-03T05:00:00Z'), new Date('2026-03-10T05:00:00Z')),
    ).toEqual([]);
  });
});
