// Authentication: registration, login (project users and super admins), refresh-token
// rotation with reuse detection, logout, password change and first-password setup.
import { badRequest, notFound, unauthorized } from '../core/errors.js';
import { keyedHash } from '../core/crypto.js';
import { uuidv7 } from '../core/ids.js';
import { loadUserAccess } from './access.js';
import type { DomainDeps } from './deps.js';
import {
  assertLoginAllowed,
  clearLoginFailures,
  recordLoginFailure,
  type LoginSubject,
} from './login-guard.js';
import { assertStrongPassword, generatePassword, hashPassword, verifyPassword } from './passwords.js';
import type { Principal } from './principal.js';
import {
  createRefreshSession,
  denyAccessToken,
  hashRefreshToken,
  issueAccessToken,
  revokeAccessTokensOf,
  type AccessClaims,
} from './tokens.js';
import { isUniqueViolation } from '../core/db.js';

export interface ClientInfo {
  ip: string;
  userAgent?: string;
}

export interface TokenPair {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
  tokenType: 'Bearer';
}

const anonymous = (projectId?: string): Principal => ({ kind: 'anonymous', projectId });

/** The active project named by id or slug, or null: callers answer as if it existed. */
async function findProject(deps: DomainDeps, ref: { projectId?: string; projectSlug?: string }) {
  const project = await deps.db.system.project.findFirst({
    where: {
      ...(ref.projectId ? { id: ref.projectId } : { slug: ref.projectSlug ?? '' }),
      status: 'active',
      deletedAt: null,
    },
    select: { id: true },
  });
  return project?.id ?? null;
}

/**
 * Registers a pending user. An email or phone already registered, or a project that does not
 * exist, gets the same answer (a pending registration with an id nothing uses), so the
 * answer does not reveal which accounts or projects exist; the password is hashed either way.
 */
export async function register(
  deps: DomainDeps,
  input: {
    email: string;
    phone?: string;
    password: string;
    fullName: string;
    projectId?: string;
    projectSlug?: string;
  },
) {
  const projectId = await findProject(deps, input);
  const email = input.email.toLowerCase();
  assertStrongPassword(input.password, email);
  const passwordHash = await hashPassword(input.password, deps.config.auth.passwordHashCost);
  const pending = { email, fullName: input.fullName, status: 'pending' as const };
  const unused = () => ({ id: uuidv7(), ...pending, createdAt: new Date() });
  if (!projectId) return unused();
  const db = deps.db.forProject(projectId);
  try {
    const user = await db.user.create({
      data: { projectId, ...pending, phone: input.phone ?? null, passwordHash },
      select: { id: true, email: true, fullName: true, status: true, createdAt: true },
    });
    deps.audit.record({
      projectId,
      principal: anonymous(projectId),
      action: 'user.register',
      resourceType: 'user',
      resourceId: user.id,
    });
    return user;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    deps.audit.record({
      projectId,
      principal: anonymous(projectId),
      action: 'user.register_existing',
      metadata: { email },
    });
    return unused();
  }
}

async function issuePair(
  deps: DomainDeps,
  subject: { sub: string; pid?: string; sa?: true; roles: string[]; perms: AccessClaims['perms'] },
  session: Parameters<typeof createRefreshSession>[1],
): Promise<TokenPair> {
  const access = await issueAccessToken(deps, subject);
  const refresh = await createRefreshSession(deps, session);
  return { ...access, ...refresh, tokenType: 'Bearer' };
}

export async function login(
  deps: DomainDeps,
  input: { email: string; password: string; projectId?: string; projectSlug?: string },
  client: ClientInfo,
): Promise<TokenPair> {
  const email = input.email.toLowerCase();
  const isAdminLogin = !input.projectId && !input.projectSlug;
  // An unknown project answers like a wrong password (and locks like one), never 404.
  const projectId = isAdminLogin ? undefined : await findProject(deps, input);
  const scope = isAdminLogin ? 'admin' : (projectId ?? `unknown:${input.projectId ?? input.projectSlug}`);
  const subject: LoginSubject = { scope, email, ip: client.ip };
  const cost = deps.config.auth.passwordHashCost;
  try {
    await assertLoginAllowed(deps, subject);
  } catch (err) {
    deps.audit.record({
      projectId: projectId ?? null,
      principal: anonymous(projectId ?? undefined),
      action: 'auth.login_locked',
      metadata: { email },
    });
    throw err;
  }

  const fail = async (reason: string) => {
    const lockSeconds = await recordLoginFailure(deps, subject);
    deps.audit.record({
      projectId: projectId ?? null,
      principal: anonymous(projectId ?? undefined),
      action: 'auth.login_failed',
      metadata: { email, reason, ...(lockSeconds ? { lockedForSeconds: lockSeconds } : {}) },
    });
    // One answer for every failure of a kind: it must not reveal which accounts exist or their
    // state. A login without a project is a super admin's; a project user who forgot the project
    // gets the same answer, which says what to add.
    return unauthorized(
      'invalid_credentials',
      isAdminLogin
        ? 'No super-admin account has this email and password; project users sign in with projectSlug (or projectId)'
        : 'Email or password is wrong, or the account is not active',
    );
  };

  if (isAdminLogin) {
    const admin = await deps.db.system.admin.findUnique({ where: { email } });
    if (!(await verifyPassword(input.password, admin?.passwordHash, cost)) || !admin)
      throw await fail('bad_credentials');
    await clearLoginFailures(deps, subject);
    await deps.db.system.admin.update({ where: { id: admin.id }, data: { lastLoginAt: new Date() } });
    deps.audit.record({
      projectId: null,
      principal: { kind: 'superAdmin', adminId: admin.id, jti: '', exp: 0 },
      action: 'auth.login',
    });
    return issuePair(
      deps,
      { sub: admin.id, sa: true, roles: [], perms: [] },
      { adminId: admin.id, ...client },
    );
  }

  if (!projectId) {
    await verifyPassword(input.password, null, cost);
    throw await fail('unknown_project');
  }
  const db = deps.db.forProject(projectId);
  const user = await db.user.findUnique({ where: { projectId_email: { projectId, email } } });
  if (!(await verifyPassword(input.password, user?.passwordHash, cost)) || !user)
    throw await fail('bad_credentials');
  if (user.status !== 'active') throw await fail(`user_${user.status}`);
  await clearLoginFailures(deps, subject);
  await db.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
  const access = await loadUserAccess(db, user.id);
  deps.audit.record({
    projectId: projectId!,
    principal: anonymous(projectId),
    action: 'auth.login',
    resourceType: 'user',
    resourceId: user.id,
  });
  return issuePair(
    deps,
    { sub: user.id, pid: projectId!, roles: access.roles, perms: access.permissions },
    { projectId: projectId!, userId: user.id, ...client },
  );
}

/** Rotates a refresh token. Presenting an already rotated or revoked token revokes its family. */
export async function refresh(
  deps: DomainDeps,
  refreshToken: string,
  client: ClientInfo,
): Promise<TokenPair> {
  const sessions = deps.db.system.session;
  const session = await sessions.findUnique({ where: { tokenHash: hashRefreshToken(deps, refreshToken) } });
  const invalid = unauthorized('refresh_token_invalid', 'The refresh token is not valid');
  if (!session) throw invalid;
  const revokeFamily = async () => {
    await sessions.updateMany({
      where: { familyId: session.familyId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    deps.audit.record({
      projectId: session.projectId,
      principal: anonymous(session.projectId ?? undefined),
      action: 'auth.refresh_reuse',
      resourceType: 'session',
      resourceId: session.familyId,
    });
    return unauthorized(
      'refresh_token_reused',
      'The refresh token was already used; every session of its family is revoked',
    );
  };
  if (session.revokedAt || session.rotatedAt) throw await revokeFamily();
  if (session.expiresAt <= new Date()) throw invalid;
  // Conditional update: of two concurrent refreshes with the same token, only one wins.
  const claimed = await sessions.updateMany({
    where: { id: session.id, rotatedAt: null, revokedAt: null },
    data: { rotatedAt: new Date() },
  });
  if (claimed.count !== 1) throw await revokeFamily();

  const continuation = { familyId: session.familyId, ...client };
  if (session.adminId) {
    return issuePair(
      deps,
      { sub: session.adminId, sa: true, roles: [], perms: [] },
      { adminId: session.adminId, ...continuation },
    );
  }
  const projectId = session.projectId!;
  const project = await deps.projects.byId(projectId);
  const db = deps.db.forProject(projectId);
  const user = await db.user.findUnique({
    where: { id: session.userId! },
    select: { id: true, status: true },
  });
  if (!project?.active || user?.status !== 'active') throw invalid;
  const access = await loadUserAccess(db, user.id);
  return issuePair(
    deps,
    { sub: user.id, pid: projectId, roles: access.roles, perms: access.permissions },
    { projectId, userId: user.id, ...continuation },
  );
}

export async function logout(
  deps: DomainDeps,
  principal: Extract<Principal, { kind: 'user' | 'superAdmin' }>,
  refreshToken?: string,
): Promise<void> {
  await denyAccessToken(deps, principal);
  if (refreshToken) {
    const owner =
      principal.kind === 'superAdmin' ? { adminId: principal.adminId } : { userId: principal.userId };
    await deps.db.system.session.updateMany({
      where: { tokenHash: hashRefreshToken(deps, refreshToken), ...owner, revokedAt: null },
      data: { revokedAt: new Date() },
    });
  }
  deps.audit.record({ projectId: principal.projectId ?? null, principal, action: 'auth.logout' });
}

/** Revokes every session and access token of a user (suspension, password change). */
export async function revokeUserSessions(deps: DomainDeps, projectId: string, userId: string): Promise<void> {
  await deps.db
    .forProject(projectId)
    .session.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: new Date() } });
  await revokeAccessTokensOf(deps, userId);
}

/** Sets a super admin's password and ends their sessions: whoever knew the old one is out. */
async function replaceAdminPassword(
  deps: DomainDeps,
  admin: { id: string; email: string },
  password: string,
): Promise<void> {
  assertStrongPassword(password, admin.email);
  await deps.db.system.admin.update({
    where: { id: admin.id },
    data: { passwordHash: await hashPassword(password, deps.config.auth.passwordHashCost) },
  });
  await deps.db.system.session.updateMany({
    where: { adminId: admin.id, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  await revokeAccessTokensOf(deps, admin.id);
}

/**
 * Gives a super admin a new password without the old one (`tocsin admin reset-password`, for an
 * operator at the server's shell). Without `password` one is generated and returned, once.
 */
export async function resetAdminPassword(
  deps: DomainDeps,
  principal: Principal,
  input: { email: string; password?: string },
): Promise<{ adminId: string; generatedPassword?: string }> {
  const admin = await deps.db.system.admin.findUnique({ where: { email: input.email.toLowerCase() } });
  if (!admin) throw notFound(`Super admin ${input.email}`);
  const password = input.password ?? generatePassword(admin.email);
  await replaceAdminPassword(deps, admin, password);
  deps.audit.record({
    projectId: null,
    principal,
    action: 'admin.reset_password',
    resourceType: 'admin',
    resourceId: admin.id,
    metadata: { generated: !input.password },
  });
  return { adminId: admin.id, ...(input.password ? {} : { generatedPassword: password }) };
}

export async function changePassword(
  deps: DomainDeps,
  principal: Extract<Principal, { kind: 'user' | 'superAdmin' }>,
  input: { currentPassword: string; newPassword: string },
): Promise<void> {
  const cost = deps.config.auth.passwordHashCost;
  if (principal.kind === 'superAdmin') {
    const admin = await deps.db.system.admin.findUniqueOrThrow({ where: { id: principal.adminId } });
    if (!(await verifyPassword(input.currentPassword, admin.passwordHash, cost))) {
      throw badRequest('wrong_password', 'The current password is wrong');
    }
    await replaceAdminPassword(deps, admin, input.newPassword);
  } else {
    const db = deps.db.forProject(principal.projectId);
    const user = await db.user.findUnique({ where: { id: principal.userId } });
    if (!user) throw notFound('User');
    if (!(await verifyPassword(input.currentPassword, user.passwordHash, cost))) {
      throw badRequest('wrong_password', 'The current password is wrong');
    }
    assertStrongPassword(input.newPassword, user.email);
    await db.user.update({
      where: { id: user.id },
      data: { passwordHash: await hashPassword(input.newPassword, cost) },
    });
    await revokeUserSessions(deps, principal.projectId, user.id);
  }
  deps.audit.record({ projectId: principal.projectId ?? null, principal, action: 'auth.change_password' });
}

/** Sets the first password of an admin created without one, with the one-time setup token. */
export async function setupPassword(
  deps: DomainDeps,
  input: { token: string; password: string },
): Promise<void> {
  const setupTokenHash = keyedHash(input.token, deps.config.secrets.apiKeyPepper);
  const user = await deps.db.system.user.findUnique({ where: { setupTokenHash } });
  if (!user) throw unauthorized('setup_token_invalid', 'The setup token is not valid or was already used');
  assertStrongPassword(input.password, user.email);
  await deps.db.forProject(user.projectId).user.update({
    where: { id: user.id },
    data: {
      passwordHash: await hashPassword(input.password, deps.config.auth.passwordHashCost),
      setupTokenHash: null,
    },
  });
  deps.audit.record({
    projectId: user.projectId,
    principal: anonymous(user.projectId),
    action: 'auth.setup_password',
    resourceType: 'user',
    resourceId: user.id,
  });
}
