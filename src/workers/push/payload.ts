// One notification for one recipient, shaped for FCM (Android and web) and for APNs. Pure.
//
// Per rule, the newest alert replaces the one still shown (collapse key, tag, apns-collapse-id)
// and alerts are grouped (thread-id): the inbox keeps every notification and the badge counts
// them, so the lock screen need not.
import type { TokenMessage } from 'firebase-admin/messaging';

export interface PushInput {
  notificationId: string;
  projectId: string;
  ruleId: string | null;
  eventType: string | null;
  title: string;
  body: string;
  /** The rule's sound: its file name for the native sound field, a signed URL for the app. */
  sound: { fileName: string; url: string } | null;
  /** The recipient's unread count. */
  badge: number;
  /** The rule's priority. */
  priority: number;
}

export interface ApnsMessage {
  payload: { aps: Record<string, unknown> } & Record<string, unknown>;
  priority: 10 | 5;
  collapseId: string | undefined;
}

export interface PushPayload {
  fcm: Omit<TokenMessage, 'token'>;
  apns: ApnsMessage;
}

/**
 * Rules alert by default, so priority 0 (the default) and above must wake the device at once;
 * a rule opts into power-saving delivery with a negative priority.
 */
export const isUrgent = (priority: number): boolean => priority >= 0;

/** String values only: FCM data must be a string map; absent fields are left out. */
function dataOf(input: PushInput): Record<string, string> {
  const data: Record<string, string | null | undefined> = {
    notificationId: input.notificationId,
    projectId: input.projectId,
    ruleId: input.ruleId,
    eventType: input.eventType,
    soundUrl: input.sound?.url,
  };
  return Object.fromEntries(Object.entries(data).filter((entry): entry is [string, string] => !!entry[1]));
}

/** Apple refuses a payload over 4 KB (413 PayloadTooLarge). */
export const APNS_PAYLOAD_MAX_BYTES = 4096;

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/** The longest prefix of `text` (whole characters, then "…") that `fits`; '' if none does. */
function longestFitting(text: string, fits: (candidate: string) => boolean): string {
  if (fits(text)) return text;
  const chars = [...text];
  const cut = (n: number) => `${chars.slice(0, n).join('')}…`;
  let [lo, hi] = [0, chars.length - 1]; // binary search for the largest n with fits(cut(n))
  if (!fits(cut(0))) return '';
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(cut(mid))) lo = mid;
    else hi = mid - 1;
  }
  return cut(lo);
}

/** The APNs payload within Apple's 4 KB: the body is shortened first, then the title. */
function fittedApnsPayload(build: (title: string, body: string) => ApnsMessage['payload'], input: PushInput) {
  const fits = (title: string, body: string) => jsonBytes(build(title, body)) <= APNS_PAYLOAD_MAX_BYTES;
  const body = longestFitting(input.body, (b) => fits(input.title, b));
  if (body !== '' || fits(input.title, '')) return build(input.title, body);
  return build(
    longestFitting(input.title, (t) => fits(t, '')),
    '',
  );
}

export function buildPushPayload(input: PushInput): PushPayload {
  const data = dataOf(input);
  const urgent = isUrgent(input.priority);
  const group = input.ruleId ?? undefined;
  const sound = input.sound?.fileName ?? 'default';
  return {
    fcm: {
      notification: { title: input.title, body: input.body },
      data,
      android: {
        priority: urgent ? 'high' : 'normal',
        collapseKey: group,
        notification: { sound, tag: group, notificationCount: input.badge },
      },
      webpush: {
        headers: { Urgency: urgent ? 'high' : 'normal' },
        notification: { title: input.title, body: input.body, tag: group },
      },
    },
    apns: {
      // Custom keys sit beside `aps`, where iOS apps read them from userInfo.
      payload: fittedApnsPayload(
        (title, body) => ({
          ...data,
          aps: { alert: { title, body }, badge: input.badge, sound, 'thread-id': group },
        }),
        input,
      ),
      priority: urgent ? 10 : 5,
      collapseId: group,
    },
  };
}
