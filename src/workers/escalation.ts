// The escalation worker: polls the timer (a Redis sorted set, see domain/alerting/timer.ts) and
// fires what is due. Claiming moves a member's score to a lease deadline, so a worker killed
// mid-step leaves it to be claimed again once the lease runs out; a worker killed between steps
// leaves the member at the next step's due time, so a restarted worker fires it then. The due
// alerts of a project fire together, up to `chunkSize` in one transaction (one commit, not one
// per alert: what lets one worker keep up with thousands of alerts). In it each alert's first
// statement is the conditional update "still triggered, still at this step": an
// acknowledgement committed first makes that alert's step a no-op, and a second worker holding
// a stale claim cannot fire the same step twice.
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
  /** Alerts of one project fired in one transaction. */
  chunkSize?: number;
  /** Transactions run at once; each holds a MySQL connection (default: pool − 2). */
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
type RuleRow = RuleExtras & { targetRoles: unknown; targetSchedules: unknown };

/**
 * What the alerts of one pass share, loaded once: their rules and policies, and who a set of
 * targets reaches at the pass's instant. Thousands of alerts of one policy cost one read each.
 */
export interface PassCache {
  rules: Map<string, Promise<RuleRow | null>>;
  policies: Map<string, Promise<Plan | null>>;
  targets: Map<string, Promise<string[]>>;
}

export const newPassCache = (): PassCache => ({ rules: new Map(), policies: new Map(), targets: new Map() });

function once<V>(map: Map<string, Promise<V>>, key: string, load: () => Promise<V>): Promise<V> {
  let value = map.get(key);
  if (!value) {
    value = load();
    map.set(key, value);
    // A failed read is not kept: the next pass asks again.
    value.catch(() => map.delete(key));
  }
  return value;
}

/** The alert's policy, or for a rule without one, a single step to the rule's own targets. */
async function planOf(
  db: ProjectDb,
  cache: PassCache,
  alert: DueAlert,
): Promise<{ plan: Plan | null; rule: RuleExtras }> {
  const rule = alert.ruleId
    ? await once(cache.rules, alert.ruleId, () =>
        db.rule.findFirst({
          where: { id: alert.ruleId! },
          select: { targetRoles: true, targetSchedules: true, action: true, soundId: true, priority: true },
        }),
      )
    : null;
  if (alert.policyId) {
    const policyId = alert.policyId;
    return { plan: await once(cache.policies, policyId, () => loadPolicy(db, policyId)), rule };
  }
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

/** One alert's step (or reminder) as decided before the transaction that may fire it. */
interface Firing {
  alert: DueAlert;
  step: number | null;
  reminding: boolean;
  userIds: string[];
  /** The alert's columns once the step has fired. */
  next: { nextStepAt: Date | null; nextStep?: number; cycle?: number; policyId?: string };
  draft: NotificationDraft | null;
}

/** What is due of one alert, or null when there is nothing to fire (and nothing was changed). */
async function decide(
  deps: EscalationDeps,
  db: ProjectDb,
  cache: PassCache,
  projectId: string,
  alert: DueAlert,
  now: number,
): Promise<Firing | null> {
  const { plan, rule } = await planOf(db, cache, alert);
  const reminding = alert.status === 'acknowledged';
  if (!plan || (reminding ? !plan.renotifyMinutes : !plan.steps[alert.nextStep])) {
    await db.alert.updateMany({
      where: { id: alert.id, nextStepAt: alert.nextStepAt },
      data: { nextStepAt: null },
    });
    return null;
  }
  const targets = reminding
    ? alert.acknowledgedBy
      ? [{ type: 'user' as const, id: alert.acknowledgedBy }]
      : []
    : plan.steps[alert.nextStep]!.targets;
  const userIds = targets.length
    ? await once(cache.targets, JSON.stringify(targets), () =>
        resolveTargets(deps, projectId, targets, new Date(now)),
      )
    : [];
  const step = reminding ? null : alert.nextStep + 1;
  const next = reminding
    ? { cycle: alert.cycle + 1, nextStepAt: new Date(now + plan.renotifyMinutes! * 60_000) }
    : after(plan, alert, now);
  const draft = userIds.length ? draftOf(alert, rule, step, userIds) : null;
  return { alert, step, reminding, userIds, next, draft };
}

/**
 * Fires what is due of some alerts of one project and returns, per alert, when to look again
 * (null: nothing left). The steps that fire are written in one transaction: one commit for the
 * lot instead of one per alert. Steps and reminders that reach nobody are recorded, audited and
 * counted as unrouted.
 */
export async function advanceAlerts(
  deps: EscalationDeps,
  projectId: string,
  alertIds: readonly string[],
  cache: PassCache = newPassCache(),
): Promise<Map<string, Date | null>> {
  const db = deps.db.forProject(projectId);
  const outcome = new Map<string, Date | null>(alertIds.map((id) => [id, null]));
  const alerts = await db.alert.findMany({ where: { id: { in: [...alertIds] } }, select: alertColumns });
  const now = Date.now();
  const firings: Firing[] = [];
  for (const alert of alerts) {
    if (alert.status === 'resolved' || !alert.nextStepAt) continue;
    if (alert.nextStepAt.getTime() > now) {
      // Claimed before its time: a worker died after firing but before rescheduling. Hand the
      // last notification over again (delivery skips whoever it already reached).
      await redispatchLatest(deps, db, projectId, alert.id);
      outcome.set(alert.id, alert.nextStepAt);
      continue;
    }
    const firing = await decide(deps, db, cache, projectId, alert, now);
    if (firing) firings.push(firing);
  }
  if (firings.length === 0) return outcome;

  const fired = await db.$transaction(async (tx) => {
    // Each alert's first statement is its conditional update: an acknowledgement committed
    // first, or another worker's firing, makes it a no-op for that alert alone.
    const won: Firing[] = [];
    for (const firing of firings) {
      const { alert } = firing;
      const { count } = await tx.alert.updateMany({
        where: {
          id: alert.id,
          status: alert.status,
          nextStep: alert.nextStep,
          cycle: alert.cycle,
          policyId: alert.policyId,
        },
        data: firing.next,
      });
      if (count === 1) won.push(firing);
    }
    const drafts = won.flatMap((f) => (f.draft ? [f.draft] : []));
    for (const insert of notificationInserts(tx as unknown as ProjectDb, projectId, drafts)) await insert;
    if (won.length) {
      await tx.alertEntry.createMany({
        data: won.map((f) =>
          alertEntry(projectId, f.alert.id, f.draft ? (f.reminding ? 'reminded' : 'notified') : 'unrouted', {
            step: f.step,
            metadata: { cycle: f.alert.cycle, userIds: f.userIds, notificationId: f.draft?.id ?? null },
          }),
        ),
      });
    }
    return won;
  }, TRANSACTION_LIMITS);

  // Alerts whose update lost were acknowledged, resolved or advanced meanwhile: whoever did it
  // rescheduled them, so they stay null here.
  for (const { alert, next, draft, step, reminding } of fired) {
    outcome.set(alert.id, next.nextStepAt);
    deps.metrics.escalationLateness.observe((now - alert.nextStepAt!.getTime()) / 1000);
    if (draft) continue;
    deps.metrics.alertsUnrouted.inc({ project: projectId });
    deps.log.warn({ projectId, alertId: alert.id, step }, 'Alert step reached nobody (unrouted)');
    deps.audit.record({
      projectId,
      principal: { kind: 'system', projectId },
      action: 'alert.unrouted',
      resourceType: 'alert',
      resourceId: alert.id,
      metadata: { step, cycle: alert.cycle, reminder: reminding },
    });
  }
  const sent = fired.flatMap((f) => (f.draft ? [{ notificationId: f.draft.id, userIds: f.userIds }] : []));
  if (sent.length) {
    await deps.onReceipts?.(projectId, [...new Set(sent.flatMap((n) => n.userIds))]);
    await deps.dispatch(projectId, sent);
  }
  return outcome;
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
  const chunkSize = options.chunkSize ?? 25;
  // Steps beyond the pool would wait for a connection inside their transaction and time out.
  const concurrency = options.concurrency ?? Math.max(1, deps.config.database.poolSize - 2);
  const key = timerKey(deps.keys);
  let stopping = false;
  let wake: (() => void) | undefined;
  let kicked = false;

  /** Fires one project's claimed alerts; if their shared transaction fails, each alone. */
  async function processChunk(projectId: string, members: string[], lease: number, cache: PassCache) {
    const alertIds = members.map((member) => member.slice(projectId.length + 1));
    try {
      const next = await advanceAlerts(deps, projectId, alertIds, cache);
      const finish = deps.redis.pipeline();
      for (const member of members) {
        const at = next.get(member.slice(projectId.length + 1));
        finish.eval(FINISH, 1, key, member, String(lease), at ? String(at.getTime()) : '');
      }
      await finish.exec();
    } catch (err) {
      if (members.length > 1) {
        // One alert's failure (a deadlock with an acknowledgement, say) must not hold up the rest.
        for (const member of members) await processChunk(projectId, [member], lease, cache);
        return;
      }
      // Left under its lease: claimed again when it runs out.
      deps.log.warn(
        { err: (err as Error).message, projectId, alertId: alertIds[0] },
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
    const byProject = new Map<string, string[]>();
    for (const member of due) {
      const projectId = member.slice(0, member.indexOf(':'));
      byProject.set(projectId, [...(byProject.get(projectId) ?? []), member]);
    }
    const chunks = [...byProject].flatMap(([projectId, members]) =>
      Array.from({ length: Math.ceil(members.length / chunkSize) }, (_, i) => ({
        projectId,
        members: members.slice(i * chunkSize, (i + 1) * chunkSize),
      })),
    );
    const cache = newPassCache();
    for (let i = 0; i < chunks.length; i += concurrency) {
      await Promise.all(
        chunks
          .slice(i, i + concurrency)
          .map((chunk) => processChunk(chunk.projectId, chunk.members, lease, cache)),
      );
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
