// `tocsin schedule who`: who is on call in each of a project's schedules, now or at --at, with
// the user's email (what an operator at a shell wants to know before paging someone by hand).
import * as schedules from '../domain/alerting/schedules.js';
import type { Services } from '../services.js';
import { CliError, EXIT, say, table } from './output.js';
import { resolveProjectId } from './project.js';

export async function scheduleWho(
  services: Services,
  options: { project?: string; at?: string },
): Promise<number> {
  const at = options.at ? new Date(options.at) : new Date();
  if (Number.isNaN(at.getTime()))
    throw new CliError(
      `--at is an ISO 8601 instant, e.g. 2026-03-08T13:00:00Z (got "${options.at}")`,
      EXIT.usage,
    );
  const projectId = await resolveProjectId(services, options.project);
  const page = await schedules.listSchedules(services, projectId, { page: 1, pageSize: 200 });
  if (!page.items.length) {
    say('No schedules.');
    return EXIT.ok;
  }
  const db = services.db.forProject(projectId);
  const rows = [['SCHEDULE', 'TIME ZONE', 'ON CALL', 'FROM', 'UNTIL']];
  for (const schedule of page.items) {
    const onCall = await schedules.onCall(services, projectId, schedule.id, at);
    const users = await db.user.findMany({ where: { id: { in: onCall.userIds } }, select: { email: true } });
    const shift = onCall.shifts[0];
    rows.push([
      schedule.name,
      schedule.timeZone,
      users.map((u) => u.email).join(', ') || '(nobody: a gap)',
      at.toISOString(),
      shift ? shift.end.toISOString() : '',
    ]);
  }
  say(table(rows));
  return EXIT.ok;
}
