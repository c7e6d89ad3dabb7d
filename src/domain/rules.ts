// Rules: a condition over events, the roles to alert and the notification to send. Saving
// compiles the condition and the templates (refused with their position), checks the roles and
// the sound belong to the project, then bumps the project's rules version so every node's
// compiled rule set is rebuilt.
import { badRequest, notFound } from '../core/errors.js';
import { Prisma, type ProjectDb } from '../core/db.js';
import { uuidv7 } from '../core/ids.js';
import { compileCondition } from '../engine/compile.js';
import { explainCondition } from '../engine/explain.js';
import { ConditionError } from '../engine/parse.js';
import { limitOf, previewSuppression, type SuppressionLimit } from '../engine/suppression.js';
import { compileTemplate } from '../engine/template.js';
import { pageArgs, type DomainDeps, type Page } from './deps.js';
import type { Principal } from './principal.js';
import { checkRuleAlerting, type RuleAlert, type RuleAlerting } from './alerting/rule-alert.js';
import { rolesByRef } from './roles.js';

export interface RuleFields extends RuleAlerting {
  name: string;
  description?: string | null;
  condition: string;
  /** Roles of the project, by id or name (stored as ids); their active users are alerted. */
  targetRoles: string[];
  title: string;
  body: string;
  action?: Record<string, unknown> | null;
  soundId?: string | null;
  priority?: number;
  active?: boolean;
  /** Overrides the project's suppression settings for this rule (either value or both). */
  suppression?: Partial<SuppressionLimit> | null;
}

const ruleSelect = {
  id: true,
  name: true,
  description: true,
  condition: true,
  targetRoles: true,
  title: true,
  body: true,
  action: true,
  soundId: true,
  priority: true,
  active: true,
  suppression: true,
  targetSchedules: true,
  alert: true,
  escalationPolicyId: true,
  createdBy: true,
  createdAt: true,
  updatedAt: true,
} as const;

type RuleRow = Prisma.RuleGetPayload<{ select: typeof ruleSelect }>;

export function ruleView(row: RuleRow) {
  return {
    ...row,
    targetRoles: row.targetRoles as string[],
    action: row.action as Record<string, unknown> | null,
    suppression: row.suppression as Partial<SuppressionLimit> | null,
    targetSchedules: (row.targetSchedules as string[] | null) ?? [],
    alert: row.alert as RuleAlert | null,
  };
}

export type RuleView = ReturnType<typeof ruleView>;

/** Runs `compile`, turning a ConditionError into a 400 that names the field and the column. */
function compiled<T>(code: 'invalid_condition' | 'invalid_template', field: string, compile: () => T): T {
  try {
    return compile();
  } catch (error) {
    if (!(error instanceof ConditionError)) throw error;
    throw badRequest(code, `${field}: ${error.message}`, {
      field,
      reason: error.code,
      column: error.column ?? null,
    });
  }
}

function checkExpressions(fields: Partial<RuleFields>): void {
  const { condition, title, body } = fields;
  if (condition !== undefined) compiled('invalid_condition', 'condition', () => compileCondition(condition));
  if (title !== undefined) compiled('invalid_template', 'title', () => compileTemplate(title));
  if (body !== undefined) compiled('invalid_template', 'body', () => compileTemplate(body));
  const { alert } = fields;
  if (alert) compiled('invalid_template', 'alert.dedupKey', () => compileTemplate(alert.dedupKey));
  if (alert?.resolveWhen) {
    const resolveWhen = alert.resolveWhen;
    compiled('invalid_condition', 'alert.resolveWhen', () => compileCondition(resolveWhen));
  }
}

/**
 * Checks what the fields refer to and gives them back with `targetRoles` as role ids: a target
 * may name a role by id or by name (as channel auth does), and is stored as its id.
 */
async function resolveReferences<F extends Partial<RuleFields>>(db: ProjectDb, fields: F): Promise<F> {
  let targetRoles: string[] | undefined;
  if (fields.targetRoles !== undefined) {
    const refs = [...new Set(fields.targetRoles)];
    const roles = await rolesByRef(db, refs);
    const idOf = (ref: string) => roles.get(ref)?.id;
    const missing = refs.filter((ref) => !idOf(ref));
    if (missing.length) {
      throw badRequest('unknown_role', `targetRoles: no role ${missing.join(', ')} in this project`, {
        missing,
      });
    }
    targetRoles = [...new Set(refs.map((ref) => idOf(ref)!))];
  }
  if (fields.soundId && (await db.sound.count({ where: { id: fields.soundId } })) === 0) {
    throw badRequest('unknown_sound', `soundId: no sound ${fields.soundId} in this project`);
  }
  return targetRoles ? { ...fields, targetRoles } : fields;
}

/** After MySQL has the change: bump the version first, then tell the other nodes. */
async function announceRulesChanged(deps: DomainDeps, projectId: string): Promise<void> {
  const version = await deps.redis.incr(deps.keys.rulesVersion(projectId));
  await deps.bus.publish({ type: 'rules.changed', projectId, version });
}

function toData(fields: Partial<RuleFields>) {
  const json = (value: object | null | undefined) =>
    value === null ? Prisma.DbNull : (value as Prisma.InputJsonValue | undefined);
  return {
    name: fields.name,
    description: fields.description,
    condition: fields.condition,
    targetRoles: fields.targetRoles ? [...new Set(fields.targetRoles)] : undefined,
    title: fields.title,
    body: fields.body,
    action: json(fields.action),
    soundId: fields.soundId,
    priority: fields.priority,
    active: fields.active,
    suppression: json(fields.suppression),
    targetSchedules: fields.targetSchedules ? [...new Set(fields.targetSchedules)] : undefined,
    alert: json(fields.alert),
    escalationPolicyId: fields.escalationPolicyId,
  };
}

export async function createRule(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  input: RuleFields,
) {
  checkExpressions(input);
  const db = deps.db.forProject(projectId);
  const fields = await resolveReferences(db, input);
  await checkRuleAlerting(db, fields, true);
  const row = await db.rule.create({
    data: {
      ...toData(fields),
      id: uuidv7(),
      projectId,
      name: fields.name,
      condition: fields.condition,
      targetRoles: [...new Set(fields.targetRoles)],
      title: fields.title,
      body: fields.body,
      createdBy: principal.kind === 'user' ? principal.userId : null,
    },
    select: ruleSelect,
  });
  await announceRulesChanged(deps, projectId);
  deps.audit.record({
    projectId,
    principal,
    action: 'rule.create',
    resourceType: 'rule',
    resourceId: row.id,
  });
  return ruleView(row);
}

export interface RuleFilters {
  active?: boolean;
  priority?: number;
  /** A role id the rule targets. */
  role?: string;
  search?: string;
}

export async function listRules(deps: DomainDeps, projectId: string, query: Page & RuleFilters) {
  const where: Prisma.RuleWhereInput = {
    deletedAt: null,
    ...(query.active !== undefined ? { active: query.active } : {}),
    ...(query.priority !== undefined ? { priority: query.priority } : {}),
    ...(query.role ? { targetRoles: { array_contains: [query.role] } } : {}),
    ...(query.search
      ? {
          OR: [
            { name: { contains: query.search } },
            { description: { contains: query.search } },
            { condition: { contains: query.search } },
          ],
        }
      : {}),
  };
  const db = deps.db.forProject(projectId);
  const [rows, total] = await Promise.all([
    db.rule.findMany({
      where,
      select: ruleSelect,
      orderBy: [{ priority: 'desc' }, { id: 'asc' }],
      ...pageArgs(query),
    }),
    db.rule.count({ where }),
  ]);
  return { items: rows.map(ruleView), page: query.page, pageSize: query.pageSize, total };
}

async function findRule(db: ProjectDb, id: string) {
  const row = await db.rule.findFirst({ where: { id, deletedAt: null }, select: ruleSelect });
  if (!row) throw notFound('Rule');
  return row;
}

export async function getRule(deps: DomainDeps, projectId: string, id: string) {
  return ruleView(await findRule(deps.db.forProject(projectId), id));
}

export async function updateRule(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  id: string,
  input: Partial<RuleFields>,
) {
  checkExpressions(input);
  const db = deps.db.forProject(projectId);
  await findRule(db, id);
  const fields = await resolveReferences(db, input);
  await checkRuleAlerting(db, fields, false);
  const row = await db.rule.update({ where: { id }, data: toData(fields), select: ruleSelect });
  await announceRulesChanged(deps, projectId);
  deps.audit.record({
    projectId,
    principal,
    action: 'rule.update',
    resourceType: 'rule',
    resourceId: id,
    metadata: { fields: Object.keys(fields) },
  });
  return ruleView(row);
}

/** Soft delete: notifications keep pointing at the rule. */
export async function deleteRule(deps: DomainDeps, principal: Principal, projectId: string, id: string) {
  const db = deps.db.forProject(projectId);
  await findRule(db, id);
  await db.rule.update({ where: { id }, data: { deletedAt: new Date(), active: false } });
  await announceRulesChanged(deps, projectId);
  deps.audit.record({ projectId, principal, action: 'rule.delete', resourceType: 'rule', resourceId: id });
}

/** What the consumer's rule cache is built from. */
export async function loadActiveRules(deps: Pick<DomainDeps, 'db'>, projectId: string) {
  const rows = await deps.db
    .forProject(projectId)
    .rule.findMany({ where: { active: true, deletedAt: null }, select: ruleSelect });
  return rows.map(ruleView);
}

export type RuleTestInput = {
  event: Record<string, unknown>;
  /** Templates to render instead of the saved rule's (a draft being edited). */
  title?: string;
  body?: string;
} & ({ condition: string; ruleId?: undefined } | { ruleId: string; condition?: undefined });

/** Evaluates a condition (or a saved rule) against a sample event, listing every step. */
export async function testRule(deps: DomainDeps, projectId: string, input: RuleTestInput) {
  const rule = input.ruleId
    ? ruleView(await findRule(deps.db.forProject(projectId), input.ruleId))
    : undefined;
  const condition = rule?.condition ?? input.condition!;
  checkExpressions({ title: input.title, body: input.body });
  const explanation = compiled('invalid_condition', 'condition', () =>
    explainCondition(condition, input.event),
  );
  // A match also shows the notification it would send: the templates sent (a draft being
  // edited), else the saved rule's.
  const title = input.title ?? rule?.title;
  const body = input.body ?? rule?.body;
  const notification =
    explanation.matched && title !== undefined
      ? {
          title: compileTemplate(title).render(input.event),
          body: compileTemplate(body ?? '').render(input.event),
        }
      : undefined;
  // A saved rule that matches may be over its suppression limit: then this match would be
  // counted in a digest, not notified.
  const suppression = rule && explanation.matched ? await suppressionNow(deps, projectId, rule) : undefined;
  return {
    condition,
    ...explanation,
    ...(notification ? { notification } : {}),
    ...(suppression
      ? suppression.suppressed
        ? { suppressed: true, digestDueAt: suppression.digestDueAt }
        : { suppressed: false }
      : {}),
  };
}

async function suppressionNow(deps: DomainDeps, projectId: string, rule: RuleView) {
  const limit = limitOf(rule, (await deps.projects.settings(projectId)).suppression);
  return previewSuppression(deps, projectId, rule.id, limit);
}
