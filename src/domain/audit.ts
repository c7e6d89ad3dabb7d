// The audit trail. Writes are buffered and inserted in batches off the request path; close()
// flushes what is left, so a graceful shutdown loses nothing.
import type { Db, Prisma } from '../core/db.js';
import { currentContext } from '../core/context.js';
import { uuidv7 } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { actorOf, type Principal } from './principal.js';

export interface AuditEntry {
  projectId: string | null;
  principal: Principal;
  action: string;
  resourceType?: string;
  resourceId?: string | null;
  metadata?: Record<string, unknown>;
  /** Defaults to the current request's client address. */
  ip?: string | null;
}

export interface AuditWriter {
  record(entry: AuditEntry): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

const MAX_BATCH = 200;
const FLUSH_INTERVAL_MS = 250;

export function createAuditWriter(
  deps: { db: Db; log: Logger },
  options = { flushIntervalMs: FLUSH_INTERVAL_MS },
): AuditWriter {
  let buffer: Prisma.AuditLogCreateManyInput[] = [];
  let flushing: Promise<void> = Promise.resolve();
  let closed = false;

  const flushNow = async () => {
    while (buffer.length) {
      const batch = buffer.slice(0, MAX_BATCH);
      try {
        await deps.db.system.auditLog.createMany({ data: batch });
        buffer = buffer.slice(batch.length);
      } catch (err) {
        // Keep the rows for the next flush: MySQL may be briefly away.
        deps.log.error({ err, pending: buffer.length }, 'Audit flush failed');
        return;
      }
    }
  };
  const flush = () => (flushing = flushing.then(flushNow));
  const timer = setInterval(() => void flush(), options.flushIntervalMs);
  timer.unref();

  return {
    record(entry) {
      if (closed) deps.log.warn({ action: entry.action }, 'Audit entry recorded after close');
      const context = currentContext();
      buffer.push({
        id: uuidv7(),
        projectId: entry.projectId,
        ...actorOf(entry.principal),
        action: entry.action,
        resourceType: entry.resourceType ?? null,
        resourceId: entry.resourceId ?? null,
        requestId: context?.requestId ?? null,
        ip: entry.ip ?? context?.ip ?? null,
        metadata: entry.metadata as Prisma.InputJsonValue | undefined,
        createdAt: new Date(),
      });
      if (buffer.length >= MAX_BATCH) void flush();
    },
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      await flush();
    },
  };
}
