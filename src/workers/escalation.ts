// The escalation worker: polls the timer (a Redis sorted set, see domain/alerting/timer.ts) and
// fires what is due. Claiming moves a member's score to a lease deadline, so a worker killed
// mid-step leaves it to be claimed again once the lease runs out; a worker killed between steps
// leaves the member at the next step's due time, so a restarted worker fires it then. A step
// fires inside one transaction whose first statement is the conditional update
// "still triggered, still at this step": an acknowledgement committed first makes it a no-op,
// and a second worker holding a stale claim cannot fire the same step twice.
import type { ProjectDb } from '../core/db.js';
import { uuidv7 } from '../core/ids.js';
import type { DomainDeps } from '../domain/deps.js';
import { alertEntry, type AlertRow } from '../domain/alerting/alerts.js';
import { loadPolicy, type PolicyStep } from '../domain/alerting/policies.js';
import { resolveTargets } from '../domain/alerting/targets.js';
import { timerKey } from '../domain/alerting/timer.js';
import type { RecipientIndex } from '../domain/recipients.js';
import { notificationInserts, type Dispatch, type NotificationDraft } from './notifications.js';

export interface EscalationDeps extends DomainDeps {
  recipients: RecipientIndex;
  dispatch: Dispatch;
  /** Told which users got new receipts, after the commit (unread counters). */
  onReceipts?: (projectId: string, userIds: string[]) => Promise<void>;
}

export interface EscalationOptions {
  pollMs?: number;
  /** How long a claimed member stays hidden from other workers. */
  leaseMs?: number;
  batchSize?: number;
  /** Steps fired at once; each holds a MySQL connection for its transaction (default: pool − 2). */
  concurrency?: number;
}

export interface Escalation {
  /** Looks at the timer now (a new alert is due at once). */
  kick(): void;
  close(): Promise<void>;
}

// Due members get the lease deadline as their score; the caller processes them.
const CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return due`;

// Only the holder of the lease (the score is still its deadline) moves or removes the member:
// anyone who rescheduled it meanwhile (an acknowledgement's reminder) wins.
const FINISH = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1`;

/** A loaded database makes a step wait for a connection; a step that gives up is retried after its lease. */
const TRANSACTION_LIMITS = { maxWait: 10_000, timeout: 10_000 };

const alertColumns = {
  id: true,
  ruleId: true,
  policyId: true,
  status: true,
  title: true,
  body: true,
  eventCount: true,
  lastEventId: true,
  nextStep: true,
  cycle: true,
  nextStepAt: true,
  acknowledgedBy: true,
} as const;

type DueAlert = Pick<AlertRow, keyof typeof alertColumns>;

interface Plan {
  steps: PolicyStep[];
  repeat: number;
  fallbackPolicyId: string | null;
  renotifyMinutes: number | null;
}

type RuleExtras = { action: unknown; soundId: string | null; priority: number } | null;

/** The alert's policy, or for a rule without one, a single step to the rule's own targets. */
async function planOf(db: ProjectDb, alert: DueAlert): Promise<{ plan: Plan | null; rule: RuleExtras }> {
  const rule = alert.ruleId
    ? await db.rule.findFirst({
        where: { id: alert.ruleId },
        select: { targetRoles: true, targetSchedules: true, action: true, soundId: true, priority: true },
      })
    : null;
  if (alert.policyId) return { plan: await loadPolicy(db, alert.policyId), rule };
  if (!rule) return { plan: null, rule };
  const targets = [
    ...(rule.targetRoles as string[]).map((id) => ({ type: 'role' as const, id })),
    ...((rule.targetSchedules as string[] | null) ?? []).map((id) => ({ type: 'schedule' as const, id })),
  ];
  return {
    plan: { steps: [{ targets, waitMinutes: 0 }], repeat: 0, fallbackPolicyId: null, renotifyMinutes: null },
    rule,
  };
}

/** Where the alert goes after firing step `nextStep` of `plan`: the next step, a repeat, the fallback, or nowhere. */
function after(plan: Plan, alert: DueAlert, now: number) {
  const step = plan.steps[alert.nextStep]!;
  const at = new Date(now + step.waitMinutes * 60_000);
  if (alert.nextStep + 1 < plan.steps.length)
    return { nextStep: alert.nextStep + 1, cycle: alert.cycle, nextStepAt: at };
  if (alert.cycle < plan.repeat) return { nextStep: 0, cycle: alert.cycle + 1, nextStepAt: at };
  if (plan.fallbackPolicyId)
    return { policyId: plan.fallbackPolicyId, nextStep: 0, cycle: 0, nextStepAt: at };
  return { nextStepAt: null };
}

function draftOf(
  alert: DueAlert,
  rule: RuleExtras,
  step: number | null,
  userIds: string[],
): NotificationDraft {
  return {
    id: uuidv7(),
    ruleId: alert.ruleId,
    eventId: null,
    kind: 'alert',
    title: alert.title,
    body: alert.body,
    data: {
      alertId: alert.id,
      alertStep: step,
      eventCount: alert.eventCount,
      lastEventId: alert.lastEventId,
    },
    action: (rule?.action ?? undefined) as NotificationDraft['action'],
    soundId: rule?.soundId ?? null,
    priority: rule?.priority ?? 0,
    userIds,
    alertId: alert.id,
    alertStep: step,
  };
}

/**
 * Fires what is due of one alert and returns when to look again (null: nothing left). Steps
 * and reminders that reach nobody are recorded, audited and counted as unrouted.
 */
export async function advanceAlert(
  deps: EscalationDeps,
  projectId: string,
  alertId: string,
): Promise<Date | null> {
  const db = deps.db.forProject(projectId);
  const alert = await db.alert.findFirst({ where: { id: alertId }, select: alertColumns });
  if (!alert || alert.status === 'resolved' || !alert.nextStepAt) return null;
  const now = Date.now();
  if (alert.nextStepAt.getTime() > now) {
    // Claimed before its time: a worker died after firing but before rescheduling. Hand the last
    // notification over again (delivery skips whoever it already reached).
    await redispatchLatest(deps, db, projectId, alertId);
    return alert.nextStepAt;
  }
  const { plan, rule } = await planOf(db, alert);
  const reminding = alert.status === 'acknowledged';
  if (!plan || (reminding ? !plan.renotifyMinutes : !plan.steps[alert.nextStep])) {
    await db.alert.updateMany({
      where: { id: alertId, nextStepAt: alert.nextStepAt },
      data: { nextStepAt: null },
    });
    return null;
  }

  const at = new Date(now);
  const userIds = reminding
    ? alert.acknowledgedBy
      ? await resolveTargets(deps, projectId, [{ type: 'user', id: alert.acknowledgedBy }], at)
      : []
    : await resolveTargets(deps, projectId, plan.steps[alert.nextStep]!.targets, at);
  const step = reminding ? null : alert.nextStep + 1;
  const next = reminding
    ? { cycle: alert.cycle + 1, nextStepAt: new Date(now + plan.renotifyMinutes! * 60_000) }
    : after(plan, alert, now);
  const draft = userIds.length ? draftOf(alert, rule, step, userIds) : null;
  const fired = await db.$transaction(async (tx) => {
    const { count } = await tx.alert.updateMany({
      where: {
        id: alertId,
        status: alert.status,
        nextStep: alert.nextStep,
        cycle: alert.cycle,
        policyId: alert.policyId,
      },
      data: next,
    });
    if (count === 0) return false;
    for (const insert of notificationInserts(tx as unknown as ProjectDb, projectId, draft ? [draft] : []))
      await insert;
    await tx.alertEntry.create({
      data: alertEntry(projectId, alertId, draft ? (reminding ? 'reminded' : 'notified') : 'unrouted', {
        step,
        metadata: { cycle: alert.cycle, userIds, notificationId: draft?.id ?? null },
      }),
    });
    return true;
  }, TRANSACTION_LIMITS);
  if (!fired) return null; // acknowledged, resolved or advanced by another worker meanwhile: it rescheduled
  deps.metrics.escalationLateness.observe((now - alert.nextStepAt.getTime()) / 1000);
  if (draft) {
    await deps.onReceipts?.(projectId, userIds);
    await deps.dispatch(projectId, [{ notificationId: draft.id, userIds }]);
  } else {
    deps.metrics.alertsUnrouted.inc({ project: projectId });
    deps.log.warn({ projectId, alertId, step }, 'Alert step reached nobody (unrouted)');
    deps.audit.record({
      projectId,
      principal: { kind: 'system', projectId },
      action: 'alert.unrouted',
      resourceType: 'alert',
      resourceId: alertId,
      metadata: { step, cycle: alert.cycle, reminder: reminding },
    });
  }
  return next.nextStepAt;
}

async function redispatchLatest(deps: EscalationDeps, db: ProjectDb, projectId: string, alertId: string) {
  const latest = await db.notification.findFirst({
    where: { alertId },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    select: { id: true, receipts: { where: { deliveredAt: null }, select: { userId: true } } },
  });
  if (latest?.receipts.length) {
    await deps.dispatch(projectId, [
      { notificationId: latest.id, userIds: latest.receipts.map((r) => r.userId) },
    ]);
  }
}

export function startEscalation(deps: EscalationDeps, options: EscalationOptions = {}): Escalation {
  const pollMs = options.pollMs ?? 250;
  const leaseMs = options.leaseMs ?? 10_000;
  const batchSize = options.batchSize ?? 200;
  // Steps beyond the pool would wait for a connection inside their transaction and time out.
  const concurrency = options.concurrency ?? Math.max(1, deps.config.database.poolSize - 2);
  const key = timerKey(deps.keys);
  let stopping = false;
  let wake: (() => void) | undefined;
  let kicked = false;

  async function processOne(member: string, lease: number) {
    const [projectId, alertId] = member.split(':') as [string, string];
    try {
      const next = await advanceAlert(deps, projectId, alertId);
      await deps.redis.eval(FINISH, 1, key, member, String(lease), next ? String(next.getTime()) : '');
    } catch (err) {
      // Left under its lease: claimed again when it runs out.
      deps.log.warn(
        { err: (err as Error).message, projectId, alertId },
        'Escalation step failed; retrying after the lease',
      );
    }
  }

  async function pass(): Promise<number> {
    const now = Date.now();
    const lease = now + leaseMs;
    const due = (await deps.redis.eval(
      CLAIM,
      1,
      key,
      String(now),
      String(lease),
      String(batchSize),
    )) as string[];
    for (let i = 0; i < due.length; i += concurrency) {
      await Promise.all(due.slice(i, i + concurrency).map((member) => processOne(member, lease)));
    }
    return due.length;
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (kicked) {
        kicked = false;
        return resolve();
      }
      const timer = setTimeout(resolve, ms);
      wake = () => {
        kicked = false;
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = (async () => {
    while (!stopping) {
      try {
        // A full batch means more may be due: go again without waiting.
        if ((await pass()) === batchSize) continue;
      } catch (err) {
        deps.log.warn({ err: (err as Error).message }, 'Escalation timer unreachable; retrying');
      }
      await sleep(pollMs);
    }
  })();

  return {
    kick() {
      kicked = true;
      wake?.();
    },
    async close() {
      stopping = true;
      wake?.();
      await loop;
    },
  };
}
