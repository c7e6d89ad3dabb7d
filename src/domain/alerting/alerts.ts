// The alert lifecycle: triggered → acknowledged → resolved. Events open an alert or add to the
// open one of their dedup key (count, last event); resolveWhen events and people resolve it; the
// first acknowledgement stops the escalation. Every change is one conditional update of the alert
// row, so concurrent acknowledgements, resolutions and step firings serialise on that row and
// exactly one of them wins. Each change is in the alert's timeline and the audit log.
import { createHash } from 'node:crypto';
import { forbidden, notFound } from '../../core/errors.js';
import { isUniqueViolation, type Prisma, type ProjectDb } from '../../core/db.js';
import { uuidv7 } from '../../core/ids.js';
import { pageArgs, type DomainDeps, type Page } from '../deps.js';
import { hasPermission, type Principal } from '../principal.js';
import { forgetReplay } from '../replay.js';
import { loadPolicy } from './policies.js';
import { rescheduleAlert, scheduleAlert } from './timer.js';

export type AlertStatus = 'triggered' | 'acknowledged' | 'resolved';

const alertSelect = {
  id: true,
  ruleId: true,
  policyId: true,
  dedupKey: true,
  status: true,
  title: true,
  body: true,
  eventCount: true,
  lastEventId: true,
  lastEventAt: true,
  nextStep: true,
  cycle: true,
  nextStepAt: true,
  acknowledgedAt: true,
  acknowledgedBy: true,
  resolvedAt: true,
  resolvedBy: true,
  createdAt: true,
  updatedAt: true,
} as const;

export type AlertRow = Prisma.AlertGetPayload<{ select: typeof alertSelect }>;

/**
 * The receipts a delivery may still send: of no alert, of an alert step while the alert is
 * triggered, or of a reminder while it is acknowledged. Every channel (live, Pusher, push, its
 * retries and the ack-timeout push) reads receipts through this, so an acknowledgement stored
 * in MySQL stops all of them on every node.
 */
export const deliverableWhere = {
  notification: {
    OR: [
      { alertId: null },
      { alertStep: { not: null }, alert: { status: 'triggered' } },
      { alertStep: null, alert: { status: 'acknowledged' } },
    ],
  },
} satisfies Prisma.NotificationReceiptWhereInput;

const openKeyOf = (ruleId: string, dedupKey: string) =>
  createHash('sha256').update(`${ruleId}\n${dedupKey}`).digest('hex');

const DEDUP_KEY_MAX = 255;

export interface AlertMatch {
  event: { id: string; receivedAt: string };
  rule: { id: string; escalationPolicyId: string | null };
  dedupKey: string;
  /** True when the rule's resolveWhen matched: resolve instead of trigger. */
  resolving: boolean;
  title: string;
  body: string;
}

/**
 * Applies the pipeline's alert matches, before the events are written: a redelivered event finds
 * its timeline entry (unique per alert and event) and changes nothing. New alerts are put on the
 * escalation timer, due now.
 */
export async function recordAlertEvents(deps: DomainDeps, projectId: string, matches: readonly AlertMatch[]) {
  const db = deps.db.forProject(projectId);
  for (const match of matches) {
    const dedupKey = Array.from(match.dedupKey).slice(0, DEDUP_KEY_MAX).join('');
    const openKey = openKeyOf(match.rule.id, dedupKey);
    const at = new Date(match.event.receivedAt);
    // Twice at most: a concurrent consumer may open the same key between our read and insert.
    for (let attempt = 0; attempt < 2; attempt++) {
      const open = await db.alert.findFirst({ where: { openKey }, select: alertSelect });
      try {
        if (match.resolving) {
          if (open) await resolveByEvent(deps, db, projectId, open, match.event.id);
        } else if (open) {
          await db.$transaction([
            db.alertEntry.create({ data: entry(projectId, open.id, 'event', { eventId: match.event.id }) }),
            db.alert.update({
              where: { id: open.id },
              data: { eventCount: { increment: 1 }, lastEventId: match.event.id, lastEventAt: at },
            }),
          ]);
        } else {
          await openAlert(deps, db, projectId, match, dedupKey, openKey, at);
        }
        break;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // The entry exists: a redelivered event. Make sure a triggered alert is on the timer.
        if (open?.status === 'triggered' && open.nextStepAt)
          await scheduleAlert(deps, projectId, open.id, open.nextStepAt);
        if (open) break;
      }
    }
  }
}

async function openAlert(
  deps: DomainDeps,
  db: ProjectDb,
  projectId: string,
  match: AlertMatch,
  dedupKey: string,
  openKey: string,
  at: Date,
) {
  const id = uuidv7();
  const now = new Date();
  await db.$transaction([
    db.alert.create({
      data: {
        id,
        projectId,
        ruleId: match.rule.id,
        policyId: match.rule.escalationPolicyId,
        dedupKey,
        openKey,
        title: match.title,
        body: match.body,
        lastEventId: match.event.id,
        lastEventAt: at,
        nextStepAt: now,
      },
    }),
    db.alertEntry.create({ data: entry(projectId, id, 'triggered', { eventId: match.event.id }) }),
  ]);
  await scheduleAlert(deps, projectId, id, now);
  deps.audit.record({
    projectId,
    principal: { kind: 'system', projectId },
    action: 'alert.trigger',
    resourceType: 'alert',
    resourceId: id,
    metadata: { ruleId: match.rule.id, dedupKey, eventId: match.event.id },
  });
}

function entry(
  projectId: string,
  alertId: string,
  type: string,
  extra: {
    eventId?: string;
    actorId?: string | null;
    step?: number | null;
    metadata?: Prisma.InputJsonValue;
  } = {},
): Prisma.AlertEntryCreateManyInput {
  return { id: uuidv7(), projectId, alertId, type, ...extra };
}

export { entry as alertEntry };

async function resolveByEvent(
  deps: DomainDeps,
  db: ProjectDb,
  projectId: string,
  alert: AlertRow,
  eventId: string,
) {
  const now = new Date();
  const [, changed] = await db.$transaction([
    db.alertEntry.create({ data: entry(projectId, alert.id, 'resolved', { eventId }) }),
    db.alert.updateMany({
      where: { id: alert.id, status: { not: 'resolved' } },
      data: { status: 'resolved', resolvedAt: now, openKey: null, nextStepAt: null },
    }),
  ]);
  if (changed.count)
    await settled(deps, projectId, alert.id, 'resolve', { kind: 'system', projectId }, { eventId });
}

async function settled(
  deps: DomainDeps,
  projectId: string,
  alertId: string,
  action: 'acknowledge' | 'resolve',
  principal: Principal,
  metadata: Record<string, unknown>,
  next: Date | null = null,
) {
  await rescheduleAlert(deps, projectId, alertId, next);
  // Replay is served from Redis (no deliverableWhere there): drop what this change stopped.
  const stopped = await deps.db.forProject(projectId).notificationReceipt.findMany({
    where: { acknowledgedAt: null, notification: { alertId }, NOT: deliverableWhere },
    select: { userId: true, notificationId: true },
  });
  await forgetReplay(deps, projectId, stopped);
  deps.audit.record({
    projectId,
    principal,
    action: `alert.${action}`,
    resourceType: 'alert',
    resourceId: alertId,
    metadata,
  });
}

async function findAlert(db: ProjectDb, id: string) {
  const row = await db.alert.findFirst({ where: { id }, select: alertSelect });
  if (!row) throw notFound('Alert');
  return row;
}

/** A project user may act on an alert they were notified of; admins on any (readers read any). */
async function checkAccess(db: ProjectDb, principal: Principal, alertId: string, reading = false) {
  if (hasPermission(principal, 'notifications:admin')) return;
  if (reading && hasPermission(principal, 'rules:read')) return;
  if (principal.kind !== 'user')
    throw forbidden('permission_denied', 'Missing permission: notifications:admin');
  const notified = await db.notificationReceipt.count({
    where: { userId: principal.userId, notification: { alertId } },
  });
  if (!notified) throw notFound('Alert');
}

const actorOf = (principal: Principal) => (principal.kind === 'user' ? principal.userId : null);

/** Idempotent: a later acknowledgement (or one of a resolved alert) changes nothing. */
export async function acknowledgeAlert(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  id: string,
) {
  const db = deps.db.forProject(projectId);
  const alert = await findAlert(db, id);
  await checkAccess(db, principal, id);
  const now = new Date();
  const policy = alert.policyId ? await loadPolicy(db, alert.policyId) : null;
  const remindAt = policy?.renotifyMinutes ? new Date(now.getTime() + policy.renotifyMinutes * 60_000) : null;
  const actorId = actorOf(principal);
  const changed = await db.alert.updateMany({
    where: { id, status: 'triggered' },
    data: {
      status: 'acknowledged',
      acknowledgedAt: now,
      acknowledgedBy: actorId,
      nextStep: 0,
      cycle: 0,
      nextStepAt: remindAt,
    },
  });
  if (changed.count) {
    await db.alertEntry.create({ data: entry(projectId, id, 'acknowledged', { actorId }) });
    await settled(deps, projectId, id, 'acknowledge', principal, {}, remindAt);
  }
  return getAlert(deps, projectId, id);
}

export async function resolveAlert(deps: DomainDeps, principal: Principal, projectId: string, id: string) {
  const db = deps.db.forProject(projectId);
  await findAlert(db, id);
  await checkAccess(db, principal, id);
  const actorId = actorOf(principal);
  const changed = await db.alert.updateMany({
    where: { id, status: { not: 'resolved' } },
    data: {
      status: 'resolved',
      resolvedAt: new Date(),
      resolvedBy: actorId,
      openKey: null,
      nextStepAt: null,
    },
  });
  if (changed.count) {
    await db.alertEntry.create({ data: entry(projectId, id, 'resolved', { actorId }) });
    await settled(deps, projectId, id, 'resolve', principal, {});
  }
  return getAlert(deps, projectId, id);
}

/** A person acknowledging a notification of an alert takes the alert. */
export async function acknowledgeAlertOfNotification(
  deps: DomainDeps,
  projectId: string,
  userId: string,
  notification: { alertId: string | null },
) {
  if (!notification.alertId) return;
  await acknowledgeAlert(deps, socketPrincipal(projectId, userId), projectId, notification.alertId);
}

/**
 * A user known only by the socket they authenticated (no token at hand): no permissions, so
 * access rests on having been notified of the alert.
 */
export const socketPrincipal = (projectId: string, userId: string): Principal => ({
  kind: 'user',
  userId,
  projectId,
  roles: [],
  permissions: [],
  jti: '',
  exp: 0,
});

export interface AlertQuery extends Page {
  status?: AlertStatus;
}

export async function listAlerts(deps: DomainDeps, projectId: string, query: AlertQuery) {
  const db = deps.db.forProject(projectId);
  const where = query.status ? { status: query.status } : {};
  const [rows, total] = await Promise.all([
    db.alert.findMany({
      where,
      select: alertSelect,
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      ...pageArgs(query),
    }),
    db.alert.count({ where }),
  ]);
  return { items: rows, page: query.page, pageSize: query.pageSize, total };
}

/** One alert for the principal: admins and rule readers see any, others those they were notified of. */
export async function readAlert(deps: DomainDeps, principal: Principal, projectId: string, id: string) {
  const db = deps.db.forProject(projectId);
  await findAlert(db, id);
  await checkAccess(db, principal, id, true);
  return getAlert(deps, projectId, id);
}

/** The alert with its timeline: its entries, and each delivery and acknowledgement of its notifications. */
export async function getAlert(deps: DomainDeps, projectId: string, id: string) {
  const db = deps.db.forProject(projectId);
  const alert = await findAlert(db, id);
  const [entries, receipts] = await Promise.all([
    db.alertEntry.findMany({ where: { alertId: id }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
    db.notificationReceipt.findMany({
      where: { notification: { alertId: id } },
      select: {
        userId: true,
        channel: true,
        deliveredAt: true,
        acknowledgedAt: true,
        notification: { select: { id: true, alertStep: true } },
      },
    }),
  ]);
  const timeline = [
    ...entries.map((e) => ({
      type: e.type,
      at: e.createdAt,
      step: e.step,
      eventId: e.eventId,
      userId: e.actorId,
      channel: null as string | null,
      notificationId: null as string | null,
      metadata: e.metadata,
    })),
    ...receipts
      .filter((r) => r.deliveredAt)
      .map((r) => ({
        type: 'delivered',
        at: r.deliveredAt!,
        step: r.notification.alertStep,
        eventId: null,
        userId: r.userId,
        channel: r.channel as string | null,
        notificationId: r.notification.id as string | null,
        metadata: null,
      })),
  ].sort((a, b) => a.at.getTime() - b.at.getTime());
  return { ...alert, timeline };
}
