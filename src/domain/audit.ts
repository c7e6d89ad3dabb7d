// The audit trail. Writes are buffered and inserted in batches off the request path. A batch
// MySQL refuses is split until the refusing row is found; that row is stored with storable
// metadata and a marker, so one bad row never holds back the others (of any project). The
// buffer is bounded; close() flushes what is left, so a graceful shutdown loses nothing.
import type { Db, Prisma } from '../core/db.js';
import { currentContext } from '../core/context.js';
import { uuidv7 } from '../core/ids.js';
import { storableJson } from '../core/json-limits.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
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

type Row = Prisma.AuditLogCreateManyInput;

const MAX_BATCH = 200;
const FLUSH_INTERVAL_MS = 250;
/** Rows kept while MySQL is away; beyond it new rows are dropped (and counted). */
const MAX_BUFFERED = 20_000;
/** close() retries a failing flush this many times (MySQL may be restarting) before giving up. */
const CLOSE_ATTEMPTS = 5;
const CLOSE_RETRY_MS = 200;

/** Set in the metadata of a row stored only after its own metadata was refused. */
export const SANITIZED_MARKER = 'auditMetadataSanitized';

/** The row with metadata MySQL can store, the marker, and string columns cut to their widths. */
function sanitized(row: Row): Row {
  const metadata = storableJson(row.metadata ?? {}, 8) as Record<string, unknown>;
  return {
    ...row,
    action: row.action.slice(0, 64),
    resourceType: row.resourceType?.slice(0, 64) ?? null,
    resourceId: row.resourceId?.slice(0, 64) ?? null,
    requestId: row.requestId?.slice(0, 64) ?? null,
    ip: row.ip?.slice(0, 45) ?? null,
    metadata: { ...metadata, [SANITIZED_MARKER]: true },
  };
}

export function createAuditWriter(
  deps: { db: Db; log: Logger; metrics: Pick<Metrics, 'auditBuffered' | 'auditDropped'> },
  options: { flushIntervalMs?: number; maxBuffered?: number } = {},
): AuditWriter {
  const maxBuffered = options.maxBuffered ?? MAX_BUFFERED;
  let buffer: Row[] = [];
  let flushing: Promise<void> = Promise.resolve();
  let closed = false;
  const insert = (rows: Row[]) => deps.db.system.auditLog.createMany({ data: rows });

  /**
   * Stores the rows, halving a refused batch to isolate the row MySQL refuses, and answers how
   * many leading rows are stored. It stops short when even a sanitized single row fails: MySQL
   * itself is away, so the rest stays buffered.
   */
  const store = async (rows: Row[]): Promise<number> => {
    try {
      await insert(rows);
      return rows.length;
    } catch (err) {
      if (rows.length > 1) {
        const half = Math.ceil(rows.length / 2);
        const first = await store(rows.slice(0, half));
        return first < half ? first : half + (await store(rows.slice(half)));
      }
      const [row] = rows as [Row];
      try {
        await insert([sanitized(row)]);
        deps.log.error(
          { err, id: row.id, action: row.action },
          'Audit row refused; stored with sanitized metadata',
        );
        return 1;
      } catch {
        deps.log.error({ err, pending: buffer.length }, 'Audit flush failed');
        return 0;
      }
    }
  };

  const flushNow = async () => {
    while (buffer.length) {
      const batch = buffer.slice(0, MAX_BATCH);
      const stored = await store(batch);
      buffer = buffer.slice(stored);
      deps.metrics.auditBuffered.set(buffer.length);
      if (stored < batch.length) return;
    }
  };
  const flush = () => (flushing = flushing.then(flushNow));
  const timer = setInterval(() => void flush(), options.flushIntervalMs ?? FLUSH_INTERVAL_MS);
  timer.unref();

  return {
    record(entry) {
      if (closed) deps.log.warn({ action: entry.action }, 'Audit entry recorded after close');
      const context = currentContext();
      // Full only while MySQL is away: the newest rows are dropped, so the buffer's head (which
      // a flush may be storing) never moves under it.
      if (buffer.length >= maxBuffered) {
        deps.metrics.auditDropped.inc();
        deps.log.error({ action: entry.action, maxBuffered }, 'Audit buffer full: row dropped');
        return;
      }
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
      deps.metrics.auditBuffered.set(buffer.length);
      if (buffer.length >= MAX_BATCH) void flush();
    },
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      for (let attempt = 1; attempt <= CLOSE_ATTEMPTS; attempt++) {
        await flush();
        if (!buffer.length) return;
        await new Promise((resolve) => setTimeout(resolve, CLOSE_RETRY_MS * attempt));
      }
      // Last resort: the rows go to the log rather than nowhere.
      deps.log.error({ rows: buffer }, 'Audit rows not stored at shutdown (MySQL unavailable)');
      throw new Error(`${buffer.length} audit rows could not be stored before shutdown`);
    },
  };
}
