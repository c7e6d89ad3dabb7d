// Receipt changes the gateway accepts without MySQL: acknowledgements sent over a socket, replays
// sent on subscription and alerts taken or resolved over a socket, appended to the project's receipt stream (under its hash tag)
// and written to MySQL by the worker role in batches (src/workers/receipts.ts). An
// acknowledgement is accepted once its entry is in the stream; the same script removes it from
// the user's replay, so a reconnect does not send it again before the worker caught up.
import type { Redis, Result } from 'ioredis';
import type { DomainDeps } from './deps.js';
import { replayKeys } from './replay.js';

type StreamDeps = Pick<DomainDeps, 'redis' | 'keys'>;

export const receiptStream = (deps: Pick<DomainDeps, 'keys'>, projectId: string) =>
  deps.keys.tagged(projectId, 'receipts');

/** What a user may do to an alert over the socket. */
export type AlertAction = 'acknowledge' | 'resolve';

/**
 * One change to apply: `ack` (one notification), `replayed` (several, now delivered), or an
 * alert acknowledged or resolved by the user.
 */
export type ReceiptChange =
  | { kind: 'ack'; userId: string; notificationIds: [string]; at: Date }
  | { kind: 'replayed'; userId: string; notificationIds: string[]; at: Date }
  | { kind: 'alert'; action: AlertAction; userId: string; alertId: string; at: Date };

const ALERT_KINDS: Record<string, AlertAction> = { 'alert-ack': 'acknowledge', 'alert-resolve': 'resolve' };

// KEYS stream, replay ids, replay items; ARGV user, notification, time (ms).
const ACK = `
redis.call('XADD', KEYS[1], '*', 'kind', 'ack', 'user', ARGV[1], 'ids', ARGV[2], 'at', ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tocsinAck(
      stream: string,
      replayIds: string,
      replayItems: string,
      userId: string,
      notificationId: string,
      at: number,
    ): Result<null, Context>;
  }
}

const defined = new WeakSet<Redis>();

/** Registers the stream for the worker and runs `append` after it, in one round trip. */
async function append(
  deps: StreamDeps,
  projectId: string,
  add: (pipeline: ReturnType<Redis['pipeline']>) => void,
) {
  const { redis } = deps;
  if (!defined.has(redis)) {
    redis.defineCommand('tocsinAck', { numberOfKeys: 3, lua: ACK });
    defined.add(redis);
  }
  // Registered first: a stream is never left where no worker looks (SADD is idempotent).
  const pipeline = redis.pipeline().sadd(deps.keys.receiptStreams(), projectId);
  add(pipeline);
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
}

/**
 * The user acknowledged a notification (over a socket, or any path that must not wait for
 * MySQL). Resolves once accepted: from then on it survives the loss of this process. An id that
 * is not one of the user's receipts changes nothing when written.
 */
export function acceptAcknowledgement(
  deps: StreamDeps,
  projectId: string,
  userId: string,
  notificationId: string,
) {
  const keys = replayKeys(deps, projectId, userId);
  return append(deps, projectId, (pipeline) =>
    pipeline.tocsinAck(
      receiptStream(deps, projectId),
      keys.ids,
      keys.items,
      userId,
      notificationId,
      Date.now(),
    ),
  );
}

/** These notifications were replayed to the user: the worker marks them delivered. */
export function recordReplayed(
  deps: StreamDeps,
  projectId: string,
  userId: string,
  notificationIds: string[],
) {
  if (notificationIds.length === 0) return Promise.resolve();
  return append(deps, projectId, (pipeline) =>
    pipeline.xadd(
      receiptStream(deps, projectId),
      '*',
      'kind',
      'replayed',
      'user',
      userId,
      'ids',
      notificationIds.join(','),
      'at',
      String(Date.now()),
    ),
  );
}

/**
 * The user takes (`acknowledge`) or closes (`resolve`) an alert over a socket. Resolves once
 * accepted; the worker applies it with the user's access (having been notified of the alert).
 */
export function acceptAlertAction(
  deps: StreamDeps,
  projectId: string,
  userId: string,
  alertId: string,
  action: AlertAction,
) {
  const kind = action === 'acknowledge' ? 'alert-ack' : 'alert-resolve';
  return append(deps, projectId, (pipeline) =>
    pipeline.xadd(
      receiptStream(deps, projectId),
      '*',
      'kind',
      kind,
      'user',
      userId,
      'ids',
      alertId,
      'at',
      String(Date.now()),
    ),
  );
}

/** A stream entry's fields as a change; undefined for anything else (skipped). */
export function decodeReceiptChange(fields: readonly string[]): ReceiptChange | undefined {
  const record = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) record.set(fields[i]!, fields[i + 1]!);
  const kind = record.get('kind');
  const userId = record.get('user');
  const ids = record.get('ids')?.split(',').filter(Boolean) ?? [];
  const at = new Date(Number(record.get('at')));
  if (!userId || ids.length === 0 || Number.isNaN(at.getTime())) return undefined;
  if (kind === 'ack' && ids.length === 1) return { kind, userId, notificationIds: [ids[0]!], at };
  if (kind === 'replayed') return { kind, userId, notificationIds: ids, at };
  const action = kind === undefined ? undefined : ALERT_KINDS[kind];
  if (action && ids.length === 1) return { kind: 'alert', action, userId, alertId: ids[0]!, at };
  return undefined;
}
