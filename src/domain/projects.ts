// Projects (tenants): creation with their built-in roles, API key and gateway credentials;
// changes that invalidate every node's caches through the bus; soft deletion; stats.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { conflict, notFound } from '../core/errors.js';
import { encryptSecret, keyedHash, randomBase62, randomToken } from '../core/crypto.js';
import { uuidv7 } from '../core/ids.js';
import { assertSafeOutboundUrl } from '../core/ssrf.js';
import { isUniqueViolation, Prisma } from '../core/db.js';
import { pageArgs, type DomainDeps, type Page } from './deps.js';
import { assertStrongPassword, hashPassword } from './passwords.js';
import { ADMIN_ROLE, BUILT_IN_ROLES } from './permissions.js';
import type { Principal } from './principal.js';
import { projectSettingsSchema, readSettings, type ProjectSettings } from './settings.js';

export const API_KEY_PREFIX = 'tk_';

const projectSelect = {
  id: true,
  name: true,
  slug: true,
  description: true,
  webhookUrl: true,
  status: true,
  settings: true,
  apiKeyPrefix: true,
  gatewayAppId: true,
  gatewayKey: true,
  createdAt: true,
  updatedAt: true,
} as const;

type ProjectRow = Prisma.ProjectGetPayload<{ select: typeof projectSelect }>;

export function projectView(row: ProjectRow) {
  const { gatewayAppId, gatewayKey, settings, ...rest } = row;
  return { ...rest, settings: readSettings(settings), gateway: { appId: gatewayAppId, key: gatewayKey } };
}

export type ProjectView = ReturnType<typeof projectView>;

function newApiKey(deps: DomainDeps) {
  const apiKey = `${API_KEY_PREFIX}${randomBase62(32)}`;
  return {
    apiKey,
    apiKeyHash: keyedHash(apiKey, deps.config.secrets.apiKeyPepper),
    apiKeyPrefix: apiKey.slice(0, 10),
  };
}

/** A new project's name, slug and first admin: checked alike by the REST API and the CLI. */
export const newProjectSchema = z.object({
  name: z.string().trim().min(1).max(120),
  slug: z.string().regex(/^[a-z0-9-]{3,48}$/, 'lowercase letters, digits and "-", 3 to 48 characters'),
  admin: z
    .object({
      email: z.email().max(254),
      fullName: z.string().trim().min(1).max(200),
      password: z.string().max(72).optional(),
    })
    .optional(),
});

export interface CreateProjectInput {
  name: string;
  slug: string;
  description?: string;
  webhookUrl?: string;
  settings?: unknown;
  admin?: { email: string; fullName: string; password?: string };
}

/** Settings parsed under their key, so a refused value is named by its full path (settings.…). */
const parseSettings = (value: unknown): ProjectSettings =>
  z.object({ settings: projectSettingsSchema }).parse({ settings: value }).settings;

const checkWebhookUrl = (deps: DomainDeps, url: string | null | undefined) =>
  url ? assertSafeOutboundUrl(url, { allowPrivate: deps.config.webhooks.allowPrivate }) : Promise.resolve();

export async function createProject(deps: DomainDeps, principal: Principal, input: CreateProjectInput) {
  const settings = parseSettings(input.settings ?? {});
  await checkWebhookUrl(deps, input.webhookUrl);
  if (input.admin?.password) assertStrongPassword(input.admin.password, input.admin.email);
  const { apiKey, apiKeyHash, apiKeyPrefix } = newApiKey(deps);
  const gateway = {
    appId: String(100_000 + (randomBytes(4).readUInt32BE() % 900_000_000)),
    key: randomBytes(10).toString('hex'),
    secret: randomBytes(16).toString('hex'),
  };
  const setupToken = input.admin && !input.admin.password ? randomToken(32) : undefined;
  const adminPasswordHash = input.admin?.password
    ? await hashPassword(input.admin.password, deps.config.auth.passwordHashCost)
    : null;
  const projectId = uuidv7();

  try {
    const created = await deps.db.system.$transaction(async (tx) => {
      const project = await tx.project.create({
        data: {
          id: projectId,
          name: input.name,
          slug: input.slug,
          description: input.description ?? null,
          webhookUrl: input.webhookUrl ?? null,
          settings: settings as Prisma.InputJsonValue,
          apiKeyHash,
          apiKeyPrefix,
          gatewayAppId: gateway.appId,
          gatewayKey: gateway.key,
          gatewaySecretEnc: encryptSecret(gateway.secret, deps.config.secrets.encryptionKey),
        },
        select: projectSelect,
      });
      const roleIds = new Map<string, string>();
      for (const role of BUILT_IN_ROLES) {
        const id = uuidv7();
        roleIds.set(role.name, id);
        await tx.role.create({
          data: {
            id,
            projectId,
            name: role.name,
            description: role.description,
            permissions: role.permissions,
            builtIn: true,
          },
        });
      }
      let admin: { id: string; email: string; setupToken?: string } | undefined;
      if (input.admin) {
        const user = await tx.user.create({
          data: {
            projectId,
            email: input.admin.email.toLowerCase(),
            fullName: input.admin.fullName,
            passwordHash: adminPasswordHash,
            setupTokenHash: setupToken ? keyedHash(setupToken, deps.config.secrets.apiKeyPepper) : null,
            status: 'active',
            approvedAt: new Date(),
          },
          select: { id: true, email: true },
        });
        await tx.userRole.create({ data: { projectId, userId: user.id, roleId: roleIds.get(ADMIN_ROLE)! } });
        admin = { ...user, ...(setupToken ? { setupToken } : {}) };
      }
      return { project, admin };
    });
    deps.audit.record({
      projectId,
      principal,
      action: 'project.create',
      resourceType: 'project',
      resourceId: projectId,
    });
    return {
      project: projectView(created.project),
      apiKey,
      gateway,
      ...(created.admin ? { admin: created.admin } : {}),
    };
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('slug_taken', `The slug "${input.slug}" is already used`);
    throw err;
  }
}

export type ProjectStatusFilter = 'active' | 'disabled' | 'deleted';

export async function listProjects(
  deps: DomainDeps,
  query: Page & { status?: ProjectStatusFilter; search?: string },
) {
  const where: Prisma.ProjectWhereInput = {
    ...(query.status === 'deleted' ? { deletedAt: { not: null } } : { deletedAt: null }),
    ...(query.status && query.status !== 'deleted' ? { status: query.status } : {}),
    ...(query.search
      ? { OR: [{ name: { contains: query.search } }, { slug: { contains: query.search } }] }
      : {}),
  };
  const [rows, total] = await Promise.all([
    deps.db.system.project.findMany({
      where,
      select: projectSelect,
      orderBy: { createdAt: 'desc' },
      ...pageArgs(query),
    }),
    deps.db.system.project.count({ where }),
  ]);
  return { items: rows.map(projectView), page: query.page, pageSize: query.pageSize, total };
}

async function findLiveProject(deps: DomainDeps, id: string) {
  const row = await deps.db.system.project.findFirst({
    where: { id, deletedAt: null },
    select: projectSelect,
  });
  if (!row) throw notFound('Project');
  return row;
}

export async function getProject(deps: DomainDeps, id: string) {
  return projectView(await findLiveProject(deps, id));
}

async function announceChange(deps: DomainDeps, projectId: string) {
  deps.projects.invalidate(projectId);
  // The gateway's copy of the app (src/realtime/apps.ts) must not outlive the change.
  await deps.redis.del(deps.keys.appCopy(projectId));
  await deps.bus.publish({ type: 'project.changed', projectId });
}

export interface UpdateProjectInput {
  name?: string;
  description?: string | null;
  webhookUrl?: string | null;
  status?: 'active' | 'disabled';
  settings?: unknown;
}

export async function updateProject(
  deps: DomainDeps,
  principal: Principal,
  id: string,
  input: UpdateProjectInput,
) {
  const current = await findLiveProject(deps, id);
  await checkWebhookUrl(deps, input.webhookUrl);
  // Settings are merged per section, so a client can change one value without resending all.
  const merged: ProjectSettings | undefined = input.settings
    ? parseSettings(mergeSections(readSettings(current.settings), input.settings as Record<string, unknown>))
    : undefined;
  const row = await deps.db.system.project.update({
    where: { id },
    data: {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.webhookUrl !== undefined ? { webhookUrl: input.webhookUrl } : {}),
      ...(input.status !== undefined ? { status: input.status } : {}),
      ...(merged ? { settings: merged as Prisma.InputJsonValue } : {}),
    },
    select: projectSelect,
  });
  await announceChange(deps, id);
  deps.audit.record({
    projectId: id,
    principal,
    action: 'project.update',
    resourceType: 'project',
    resourceId: id,
    metadata: { fields: Object.keys(input) },
  });
  return projectView(row);
}

function mergeSections(current: ProjectSettings, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...current };
  for (const [section, value] of Object.entries(patch)) {
    const base = merged[section];
    merged[section] =
      value && typeof value === 'object' && !Array.isArray(value) && base && typeof base === 'object'
        ? { ...(base as object), ...(value as object) }
        : value;
  }
  return merged;
}

/** Soft delete: the row stays for audit; its key, tokens and sessions stop working at once. */
export async function deleteProject(deps: DomainDeps, principal: Principal, id: string) {
  await findLiveProject(deps, id);
  await deps.db.system.project.update({ where: { id }, data: { deletedAt: new Date(), status: 'disabled' } });
  await deps.db
    .forProject(id)
    .session.updateMany({ where: { revokedAt: null }, data: { revokedAt: new Date() } });
  await announceChange(deps, id);
  deps.audit.record({
    projectId: id,
    principal,
    action: 'project.delete',
    resourceType: 'project',
    resourceId: id,
  });
}

export async function regenerateApiKey(deps: DomainDeps, principal: Principal, id: string) {
  await findLiveProject(deps, id);
  const { apiKey, apiKeyHash, apiKeyPrefix } = newApiKey(deps);
  await deps.db.system.project.update({ where: { id }, data: { apiKeyHash, apiKeyPrefix } });
  await announceChange(deps, id);
  deps.audit.record({
    projectId: id,
    principal,
    action: 'project.regenerate_api_key',
    resourceType: 'project',
    resourceId: id,
  });
  return { apiKey, apiKeyPrefix };
}

export async function projectStats(deps: DomainDeps, id: string) {
  await findLiveProject(deps, id);
  const db = deps.db.forProject(id);
  const [usersByStatus, rules, activeRules, events, notifications, receipts, delivered, acknowledged] =
    await Promise.all([
      db.user.groupBy({ by: ['status'], _count: { _all: true } }),
      db.rule.count({ where: { deletedAt: null } }),
      db.rule.count({ where: { deletedAt: null, active: true } }),
      db.event.count(),
      db.notification.count(),
      db.notificationReceipt.count(),
      db.notificationReceipt.count({ where: { deliveredAt: { not: null } } }),
      db.notificationReceipt.count({ where: { acknowledgedAt: { not: null } } }),
    ]);
  const users = { pending: 0, active: 0, suspended: 0, total: 0 };
  for (const row of usersByStatus) {
    users[row.status] = row._count._all;
    users.total += row._count._all;
  }
  const ratio = (part: number) => (receipts ? Math.round((part / receipts) * 10_000) / 10_000 : 0);
  return {
    users,
    rules: { total: rules, active: activeRules },
    events,
    notifications,
    receipts: {
      total: receipts,
      delivered,
      acknowledged,
      deliveredRatio: ratio(delivered),
      acknowledgedRatio: ratio(acknowledged),
    },
  };
}
