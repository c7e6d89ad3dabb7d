// The worker side of the receipt streams (src/domain/receipt-stream.ts): what gateways accepted
// without MySQL, written in batches, at least once. Each project's batch is one transaction of
// idempotent updates, then its alert actions (idempotent too, as the REST routes are), so an entry
// redelivered after a crash (XAUTOCLAIM) changes nothing twice.
import { AppError } from '../core/errors.js';
import { acknowledgeAlert, resolveAlert, socketPrincipal } from '../domain/alerting/alerts.js';
import type { DomainDeps } from '../domain/deps.js';
import { applyAcknowledgements } from '../domain/notifications.js';
import { decodeReceiptChange, receiptStream, type ReceiptChange } from '../domain/receipt-stream.js';
import { createRedis } from '../core/redis.js';
import { startConsumer, type ConsumerOptions, type StreamSource } from './consumer.js';
import type { EntryResult, StreamEntry } from './pipeline.js';

export const receiptStreams = (deps: Pick<DomainDeps, 'keys'>): StreamSource => ({
  registry: deps.keys.receiptStreams(),
  stream: (projectId) => receiptStream(deps, projectId),
  deadLetter: (projectId) => `${receiptStream(deps, projectId)}:dead`,
});

/** Replayed notifications are delivered, over the gateway, unless something reached them first. */
async function markReplayed(
  deps: DomainDeps,
  projectId: string,
  changes: Array<Extract<ReceiptChange, { kind: 'replayed' }>>,
) {
  const db = deps.db.forProject(projectId).notificationReceipt;
  for (const { userId, notificationIds, at } of changes) {
    const { count } = await db.updateMany({
      where: { userId, notificationId: { in: notificationIds }, deliveredAt: null },
      data: { deliveredAt: at, channel: 'gateway' },
    });
    // Not timed: the latency of a replay is how long the person was away.
    deps.metrics.notifications.inc({ project: projectId, channel: 'gateway', outcome: 'replayed' }, count);
  }
}

/**
 * Alerts taken or resolved over a socket, in stream order. Idempotent like the REST routes; one
 * the user may not act on (never notified of it, or no such alert) is refused and done.
 */
async function applyAlertActions(
  deps: DomainDeps,
  projectId: string,
  changes: Array<Extract<ReceiptChange, { kind: 'alert' }>>,
) {
  for (const change of changes) {
    const act = change.action === 'resolve' ? resolveAlert : acknowledgeAlert;
    try {
      await act(deps, socketPrincipal(projectId, change.userId), projectId, change.alertId);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      deps.log.debug({ err: err.message, projectId }, `Alert ${change.action} over the socket refused`);
    }
  }
}

export async function applyReceiptChanges(
  deps: DomainDeps,
  projectId: string,
  entries: readonly StreamEntry[],
): Promise<EntryResult[]> {
  const changes = entries.map((e) => decodeReceiptChange(e.fields));
  const valid = changes.filter((c): c is ReceiptChange => c !== undefined);
  try {
    await markReplayed(
      deps,
      projectId,
      valid.filter((c) => c.kind === 'replayed'),
    );
    await applyAcknowledgements(
      deps,
      projectId,
      valid
        .filter((c) => c.kind === 'ack')
        .map(({ userId, notificationIds: [notificationId], at }) => ({ userId, notificationId, at })),
    );
    await applyAlertActions(
      deps,
      projectId,
      valid.filter((c) => c.kind === 'alert'),
    );
  } catch (error) {
    return entries.map(({ entryId }) => ({ entryId, ok: false, error: error as Error }));
  }
  // Malformed entries (none are written so) are done too: retrying would not change them.
  return entries.map(({ entryId }) => ({ entryId, ok: true }));
}

export function startReceiptWriter(deps: DomainDeps, options: Partial<ConsumerOptions> = {}) {
  const { config, log, redis } = deps;
  const reader = createRedis(config.redis.url, 'tocsin-receipts');
  reader.on('error', (err) => log.warn({ err: err.message }, 'Receipt writer Redis connection error'));
  const consumer = startConsumer(
    {
      redis,
      reader,
      source: receiptStreams(deps),
      log,
      processed: deps.metrics.receiptChanges,
      process: (projectId, entries) => applyReceiptChanges(deps, projectId, entries),
      // Retried by the stream; after the last attempt the entry waits in the dead-letter stream.
      recordFailure: async () => undefined,
    },
    { maxAttempts: config.pipeline.maxAttempts, claimIdleMs: config.pipeline.claimIdleMs, ...options },
  );
  return {
    consumer,
    async close() {
      await consumer.close();
      await reader.quit().catch(() => reader.disconnect());
    },
  };
}
