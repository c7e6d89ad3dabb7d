// Notifications with receipts, inserted as the pipeline inserts them (it is tested on its own).
import { uuidv7 } from '../../../src/core/ids.js';
import { incrementUnread } from '../../../src/domain/unread.js';
import type { TestHub } from '../../support/hub.js';

export interface NotificationOptions {
  ruleId?: string;
  soundId?: string;
  /** Time of the i-th notification (default: now). */
  createdAt?: (i: number) => Date;
}

/** Inserts `count` notifications, each received by every one of `userIds`; ids in insertion order. */
export async function insertNotifications(
  hub: TestHub,
  projectId: string,
  userIds: string[],
  count = 1,
  options: NotificationOptions = {},
): Promise<string[]> {
  const db = hub.running.db.forProject(projectId);
  const rows = Array.from({ length: count }, (_, i) => ({
    id: uuidv7(),
    projectId,
    ruleId: options.ruleId ?? null,
    soundId: options.soundId ?? null,
    title: `Alert ${i}`,
    body: `Body ${i}`,
    data: { i },
    createdAt: options.createdAt?.(i) ?? new Date(),
  }));
  await db.notification.createMany({ data: rows });
  await db.notificationReceipt.createMany({
    data: rows.flatMap((n) =>
      userIds.map((userId) => ({ projectId, notificationId: n.id, userId, createdAt: n.createdAt })),
    ),
  });
  // As the pipeline does once its insert is committed.
  for (let i = 0; i < count; i++) await incrementUnread(hub.running.services, projectId, userIds);
  return rows.map((n) => n.id);
}
