// Notifications as the workers write them: rows plus one receipt per recipient, inserted in two
// batched statements (inside the caller's transaction), then handed over for delivery.
import type { Prisma, ProjectDb } from '../core/db.js';
import { uuidv7 } from '../core/ids.js';

export interface NotificationDraft {
  id: string;
  ruleId: string | null;
  eventId: string | null;
  kind: 'alert' | 'digest';
  title: string;
  body: string;
  data?: Prisma.InputJsonValue;
  action?: Prisma.InputJsonValue;
  soundId: string | null;
  priority: number;
  /** The recipients: one receipt each. */
  userIds: string[];
  /** The alert this pages for, and its policy step (null: a reminder). */
  alertId?: string;
  alertStep?: number | null;
}

const TITLE_MAX = 200;
const BODY_MAX = 2000;

/** Rendered templates may exceed the columns (counted in characters): cut them, marked with "…". */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

export const cutTitle = (title: string) => cut(title, TITLE_MAX);
export const cutBody = (body: string) => cut(body, BODY_MAX);

/** The statements that insert the drafts and their receipts (none when there are no drafts). */
export function notificationInserts(db: ProjectDb, projectId: string, drafts: readonly NotificationDraft[]) {
  if (drafts.length === 0) return [];
  const receipts = drafts.flatMap((draft) =>
    draft.userIds.map((userId) => ({ id: uuidv7(), projectId, notificationId: draft.id, userId })),
  );
  return [
    db.notification.createMany({
      data: drafts.map(({ userIds: _userIds, title, body, ...draft }) => ({
        ...draft,
        projectId,
        title: cutTitle(title),
        body: cutBody(body),
      })),
    }),
    ...(receipts.length ? [db.notificationReceipt.createMany({ data: receipts })] : []),
  ];
}

/** A committed notification to deliver. */
export interface Dispatched {
  notificationId: string;
  userIds: string[];
}

/** Hands committed notifications over for delivery. */
export type Dispatch = (projectId: string, notifications: Dispatched[]) => Promise<void>;

/** What of the drafts there is to deliver: the notifications that have recipients. */
export const toDispatch = (drafts: readonly NotificationDraft[]): Dispatched[] =>
  drafts.filter((d) => d.userIds.length > 0).map((d) => ({ notificationId: d.id, userIds: d.userIds }));
