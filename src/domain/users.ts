// Project users: listing, approval of registrations (with their roles), changes of their roles,
// suspension (which revokes every session at once), the caller's own profile and push devices. Every read selects
// its columns explicitly: password, setup-token and session hashes never leave this module.
import { AppError, badRequest, conflict, notFound } from '../core/errors.js';
import { UUID_PATTERN } from '../core/ids.js';
import { isUniqueViolation, type Prisma, type ProjectDb } from '../core/db.js';
import { loadUserAccess } from './access.js';
import { revokeUserSessions } from './auth.js';
import { rolesByRef } from './roles.js';
import { revokeAccessTokensOf } from './tokens.js';
import { closeUserSockets } from './user-sockets.js';
import { pageArgs, type DomainDeps, type Page } from './deps.js';
import { ADMIN_ROLE } from './permissions.js';
import { actorOf, type Principal } from './principal.js';

export type UserStatus = 'pending' | 'active' | 'suspended';
export type DevicePlatform = 'ios' | 'android' | 'web';
type UserPrincipal = Extract<Principal, { kind: 'user' }>;

const userSelect = {
  id: true,
  email: true,
  phone: true,
  fullName: true,
  status: true,
  approvedAt: true,
  approvedBy: true,
  lastLoginAt: true,
  createdAt: true,
  updatedAt: true,
  roles: { select: { role: { select: { id: true, name: true } } } },
} as const satisfies Prisma.UserSelect;

type UserRow = Prisma.UserGetPayload<{ select: typeof userSelect }>;

export function userView(row: UserRow) {
  const { roles, ...rest } = row;
  return { ...rest, roles: roles.map((link) => link.role).sort((a, b) => a.name.localeCompare(b.name)) };
}

export type UserView = ReturnType<typeof userView>;

const deviceSelect = {
  id: true,
  platform: true,
  token: true,
  createdAt: true,
  updatedAt: true,
  lastUsedAt: true,
} as const satisfies Prisma.DeviceSelect;

async function findUser(db: ProjectDb, id: string): Promise<UserRow> {
  const row = await db.user.findUnique({ where: { id }, select: userSelect });
  if (!row) throw notFound('User');
  return row;
}

async function announceRecipients(deps: DomainDeps, projectId: string): Promise<void> {
  await deps.bus.publish({ type: 'recipients.changed', projectId });
}

export interface ListUsersQuery extends Page {
  status?: UserStatus;
  /** A role id or a role name. */
  role?: string;
  /** Part of the email, full name or phone. */
  search?: string;
}

export async function listUsers(deps: DomainDeps, projectId: string, query: ListUsersQuery) {
  const db = deps.db.forProject(projectId);
  const where: Prisma.UserWhereInput = {
    ...(query.status ? { status: query.status } : {}),
    ...(query.role
      ? {
          roles: {
            some: { role: UUID_PATTERN.test(query.role) ? { id: query.role } : { name: query.role } },
          },
        }
      : {}),
    ...(query.search
      ? {
          OR: [
            { email: { contains: query.search } },
            { fullName: { contains: query.search } },
            { phone: { contains: query.search } },
          ],
        }
      : {}),
  };
  const [rows, total] = await Promise.all([
    db.user.findMany({
      where,
      select: userSelect,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      ...pageArgs(query),
    }),
    db.user.count({ where }),
  ]);
  return { items: rows.map(userView), page: query.page, pageSize: query.pageSize, total };
}

export async function getUser(deps: DomainDeps, projectId: string, id: string): Promise<UserView> {
  return userView(await findUser(deps.db.forProject(projectId), id));
}

/**
 * Resolves role refs (ids or names) to roles of this project; any unknown one is a 400 naming it.
 * `field`: the body field the refs came from, so a form can show the error beside it.
 */
async function resolveRoles(db: ProjectDb, refs: string[], field?: string) {
  const byRef = await rolesByRef(db, refs);
  const missing = [...new Set(refs)].filter((ref) => !byRef.has(ref));
  if (missing.length) {
    throw badRequest('role_not_found', `No such role in this project: ${missing.join(', ')}`, {
      roles: missing,
      ...(field ? { field } : {}),
    });
  }
  return byRef;
}

/** Approves a pending registration: assigns its roles and makes the user active. */
export async function approveUser(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  userId: string,
  input: { roleIds?: string[]; roles?: string[] },
): Promise<UserView> {
  const db = deps.db.forProject(projectId);
  const user = await findUser(db, userId);
  const byRef = await resolveRoles(db, [...(input.roleIds ?? []), ...(input.roles ?? [])]);
  const roles = [...new Map([...byRef.values()].map((role) => [role.id, role])).values()];
  if (user.status !== 'pending')
    throw conflict('user_not_pending', `The user is ${user.status}, not pending`);
  await db.$transaction(async (tx) => {
    // Conditional: of two concurrent approvals only one wins.
    const claimed = await tx.user.updateMany({
      where: { id: userId, status: 'pending' },
      data: { status: 'active', approvedAt: new Date(), approvedBy: actorOf(principal).actorId },
    });
    if (claimed.count !== 1) throw conflict('user_not_pending', 'The user is no longer pending');
    await tx.userRole.createMany({
      data: roles.map((role) => ({ projectId, userId, roleId: role.id })),
      skipDuplicates: true,
    });
  });
  await announceRecipients(deps, projectId);
  deps.audit.record({
    projectId,
    principal,
    action: 'user.approve',
    resourceType: 'user',
    resourceId: userId,
    metadata: { roles: roles.map((r) => r.name).sort() },
  });
  return userView(await findUser(db, userId));
}

/**
 * Rejects a pending registration: the row goes (it holds nothing yet: no roles, sessions,
 * devices or receipts), so the person may register again.
 */
export async function rejectUser(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  userId: string,
): Promise<void> {
  const db = deps.db.forProject(projectId);
  const user = await findUser(db, userId);
  if (user.status !== 'pending')
    throw conflict('user_not_pending', `The user is ${user.status}, not pending; suspend them instead`);
  // Conditional: an approval that won the race keeps the user.
  const removed = await db.user.deleteMany({ where: { id: userId, status: 'pending' } });
  if (removed.count !== 1) throw conflict('user_not_pending', 'The user is no longer pending');
  deps.audit.record({
    projectId,
    principal,
    action: 'user.reject',
    resourceType: 'user',
    resourceId: userId,
  });
}

/**
 * Replaces an approved user's roles with `refs` (ids or names, each role once). Revoked access
 * stops at once: when the permissions change, the user's access tokens stop (tokens carry
 * permissions); when a role goes, their sockets re-authorize (channel auth reads the roles held
 * now), so its role channel closes.
 */
export async function setUserRoles(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  userId: string,
  refs: string[],
): Promise<UserView> {
  const db = deps.db.forProject(projectId);
  const user = await findUser(db, userId);
  const byRef = await resolveRoles(db, refs, 'roleIds');
  // A role named twice, by one ref or by its id and its name.
  const seen = new Set<string>();
  const twice = refs.filter((ref) => seen.size === seen.add(byRef.get(ref)!.id).size);
  if (twice.length) {
    throw badRequest('duplicate_role', `Name each role once; repeated: ${twice.join(', ')}`, {
      roles: twice,
      field: 'roleIds',
    });
  }
  if (user.status === 'pending')
    throw conflict('user_pending', 'A pending user gets their roles when approved: POST /users/{id}/approve');
  const wanted = refs.map((ref) => byRef.get(ref)!);
  const after = wanted.map((r) => r.id).sort();
  const before = user.roles.map((link) => link.role.id).sort();
  if (before.join() === after.join()) return userView(user);
  const isSelf = principal.kind === 'user' && principal.userId === userId;
  if (
    isSelf &&
    user.roles.some((l) => l.role.name === ADMIN_ROLE) &&
    !wanted.some((r) => r.name === ADMIN_ROLE)
  ) {
    const message = `You cannot take the ${ADMIN_ROLE} role from yourself; ask another admin`;
    throw new AppError(409, 'cannot_demote_self', message, { field: 'roleIds' });
  }
  const accessBefore = await loadUserAccess(db, userId);
  await db.$transaction(async (tx) => {
    // Locks the user row first: two changes of one user's roles apply one after the other.
    await tx.user.updateMany({ where: { id: userId }, data: { updatedAt: new Date() } });
    await tx.userRole.deleteMany({ where: { userId, roleId: { notIn: after } } });
    await tx.userRole.createMany({
      data: after.map((roleId) => ({ projectId, userId, roleId })),
      skipDuplicates: true,
    });
  });
  const accessAfter = await loadUserAccess(db, userId);
  if (accessBefore.permissions.join() !== accessAfter.permissions.join())
    await revokeAccessTokensOf(deps, userId);
  if (before.some((id) => !after.includes(id)))
    await closeUserSockets(deps, projectId, userId, 'reauthorize');
  await announceRecipients(deps, projectId);
  deps.audit.record({
    projectId,
    principal,
    action: 'user.roles_change',
    resourceType: 'user',
    resourceId: userId,
    metadata: { before, after, roles: accessAfter.roles },
  });
  return userView(await findUser(db, userId));
}

/** Suspends or reactivates a user. Suspension stops their sessions and access tokens at once. */
export async function setUserStatus(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  userId: string,
  status: 'active' | 'suspended',
): Promise<UserView> {
  const db = deps.db.forProject(projectId);
  const user = await findUser(db, userId);
  if (user.status === 'pending') throw conflict('user_pending', 'A pending user must be approved first');
  if (principal.kind === 'user' && principal.userId === userId && status === 'suspended') {
    throw conflict('cannot_suspend_self', 'You cannot suspend yourself');
  }
  if (user.status === status) return userView(user);
  await db.user.updateMany({ where: { id: userId, status: { not: 'pending' } }, data: { status } });
  if (status === 'suspended') {
    await revokeUserSessions(deps, projectId, userId);
    await closeUserSockets(deps, projectId, userId, 'revoked');
  }
  await announceRecipients(deps, projectId);
  deps.audit.record({
    projectId,
    principal,
    action: status === 'suspended' ? 'user.suspend' : 'user.reactivate',
    resourceType: 'user',
    resourceId: userId,
  });
  return userView(await findUser(db, userId));
}

async function listDevices(db: ProjectDb, userId: string) {
  return db.device.findMany({
    where: { userId },
    select: deviceSelect,
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
}

/** The caller's profile with the permissions their roles give and their push devices. */
export async function getMe(deps: DomainDeps, principal: UserPrincipal) {
  const db = deps.db.forProject(principal.projectId);
  const [user, access, devices] = await Promise.all([
    findUser(db, principal.userId),
    loadUserAccess(db, principal.userId),
    listDevices(db, principal.userId),
  ]);
  return { ...userView(user), permissions: access.permissions, devices };
}

export async function updateMe(
  deps: DomainDeps,
  principal: UserPrincipal,
  input: { fullName?: string; phone?: string | null },
) {
  const db = deps.db.forProject(principal.projectId);
  try {
    await db.user.updateMany({
      where: { id: principal.userId },
      data: {
        ...(input.fullName !== undefined ? { fullName: input.fullName } : {}),
        ...(input.phone !== undefined ? { phone: input.phone } : {}),
      },
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw conflict('phone_taken', 'Another user of this project has this phone number');
    throw err;
  }
  deps.audit.record({
    projectId: principal.projectId,
    principal,
    action: 'user.update_profile',
    resourceType: 'user',
    resourceId: principal.userId,
    metadata: { fields: Object.keys(input) },
  });
  return getMe(deps, principal);
}

export interface DeviceInput {
  platform: DevicePlatform;
  token: string;
}

// The providers' own formats, so a token that can never be delivered to is refused at the door:
// APNs device tokens are hex (64 characters today, longer allowed), FCM registration tokens (iOS
// goes to APNs; Android and web to FCM) are long runs of printable ASCII.
const FCM_TOKEN = {
  pattern: /^[\x21-\x7e]{20,255}$/,
  rule: 'an FCM registration token (20 to 255 printable characters, no spaces)',
};
const TOKEN_FORMATS: Record<DevicePlatform, { pattern: RegExp; rule: string }> = {
  ios: { pattern: /^[0-9a-fA-F]{64,200}$/, rule: 'an APNs device token (64 to 200 hexadecimal characters)' },
  android: FCM_TOKEN,
  web: FCM_TOKEN,
};

function assertDeviceToken(device: DeviceInput, field: string): void {
  const format = TOKEN_FORMATS[device.platform];
  if (!format.pattern.test(device.token)) {
    throw badRequest('invalid_device_token', `${field}: platform ${device.platform} takes ${format.rule}`, {
      field,
    });
  }
}

/**
 * `{ platform, token }` registers (or refreshes) one device and keeps the others;
 * `{ devices: [...] }` replaces the caller's whole set (an empty list removes every device).
 * A token is unique per project and platform: registered by another user of the project, it
 * moves to the caller (the phone changed hands or accounts).
 */
export async function registerDevices(
  deps: DomainDeps,
  principal: UserPrincipal,
  input: DeviceInput | { devices: DeviceInput[] },
) {
  const { projectId, userId } = principal;
  const db = deps.db.forProject(projectId);
  const replace = 'devices' in input;
  if (replace) input.devices.forEach((device, i) => assertDeviceToken(device, `devices[${i}].token`));
  else assertDeviceToken(input, 'token');
  const wanted = new Map<string, DeviceInput>();
  for (const device of replace ? input.devices : [input])
    wanted.set(`${device.platform}\n${device.token}`, device);

  const kept: string[] = [];
  for (const { platform, token } of wanted.values())
    kept.push(await upsertDevice(db, projectId, userId, platform, token));
  const removed = replace
    ? await db.device.deleteMany({ where: { userId, id: { notIn: kept } } })
    : { count: 0 };
  deps.audit.record({
    projectId,
    principal,
    action: 'user.devices_register',
    resourceType: 'user',
    resourceId: userId,
    metadata: { mode: replace ? 'replace' : 'add', registered: kept.length, removed: removed.count },
  });
  return { items: await listDevices(db, userId) };
}

async function upsertDevice(
  db: ProjectDb,
  projectId: string,
  userId: string,
  platform: DevicePlatform,
  token: string,
): Promise<string> {
  const args = {
    where: { projectId_platform_token: { projectId, platform, token } },
    create: { projectId, userId, platform, token, lastUsedAt: new Date() },
    update: { userId, lastUsedAt: new Date() },
    select: { id: true },
  };
  try {
    return (await db.device.upsert(args)).id;
  } catch (err) {
    // Two concurrent registrations of one token: the loser's insert collides; its retry updates.
    if (!isUniqueViolation(err)) throw err;
    return (await db.device.upsert(args)).id;
  }
}

/** Removes one of the caller's devices; another user's device is "not found". */
export async function deleteDevice(
  deps: DomainDeps,
  principal: UserPrincipal,
  deviceId: string,
): Promise<void> {
  const deleted = await deps.db
    .forProject(principal.projectId)
    .device.deleteMany({ where: { id: deviceId, userId: principal.userId } });
  if (deleted.count === 0) throw notFound('Device');
  deps.audit.record({
    projectId: principal.projectId,
    principal,
    action: 'user.device_delete',
    resourceType: 'device',
    resourceId: deviceId,
  });
}
