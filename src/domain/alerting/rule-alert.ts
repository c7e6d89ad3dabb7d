// What rules gain for alerting: schedules as targets, an `alert` block (dedup key template and
// resolveWhen condition) and an escalation policy. A rule with either of the last two opens alerts
// instead of one-off notifications.
import { badRequest } from '../../core/errors.js';
import type { ProjectDb } from '../../core/db.js';
import { checkTargets } from './policies.js';

export interface RuleAlert {
  /** Template over the event; events with the same rendered key update one open alert. */
  dedupKey: string;
  /** A condition over later events that resolves the open alert of their dedup key. */
  resolveWhen?: string | null;
}

export interface RuleAlerting {
  targetRoles?: string[];
  targetSchedules?: string[] | null;
  alert?: RuleAlert | null;
  escalationPolicyId?: string | null;
}

export const opensAlert = (rule: Pick<RuleAlerting, 'alert' | 'escalationPolicyId'>): boolean =>
  Boolean(rule.alert || rule.escalationPolicyId);

/** Schedules and the policy must be the project's; a new rule must reach someone. */
export async function checkRuleAlerting(
  db: ProjectDb,
  fields: RuleAlerting,
  creating: boolean,
): Promise<void> {
  if (fields.targetSchedules?.length) {
    await checkTargets(
      db,
      fields.targetSchedules.map((id) => ({ type: 'schedule' as const, id })),
      'targetSchedules',
    );
  }
  if (fields.escalationPolicyId) {
    const found = await db.escalationPolicy.count({
      where: { id: fields.escalationPolicyId, deletedAt: null },
    });
    if (!found)
      throw badRequest(
        'unknown_policy',
        `escalationPolicyId: no escalation policy ${fields.escalationPolicyId} in this project`,
      );
  }
  if (
    creating &&
    !fields.targetRoles?.length &&
    !fields.targetSchedules?.length &&
    !fields.escalationPolicyId
  ) {
    throw badRequest(
      'no_targets',
      'Name targetRoles, targetSchedules or an escalationPolicyId: the rule would reach nobody',
    );
  }
}
