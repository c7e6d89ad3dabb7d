// Escalation policies: ordered steps ("notify these targets, then wait"), repeated `repeat`
// times, then handed to an optional fallback policy. Saving checks every target belongs to the
// project and that fallbacks never lead back to the policy (a cycle would page forever).
import { badRequest, conflict, notFound } from '../../core/errors.js';
import { isUniqueViolation, type Prisma, type ProjectDb } from '../../core/db.js';
import { uuidv7 } from '../../core/ids.js';
import { pageArgs, type DomainDeps, type Page } from '../deps.js';
import type { Principal } from '../principal.js';

export const TARGET_TYPES = ['role', 'user', 'schedule'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

export interface Target {
  type: TargetType;
  id: string;
}

export interface PolicyStep {
  targets: Target[];
  /** Minutes before the next step (or the repeat, or the fallback policy). */
  waitMinutes: number;
}

export const WAIT_MINUTES = { min: 1, max: 1440 } as const;
export const MAX_REPEAT = 10;

export interface PolicyFields {
  name: string;
  description?: string | null;
  steps: PolicyStep[];
  repeat?: number;
  /** Remind whoever acknowledged every M minutes until the alert is resolved. */
  renotifyMinutes?: number | null;
  fallbackPolicyId?: string | null;
}

const policySelect = {
  id: true,
  name: true,
  description: true,
  steps: true,
  repeat: true,
  renotifyMinutes: true,
  fallbackPolicyId: true,
  createdAt: true,
  updatedAt: true,
} as const;

type PolicyRow = Prisma.EscalationPolicyGetPayload<{ select: typeof policySelect }>;

export const policyView = (row: PolicyRow) => ({ ...row, steps: row.steps as unknown as PolicyStep[] });
export type PolicyView = ReturnType<typeof policyView>;

/** The ids of each target type that do not exist in the project, as a 400. */
export async function checkTargets(db: ProjectDb, targets: readonly Target[], field: string): Promise<void> {
  const ids = (type: TargetType) => [...new Set(targets.filter((t) => t.type === type).map((t) => t.id))];
  const [roles, users, schedules] = await Promise.all([
    db.role.findMany({ where: { id: { in: ids('role') } }, select: { id: true } }),
    db.user.findMany({ where: { id: { in: ids('user') } }, select: { id: true } }),
    db.schedule.findMany({ where: { id: { in: ids('schedule') }, deletedAt: null }, select: { id: true } }),
  ]);
  const found = new Set([...roles, ...users, ...schedules].map((r) => r.id));
  const missing = targets.filter((t) => !found.has(t.id));
  if (missing.length) {
    throw badRequest(
      'unknown_target',
      `${field}: no ${missing.map((t) => `${t.type} ${t.id}`).join(', ')} in this project`,
      { missing },
    );
  }
}

/** Follows fallbacks from `fallbackId`; reaching `policyId` again is a cycle. */
async function checkFallback(db: ProjectDb, policyId: string, fallbackId: string | null | undefined) {
  const seen = new Set([policyId]);
  for (let next = fallbackId; next;) {
    if (seen.has(next)) {
      throw badRequest(
        'policy_cycle',
        `fallbackPolicyId: the fallbacks lead back to ${next === policyId ? 'this policy' : `policy ${next}`}; remove one link`,
        { chain: [...seen, next] },
      );
    }
    seen.add(next);
    const row = await db.escalationPolicy.findFirst({
      where: { id: next, deletedAt: null },
      select: { fallbackPolicyId: true },
    });
    if (!row)
      throw badRequest('unknown_policy', `fallbackPolicyId: no escalation policy ${next} in this project`);
    next = row.fallbackPolicyId;
  }
}

async function validate(db: ProjectDb, policyId: string, fields: Partial<PolicyFields>) {
  if (fields.steps) {
    await checkTargets(
      db,
      fields.steps.flatMap((s) => s.targets),
      'steps[].targets',
    );
  }
  if (fields.fallbackPolicyId !== undefined) await checkFallback(db, policyId, fields.fallbackPolicyId);
}

const toData = (fields: Partial<PolicyFields>) => ({
  name: fields.name,
  description: fields.description,
  steps: fields.steps as unknown as Prisma.InputJsonValue | undefined,
  repeat: fields.repeat,
  renotifyMinutes: fields.renotifyMinutes,
  fallbackPolicyId: fields.fallbackPolicyId,
});

export async function createPolicy(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  fields: PolicyFields,
) {
  const db = deps.db.forProject(projectId);
  const id = uuidv7();
  await validate(db, id, fields);
  const row = await db.escalationPolicy
    .create({
      data: { ...toData(fields), id, projectId, name: fields.name, steps: toData(fields).steps! },
      select: policySelect,
    })
    .catch(nameTaken(fields.name));
  deps.audit.record({
    projectId,
    principal,
    action: 'escalation_policy.create',
    resourceType: 'escalation_policy',
    resourceId: id,
  });
  return policyView(row);
}

const nameTaken = (name: string | undefined) => (err: unknown) => {
  if (isUniqueViolation(err))
    throw conflict('name_taken', `An escalation policy named "${name}" exists; choose another name`);
  throw err;
};

async function findPolicy(db: ProjectDb, id: string) {
  const row = await db.escalationPolicy.findFirst({ where: { id, deletedAt: null }, select: policySelect });
  if (!row) throw notFound('Escalation policy');
  return row;
}

export async function getPolicy(deps: DomainDeps, projectId: string, id: string) {
  return policyView(await findPolicy(deps.db.forProject(projectId), id));
}

export async function listPolicies(deps: DomainDeps, projectId: string, page: Page) {
  const db = deps.db.forProject(projectId);
  const where = { deletedAt: null };
  const [rows, total] = await Promise.all([
    db.escalationPolicy.findMany({
      where,
      select: policySelect,
      orderBy: [{ name: 'asc' }],
      ...pageArgs(page),
    }),
    db.escalationPolicy.count({ where }),
  ]);
  return { items: rows.map(policyView), ...page, total };
}

export async function updatePolicy(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  id: string,
  fields: Partial<PolicyFields>,
) {
  const db = deps.db.forProject(projectId);
  await findPolicy(db, id);
  await validate(db, id, fields);
  const row = await db.escalationPolicy
    .update({ where: { id }, data: toData(fields), select: policySelect })
    .catch(nameTaken(fields.name));
  deps.audit.record({
    projectId,
    principal,
    action: 'escalation_policy.update',
    resourceType: 'escalation_policy',
    resourceId: id,
    metadata: { fields: Object.keys(fields) },
  });
  return policyView(row);
}

/** Refused while a rule or another policy points at it; open alerts finish with what they had. */
export async function deletePolicy(deps: DomainDeps, principal: Principal, projectId: string, id: string) {
  const db = deps.db.forProject(projectId);
  await findPolicy(db, id);
  const [rules, policies] = await Promise.all([
    db.rule.findMany({ where: { escalationPolicyId: id, deletedAt: null }, select: { id: true } }),
    db.escalationPolicy.findMany({ where: { fallbackPolicyId: id, deletedAt: null }, select: { id: true } }),
  ]);
  if (rules.length || policies.length) {
    throw conflict(
      'policy_in_use',
      `Still used by ${[...rules.map((r) => `rule ${r.id}`), ...policies.map((p) => `policy ${p.id}`)].join(', ')}; point them elsewhere first`,
    );
  }
  // The name is freed for a new policy; the row stays for the alerts that name it.
  await db.escalationPolicy.update({
    where: { id },
    data: { deletedAt: new Date(), name: `${id} (deleted)` },
  });
  deps.audit.record({
    projectId,
    principal,
    action: 'escalation_policy.delete',
    resourceType: 'escalation_policy',
    resourceId: id,
  });
}

/** The policy as the escalation worker reads it (deleted ones too: open alerts keep theirs). */
export async function loadPolicy(db: ProjectDb, id: string): Promise<PolicyView | null> {
  const row = await db.escalationPolicy.findFirst({ where: { id }, select: policySelect });
  return row ? policyView(row) : null;
}
