// The user's inbox: their receipts of the project's notifications. A user sees only the
// notifications they received and did not hide; anything else is "not found", never "forbidden".
// Reading one (GET by id) marks it read; acknowledging implies reading; listing changes nothing.
import type { Prisma } from '../core/db.js';
import { AppError, badRequest, notFound } from '../core/errors.js';
import { UUID_PATTERN } from '../core/ids.js';
import { acknowledgeAlertOfNotification } from './alerting/alerts.js';
import { pageArgs, type DomainDeps, type Page } from './deps.js';
import type { Principal } from './principal.js';
import { soundUrl } from './sounds.js';
import { forgetReplay } from './replay.js';
import { decrementUnread } from './unread.js';

export const withNotification = {
  notification: {
    include: { sound: { select: { id: true, name: true, fileName: true, storageKey: true } } },
  },
} as const;

export type InboxRow = Prisma.NotificationReceiptGetPayload<{ include: typeof withNotification }>;

/** The JSON a user sees of one notification (inbox, live delivery and replay alike). */
export async function inboxItem(deps: Pick<DomainDeps, 'storage' | 'config'>, row: InboxRow) {
  const { notification: n } = row;
  return {
    id: n.id,
    kind: n.kind,
    ruleId: n.ruleId,
    eventId: n.eventId,
    title: n.title,
    body: n.body,
    data: n.data,
    action: n.action,
    priority: n.priority,
    alertId: n.alertId,
    alertStep: n.alertStep,
    sound: n.sound
      ? { id: n.sound.id, name: n.sound.name, fileName: n.sound.fileName, url: await soundUrl(deps, n.sound) }
      : null,
    createdAt: n.createdAt,
    receivedAt: row.createdAt,
    channel: row.channel,
    deliveredAt: row.deliveredAt,
    readAt: row.readAt,
    acknowledgedAt: row.acknowledgedAt,
  };
}

export type InboxItem = Awaited<ReturnType<typeof inboxItem>>;

// The cursor is the position of the last item: its receipt's (createdAt, id), in base64url.
const encodeCursor = (row: { createdAt: Date; id: string }) =>
  Buffer.from(`${row.createdAt.getTime()}.${row.id}`).toString('base64url');

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [ms, id] = Buffer.from(cursor, 'base64url').toString().split('.');
  if (!ms || !/^\d{1,15}$/.test(ms) || !id || !UUID_PATTERN.test(id)) {
    throw badRequest('cursor_invalid', 'The cursor is not one this API returned');
  }
  return { createdAt: new Date(Number(ms)), id };
}

export interface InboxQuery {
  limit: number;
  cursor?: string;
  unread?: boolean;
  acknowledged?: boolean;
  /** Received at or after. */
  from?: Date;
  /** Received at or before. */
  to?: Date;
  ruleId?: string;
}

/** Newest first by time received, with an opaque cursor (no gaps or repeats while rows are added). */
export async function listInbox(deps: DomainDeps, projectId: string, userId: string, query: InboxQuery) {
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const where: Prisma.NotificationReceiptWhereInput = {
    userId,
    hiddenAt: null,
    ...(query.unread === undefined ? {} : { readAt: query.unread ? null : { not: null } }),
    ...(query.acknowledged === undefined
      ? {}
      : { acknowledgedAt: query.acknowledged ? { not: null } : null }),
    ...(query.from || query.to ? { createdAt: { gte: query.from, lte: query.to } } : {}),
    ...(query.ruleId ? { notification: { ruleId: query.ruleId } } : {}),
    ...(after
      ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }
      : {}),
  };
  const rows = await deps.db.forProject(projectId).notificationReceipt.findMany({
    where,
    include: withNotification,
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  return {
    items: await Promise.all(page.map((row) => inboxItem(deps, row))),
    nextCursor: rows.length > query.limit ? encodeCursor(page.at(-1)!) : null,
  };
}

async function visibleReceipt(deps: DomainDeps, projectId: string, userId: string, notificationId: string) {
  const row = await deps.db.forProject(projectId).notificationReceipt.findFirst({
    where: { notificationId, userId, hiddenAt: null },
    include: withNotification,
  });
  if (!row) throw notFound('Notification');
  return row;
}

/** Sets readAt if the receipt is still unread; the caller that changed it moves the counter. */
async function markRead(deps: DomainDeps, projectId: string, row: InboxRow, now: Date): Promise<InboxRow> {
  if (row.readAt) return row;
  const { count } = await deps.db.forProject(projectId).notificationReceipt.updateMany({
    where: { id: row.id, readAt: null, hiddenAt: null },
    data: { readAt: now },
  });
  if (count === 1) {
    await decrementUnread(deps, projectId, [row.userId]);
    return { ...row, readAt: now };
  }
  return reload(deps, projectId, row);
}

async function reload(deps: DomainDeps, projectId: string, row: InboxRow): Promise<InboxRow> {
  return visibleReceipt(deps, projectId, row.userId, row.notificationId);
}

/** One notification of the caller; the first read marks it read. */
export async function readNotification(deps: DomainDeps, projectId: string, userId: string, id: string) {
  const row = await visibleReceipt(deps, projectId, userId, id);
  return inboxItem(deps, await markRead(deps, projectId, row, new Date()));
}

/** Idempotent: the first acknowledgement's time is kept. Acknowledging also reads. */
export async function acknowledgeNotification(
  deps: DomainDeps,
  projectId: string,
  userId: string,
  id: string,
) {
  const now = new Date();
  let row = await markRead(deps, projectId, await visibleReceipt(deps, projectId, userId, id), now);
  if (!row.acknowledgedAt) {
    const { count } = await deps.db.forProject(projectId).notificationReceipt.updateMany({
      where: { id: row.id, acknowledgedAt: null },
      data: { acknowledgedAt: now },
    });
    row = count === 1 ? { ...row, acknowledgedAt: now } : await reload(deps, projectId, row);
  }
  await forgetReplay(deps, projectId, [{ userId, notificationId: id }]);
  await acknowledgeAlertOfNotification(deps, projectId, userId, row.notification);
  return inboxItem(deps, row);
}

export interface Acknowledgement {
  userId: string;
  notificationId: string;
  /** When it was accepted: the receipt's acknowledgedAt (and readAt, if still unread). */
  at: Date;
}

/**
 * Acknowledgements accepted earlier (the receipt stream), in one transaction. Idempotent: a
 * receipt already acknowledged keeps its first time; ids that are not the user's visible
 * receipts change nothing. Acknowledging reads, and each read moves its user's counter once.
 */
export async function applyAcknowledgements(
  deps: DomainDeps,
  projectId: string,
  acks: readonly Acknowledgement[],
): Promise<number> {
  if (acks.length === 0) return 0;
  const db = deps.db.forProject(projectId);
  const first = new Map<string, Acknowledgement>();
  for (const ack of acks) {
    const key = `${ack.userId}/${ack.notificationId}`;
    if (!first.has(key) || first.get(key)!.at > ack.at) first.set(key, ack);
  }
  const found = await db.notificationReceipt.findMany({
    where: {
      hiddenAt: null,
      OR: [...first.values()].map(({ userId, notificationId }) => ({ userId, notificationId })),
    },
    select: {
      id: true,
      userId: true,
      notificationId: true,
      readAt: true,
      acknowledgedAt: true,
      notification: { select: { alertId: true } },
    },
  });
  const rows = found.filter((r) => !r.acknowledgedAt);
  const unread = rows.filter((r) => !r.readAt);
  const at = (row: (typeof rows)[number]) => first.get(`${row.userId}/${row.notificationId}`)!.at;
  const counts = await db.$transaction([
    ...unread.map((row) =>
      db.notificationReceipt.updateMany({
        where: { id: row.id, readAt: null, hiddenAt: null },
        data: { readAt: at(row) },
      }),
    ),
    ...rows.map((row) =>
      db.notificationReceipt.updateMany({
        where: { id: row.id, acknowledgedAt: null },
        data: { acknowledgedAt: at(row) },
      }),
    ),
  ]);
  // Only the reads this transaction made move the counters (row locks make each one exclusive).
  await decrementUnread(
    deps,
    projectId,
    unread.filter((_, i) => counts[i]!.count === 1).map((r) => r.userId),
  );
  // Each alert taken as the REST ack takes it (escalation stops). Already-acknowledged receipts
  // count too: a batch retried after its rows were written still reaches the alert (idempotent).
  const alerts = new Map<string, string>();
  for (const row of found) {
    const alertId = row.notification.alertId;
    if (alertId && !alerts.has(alertId)) alerts.set(alertId, row.userId);
  }
  for (const [alertId, userId] of alerts) {
    await acknowledgeAlertOfNotification(deps, projectId, userId, { alertId }).catch((err: unknown) => {
      // Gone or no longer the user's to take: nothing to retry.
      if (!(err instanceof AppError)) throw err;
    });
  }
  return counts.slice(unread.length).filter((c) => c.count === 1).length;
}

/** Hides the notification for this user only; other recipients keep theirs. */
export async function hideNotification(deps: DomainDeps, projectId: string, userId: string, id: string) {
  const db = deps.db.forProject(projectId).notificationReceipt;
  const now = new Date();
  const where = { notificationId: id, userId, hiddenAt: null };
  // Two exclusive conditional updates: only the one that hides an unread receipt moves the counter.
  const unread = await db.updateMany({ where: { ...where, readAt: null }, data: { hiddenAt: now } });
  if (unread.count === 1) await decrementUnread(deps, projectId, [userId]);
  else {
    const read = await db.updateMany({ where, data: { hiddenAt: now } });
    if (read.count === 0) throw notFound('Notification');
  }
  await forgetReplay(deps, projectId, [{ userId, notificationId: id }]);
}

export const WEBVIEW_DATA_MAX_BYTES = 4096;

/** A button pressed in the notification's web view: recorded in the audit trail. */
export async function recordWebviewAction(
  deps: DomainDeps,
  principal: Extract<Principal, { kind: 'user' }>,
  id: string,
  input: { action: string; data?: Record<string, unknown> },
) {
  const size = Buffer.byteLength(JSON.stringify(input.data ?? {}));
  if (size > WEBVIEW_DATA_MAX_BYTES) {
    throw new AppError(
      413,
      'payload_too_large',
      `data may take at most ${WEBVIEW_DATA_MAX_BYTES} bytes as JSON`,
    );
  }
  await visibleReceipt(deps, principal.projectId, principal.userId, id);
  deps.audit.record({
    projectId: principal.projectId,
    principal,
    action: 'notification.webview_action',
    resourceType: 'notification',
    resourceId: id,
    metadata: { action: input.action, data: input.data ?? {} },
  });
}

/** Every recipient of one notification and what became of it (admins). */
export async function listReceipts(deps: DomainDeps, projectId: string, id: string, page: Page) {
  const db = deps.db.forProject(projectId);
  if (!(await db.notification.findFirst({ where: { id }, select: { id: true } })))
    throw notFound('Notification');
  const where = { notificationId: id };
  const [rows, total] = await Promise.all([
    db.notificationReceipt.findMany({
      where,
      include: { user: { select: { id: true, email: true, fullName: true } } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      ...pageArgs(page),
    }),
    db.notificationReceipt.count({ where }),
  ]);
  const items = rows.map((r) => ({
    user: r.user,
    channel: r.channel,
    deliveredAt: r.deliveredAt,
    readAt: r.readAt,
    acknowledgedAt: r.acknowledgedAt,
    hiddenAt: r.hiddenAt,
    attempts: r.attempts,
    lastError: r.lastError,
    failedAt: r.failedAt,
    createdAt: r.createdAt,
  }));
  return { items, ...page, total };
}
