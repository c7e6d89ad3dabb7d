// `tocsin user list|approve`: approving registrations from a shell (e.g. the first members of a
// new project, before anyone has an admin token). Same domain code as the REST API, audited as
// the system.
import type { Principal } from '../domain/principal.js';
import * as users from '../domain/users.js';
import type { Services } from '../services.js';
import { CliError, EXIT, say, sayPage } from './output.js';
import { resolveProjectId } from './project.js';

const operator: Principal = { kind: 'system' };
const STATUSES = ['pending', 'active', 'suspended'] as const;

/** Accepts a user id or an email, inside one project. */
async function resolveUserId(services: Services, projectId: string, ref: string | undefined) {
  if (!ref) throw new CliError('Name the user: their id or email', EXIT.usage);
  const row = await services.db
    .forProject(projectId)
    .user.findFirst({ where: { OR: [{ id: ref }, { email: ref.toLowerCase() }] }, select: { id: true } });
  if (!row) throw new CliError(`No user "${ref}" in this project`);
  return row.id;
}

export async function userList(
  services: Services,
  options: { project?: string; status?: string; search?: string },
): Promise<number> {
  if (options.status && !(STATUSES as readonly string[]).includes(options.status))
    throw new CliError(`--status is one of ${STATUSES.join(', ')}`, EXIT.usage);
  const projectId = await resolveProjectId(services, options.project);
  const page = await users.listUsers(services, projectId, {
    page: 1,
    pageSize: 200,
    status: options.status as (typeof STATUSES)[number] | undefined,
    search: options.search,
  });
  sayPage(page, 'users', ['ID', 'EMAIL', 'NAME', 'STATUS', 'ROLES', 'CREATED'], (u) => [
    u.id,
    u.email ?? '',
    u.fullName,
    u.status,
    u.roles.map((r) => r.name).join(',') || '-',
    u.createdAt.toISOString(),
  ]);
  return EXIT.ok;
}

export async function userApprove(
  services: Services,
  options: { project?: string; user?: string; roles?: string },
): Promise<number> {
  const projectId = await resolveProjectId(services, options.project);
  const userId = await resolveUserId(services, projectId, options.user);
  const roles = (options.roles ?? 'member')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const approved = await users.approveUser(services, operator, projectId, userId, { roles });
  say(
    `Approved ${approved.email ?? approved.id}: active, roles ${approved.roles.map((r) => r.name).join(', ')}`,
  );
  return EXIT.ok;
}
