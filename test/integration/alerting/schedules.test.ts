// Schedules through the API: who is on call at an instant (DST-correct in the schedule's zone),
// overrides, gaps in the read, bad input refused, other projects see nothing, and a schedule as
// the target of a rule.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { awaitAlert, awaitEntries, person, postEvent } from './support.js';

let hub: TestHub;
let project: TestProject;
let other: TestProject;

beforeAll(async () => {
  hub = await startHub();
  const sa = await superAdminToken(hub);
  project = await createTestProject(hub, sa);
  other = await createTestProject(hub, sa);
});
afterAll(() => hub.close());

const admin = () => ({ token: project.adminToken });
const layer = (users: string[], extra: Record<string, unknown> = {}) => ({
  name: 'primary',
  users,
  rotation: 'daily',
  handoff: '09:00',
  start: '2026-03-01',
  ...extra,
});

describe('schedules', () => {
  it('answers who is on call across the spring-forward day, with overrides winning', async () => {
    const [ann, bob, zed] = [
      await person(hub, project),
      await person(hub, project),
      await person(hub, project),
    ];
    const created = await api(
      hub,
      'POST',
      '/api/v1/schedules',
      { name: `ny-${Date.now()}`, timeZone: 'America/New_York', layers: [layer([ann.id, bob.id])] },
      admin(),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const at = (iso: string) =>
      api(hub, 'GET', `/api/v1/schedules/${id}/on-call?at=${iso}`, undefined, admin());
    // 2026-03-08: clocks jump at 02:00; the 09:00 EDT hand-off is at 13:00Z.
    expect((await at('2026-03-08T12:59:00Z')).body).toMatchObject({ userIds: [ann.id], source: 'primary' });
    expect((await at('2026-03-08T13:00:00Z')).body).toMatchObject({ userIds: [bob.id], source: 'primary' });

    const override = await api(
      hub,
      'POST',
      `/api/v1/schedules/${id}/overrides`,
      { userId: zed.id, startsAt: '2026-03-08T12:00:00Z', endsAt: '2026-03-08T14:00:00Z' },
      admin(),
    );
    expect(override.status).toBe(201);
    const during = await at('2026-03-08T13:30:00Z');
    expect(during.body).toMatchObject({ userIds: [zed.id], source: 'override' });
    expect(during.body.shifts[0]).toMatchObject({ userIds: [zed.id], end: '2026-03-08T14:00:00.000Z' });
    expectError(
      await api(
        hub,
        'POST',
        `/api/v1/schedules/${id}/overrides`,
        { userId: zed.id, startsAt: '2026-03-08T14:00:00Z', endsAt: '2026-03-08T13:00:00Z' },
        admin(),
      ),
      400,
      'invalid_window',
    );
    const removed = await api(
      hub,
      'DELETE',
      `/api/v1/schedules/${id}/overrides/${override.body.id}`,
      undefined,
      admin(),
    );
    expect(removed.status).toBe(204);
    expect((await at('2026-03-08T13:30:00Z')).body.userIds).toEqual([bob.id]);

    // Another project's token finds nothing.
    expectError(
      await api(hub, 'GET', `/api/v1/schedules/${id}`, undefined, { token: other.adminToken }),
      404,
    );
    expectError(
      await api(hub, 'GET', `/api/v1/schedules/${id}/on-call`, undefined, { token: other.adminToken }),
      404,
    );
    expect(
      (await api(hub, 'GET', '/api/v1/schedules', undefined, { token: other.adminToken })).body.items,
    ).toEqual([]);
  });

  it('reports gaps in the read: a day-only layer leaves the nights uncovered', async () => {
    const ann = await person(hub, project);
    const res = await api(
      hub,
      'POST',
      '/api/v1/schedules',
      {
        name: `days-${Date.now()}`,
        timeZone: 'Europe/Berlin',
        layers: [layer([ann.id], { start: '2026-01-01', restrict: { from: '08:00', to: '20:00' } })],
      },
      admin(),
    );
    expect(res.status).toBe(201);
    // 14 days ahead: about one 12-hour gap a night.
    expect(res.body.gaps.length).toBeGreaterThanOrEqual(14);
    for (const gap of res.body.gaps as Array<{ start: string; end: string }>) {
      expect(Date.parse(gap.end) - Date.parse(gap.start)).toBeLessThanOrEqual(13 * 3_600_000);
    }
  });

  it('refuses an unknown time zone, bad clocks, a custom rotation without length and foreign users', async () => {
    const ann = await person(hub, project);
    const post = (body: Record<string, unknown>) =>
      api(
        hub,
        'POST',
        '/api/v1/schedules',
        { name: `bad-${Date.now()}`, timeZone: 'UTC', layers: [layer([ann.id])], ...body },
        admin(),
      );
    expectError(await post({ timeZone: 'Mars/Olympus' }), 400, 'invalid_time_zone');
    expectError(await post({ layers: [layer([ann.id], { handoff: '24:00' })] }), 400, 'validation_failed');
    expectError(await post({ layers: [layer([ann.id], { rotation: 'custom' })] }), 400, 'validation_failed');
    expectError(await post({ layers: [layer([])] }), 400, 'validation_failed');
    const stranger = await person(hub, other);
    expectError(await post({ layers: [layer([stranger.id])] }), 400, 'unknown_user');
  });

  it('exports its shifts as an iCalendar file: one event per shift, 23 h on the spring-forward day', async () => {
    const [ann, bob] = [await person(hub, project), await person(hub, project)];
    const created = await api(
      hub,
      'POST',
      '/api/v1/schedules',
      {
        name: `Payments; night, ops-${Date.now()}`,
        timeZone: 'Europe/Berlin',
        layers: [layer([ann.id, bob.id])],
      },
      admin(),
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    const from = '2026-03-28T00:00:00.000Z'; // Berlin springs forward on the 29th
    const ics = await api(
      hub,
      'GET',
      `/api/v1/schedules/${id}/calendar.ics?from=${from}&days=2`,
      undefined,
      admin(),
    );
    expect(ics.status).toBe(200);
    expect(ics.headers.get('content-type')).toBe('text/calendar; charset=utf-8');
    const text = ics.body as string;
    expect(text.startsWith('BEGIN:VCALENDAR\r\nVERSION:2.0\r\n')).toBe(true);
    expect(text.endsWith('END:VCALENDAR\r\n')).toBe(true);

    // The same shifts the on-call read gives, with the people's names.
    const onCall = await api(
      hub,
      'GET',
      `/api/v1/schedules/${id}/on-call?at=${from}&hours=48`,
      undefined,
      admin(),
    );
    const shifts = onCall.body.shifts as Array<{ start: string; end: string; userIds: string[] }>;
    const people = await hub.running.db
      .forProject(project.id)
      .user.findMany({ where: { id: { in: [ann.id, bob.id] } }, select: { id: true, fullName: true } });
    const nameOf = new Map(people.map((u) => [u.id, u.fullName]));
    const stamp = (iso: string) => iso.replace(/[-:]/g, '').replace('.000', '');
    const events = text
      .replace(/\r\n /g, '') // unfold
      .split('BEGIN:VEVENT\r\n')
      .slice(1)
      .map((block) =>
        Object.fromEntries(block.split('\r\n').map((line) => line.split(/:(.*)/s).slice(0, 2))),
      );
    expect(events.map((e) => [e.DTSTART, e.DTEND, e.SUMMARY])).toEqual(
      shifts.map((s) => [
        stamp(s.start),
        stamp(s.end),
        `On call: ${s.userIds.map((u) => nameOf.get(u)).join('\\, ')}`,
      ]),
    );
    // Bob's shift runs from 09:00 CET to 09:00 CEST: 23 hours.
    const bobs = shifts.find((s) => s.userIds[0] === bob.id)!;
    expect((Date.parse(bobs.end) - Date.parse(bobs.start)) / 3_600_000).toBe(23);
    expect(new Set(events.map((e) => e.UID)).size).toBe(events.length);
    expect(text).toContain('X-WR-CALNAME:On call: Payments\\; night\\, ops-');

    expectError(
      await api(hub, 'GET', `/api/v1/schedules/${id}/calendar.ics?days=91`, undefined, admin()),
      400,
      'validation_failed',
    );
    expectError(
      await api(hub, 'GET', `/api/v1/schedules/${id}/calendar.ics`, undefined, { token: other.adminToken }),
      404,
      'not_found',
    );
  });

  it('is a valid target of a rule: its on-call user is paged', async () => {
    const ann = await person(hub, project);
    const schedule = await api(
      hub,
      'POST',
      '/api/v1/schedules',
      {
        name: `rule-target-${Date.now()}`,
        timeZone: 'UTC',
        layers: [layer([ann.id], { start: '2020-01-01' })],
      },
      admin(),
    );
    const type = `scheduled.${Date.now()}`;
    const rule = await api(
      hub,
      'POST',
      '/api/v1/rules',
      {
        name: `s-${Date.now()}`,
        condition: `event.type == "${type}"`,
        title: 't',
        body: 'b',
        targetRoles: [],
        targetSchedules: [schedule.body.id],
        alert: { dedupKey: '' },
      },
      admin(),
    );
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    expectError(
      await api(
        hub,
        'POST',
        '/api/v1/rules',
        {
          name: 'x',
          condition: 'true',
          title: 't',
          body: 'b',
          targetRoles: [],
          targetSchedules: [schedule.body.id],
        },
        { token: other.adminToken },
      ),
      400,
      'unknown_target',
    );
    await postEvent(hub, project, type, {});
    const alert = await awaitAlert(hub, project.id, { ruleId: rule.body.id });
    await awaitEntries(hub, project.id, alert.id, 'notified', 1);
    const page = await hub.running.db.forProject(project.id).notification.findFirst({
      where: { alertId: alert.id },
      include: { receipts: true },
    });
    expect(page!.receipts.map((r) => r.userId)).toEqual([ann.id]);
    expectError(
      await api(hub, 'DELETE', `/api/v1/schedules/${schedule.body.id}`, undefined, admin()),
      409,
      'schedule_in_use',
    );
  });
});
