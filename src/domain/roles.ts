// Roles of a project: named sets of permissions from the fixed list. The built-in `admin` role
// keeps every permission and cannot be deleted; built-in roles keep their names (code refers to
// them). A role held by users or targeted by active rules cannot be deleted.
import { AppError, badRequest, conflict, notFound } from '../core/errors.js';
import { isUniqueViolation, type Prisma, type ProjectDb } from '../core/db.js';
import { revokeAccessTokensOf } from './tokens.js';
import { closeUserSockets } from './user-sockets.js';
import type { DomainDeps } from './deps.js';
import {
  ADMIN_ROLE,
  isPermission,
  PERMISSION_DESCRIPTIONS,
  PERMISSIONS,
  type Permission,
} from './permissions.js';
import type { Principal } from './principal.js';

const roleSelect = {
  id: true,
  name: true,
  description: true,
  permissions: true,
  builtIn: true,
  createdAt: true,
  updatedAt: true,
  _count: { select: { users: true } },
} as const satisfies Prisma.RoleSelect;

type RoleRow = Prisma.RoleGetPayload<{ select: typeof roleSelect }>;

export function roleView(row: RoleRow) {
  const { _count, permissions, ...rest } = row;
  return {
    ...rest,
    permissions: ((permissions as string[] | null) ?? []).filter(isPermission),
    userCount: _count.users,
  };
}

export type RoleView = ReturnType<typeof roleView>;

export function listPermissions() {
  return { items: PERMISSIONS.map((name) => ({ name, description: PERMISSION_DESCRIPTIONS[name] })) };
}

/** Known permissions, deduplicated in the documented order; an unknown one is a 400 naming it. */
export function checkPermissions(values: readonly string[]): Permission[] {
  const unknown = values.find((value) => !isPermission(value));
  if (unknown !== undefined) {
    throw badRequest('unknown_permission', `Unknown permission "${unknown}"`, {
      permission: unknown,
      known: PERMISSIONS,
    });
  }
  return PERMISSIONS.filter((p) => values.includes(p));
}

const nameTaken = (name: string) =>
  conflict('role_exists', `A role named "${name}" already exists in this project`);

/**
 * The roles of this project that `refs` name, each ref an id or a name (rule targets and user
 * roles accept both); a ref missing from the map names no role of this project.
 */
export async function rolesByRef(
  db: ProjectDb,
  refs: readonly string[],
): Promise<Map<string, { id: string; name: string }>> {
  const unique = [...new Set(refs)];
  const found = await db.role.findMany({
    where: { OR: [{ id: { in: unique } }, { name: { in: unique } }] },
    select: { id: true, name: true },
  });
  const byRef = new Map<string, { id: string; name: string }>();
  for (const ref of unique) {
    const role = found.find((r) => r.id === ref) ?? found.find((r) => r.name === ref);
    if (role) byRef.set(ref, role);
  }
  return byRef;
}

async function findRole(db: ProjectDb, id: string): Promise<RoleRow> {
  const row = await db.role.findUnique({ where: { id }, select: roleSelect });
  if (!row) throw notFound('Role');
  return row;
}

async function announce(deps: DomainDeps, projectId: string) {
  await deps.bus.publish({ type: 'recipients.changed', projectId });
}

export async function listRoles(deps: DomainDeps, projectId: string) {
  const rows = await deps.db
    .forProject(projectId)
    .role.findMany({ select: roleSelect, orderBy: { name: 'asc' } });
  return { items: rows.map(roleView) };
}

export interface RoleInput {
  name: string;
  description?: string | null;
  permissions: string[];
}

export async function createRole(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  input: RoleInput,
) {
  const permissions = checkPermissions(input.permissions);
  const db = deps.db.forProject(projectId);
  let id: string;
  try {
    ({ id } = await db.role.create({
      data: {
        projectId,
        name: input.name,
        description: input.description ?? null,
        permissions,
        builtIn: false,
      },
      select: { id: true },
    }));
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(input.name);
    throw err;
  }
  await announce(deps, projectId);
  deps.audit.record({
    projectId,
    principal,
    action: 'role.create',
    resourceType: 'role',
    resourceId: id,
    metadata: { name: input.name, permissions },
  });
  return roleView(await findRole(db, id));
}

/**
 * Changes a role. When its permissions change, the access tokens of its holders stop at once:
 * tokens carry permissions, and a refresh issues new ones read from the roles.
 */
export async function updateRole(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  id: string,
  input: Partial<RoleInput>,
) {
  const db = deps.db.forProject(projectId);
  const current = roleView(await findRole(db, id));
  const permissions = input.permissions === undefined ? undefined : checkPermissions(input.permissions);
  if (current.builtIn && input.name !== undefined && input.name !== current.name) {
    throw conflict('builtin_role', `The built-in role "${current.name}" cannot be renamed`);
  }
  if (current.name === ADMIN_ROLE && permissions && permissions.length !== PERMISSIONS.length) {
    throw conflict('builtin_role', `The built-in role "${ADMIN_ROLE}" keeps every permission`);
  }
  try {
    await db.role.updateMany({
      where: { id },
      data: {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(permissions ? { permissions } : {}),
      },
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw nameTaken(input.name!);
    throw err;
  }
  const added = permissions?.filter((p) => !current.permissions.includes(p)) ?? [];
  const removed = permissions ? current.permissions.filter((p) => !permissions.includes(p)) : [];
  if (added.length || removed.length)
    await forEachHolder(db, id, (userId) => revokeAccessTokensOf(deps, userId));
  // Its channels are named after it: holders' sockets re-authorize, by the roles held now.
  if (input.name !== undefined && input.name !== current.name)
    await forEachHolder(db, id, (userId) => closeUserSockets(deps, projectId, userId, 'reauthorize'));
  await announce(deps, projectId);
  deps.audit.record({
    projectId,
    principal,
    action: 'role.update',
    resourceType: 'role',
    resourceId: id,
    metadata: { fields: Object.keys(input), added, removed },
  });
  return roleView(await findRole(db, id));
}

async function forEachHolder(db: ProjectDb, roleId: string, act: (userId: string) => Promise<void>) {
  const holders = await db.userRole.findMany({ where: { roleId }, select: { userId: true } });
  for (let i = 0; i < holders.length; i += 100) {
    await Promise.all(holders.slice(i, i + 100).map((h) => act(h.userId)));
  }
}

export async function deleteRole(deps: DomainDeps, principal: Principal, projectId: string, id: string) {
  const db = deps.db.forProject(projectId);
  const role = await findRole(db, id);
  if (role.name === ADMIN_ROLE)
    throw conflict('builtin_role', `The built-in role "${ADMIN_ROLE}" cannot be deleted`);
  await db.$transaction(async (tx) => {
    const [users, rules] = await Promise.all([
      tx.userRole.count({ where: { roleId: id } }),
      // Rule.targetRoles is a JSON array of role ids.
      tx.rule.count({ where: { deletedAt: null, active: true, targetRoles: { array_contains: [id] } } }),
    ]);
    if (users || rules) {
      const message = `The role is held by ${users} user(s) and targeted by ${rules} active rule(s)`;
      throw new AppError(409, 'role_in_use', message, { users, rules });
    }
    await tx.role.deleteMany({ where: { id } });
  });
  await announce(deps, projectId);
  deps.audit.record({
    projectId,
    principal,
    action: 'role.delete',
    resourceType: 'role',
    resourceId: id,
    metadata: { name: role.name },
  });
}
