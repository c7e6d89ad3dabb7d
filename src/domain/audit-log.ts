// Reading the audit trail: filtered, cursor-paginated on (createdAt, id) descending, and a CSV
// export streamed in batches by the same cursor so no export holds the whole result in memory.
// The writer lives in audit.ts.
import { badRequest } from '../core/errors.js';
import type { Prisma, ProjectDb } from '../core/db.js';
import type { DomainDeps } from './deps.js';

export interface AuditFilters {
  from?: Date;
  to?: Date;
  /** The acting user or admin (actorId). */
  userId?: string;
  /** An exact action, or a prefix ending in ".*" (e.g. "user.*"). */
  action?: string;
  resourceType?: string;
}

const auditSelect = {
  id: true,
  createdAt: true,
  actorType: true,
  actorId: true,
  action: true,
  resourceType: true,
  resourceId: true,
  requestId: true,
  ip: true,
  metadata: true,
} as const satisfies Prisma.AuditLogSelect;

export type AuditRow = Prisma.AuditLogGetPayload<{ select: typeof auditSelect }>;

interface Cursor {
  createdAt: Date;
  id: string;
}

/** Opaque to clients: base64url of [createdAt ms, id]. */
export function encodeCursor(row: Cursor): string {
  return Buffer.from(JSON.stringify([row.createdAt.getTime(), row.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === 'string'
    ) {
      return { createdAt: new Date(value[0] as number), id: value[1] };
    }
  } catch {
    // fall through
  }
  throw badRequest('cursor_invalid', 'The cursor is not valid; use nextCursor from a previous page');
}

function whereOf(filters: AuditFilters, cursor?: Cursor): Prisma.AuditLogWhereInput {
  const action = filters.action?.endsWith('.*')
    ? { startsWith: filters.action.slice(0, -1) }
    : filters.action !== undefined
      ? { equals: filters.action }
      : undefined;
  return {
    ...(filters.from || filters.to
      ? {
          createdAt: {
            ...(filters.from ? { gte: filters.from } : {}),
            ...(filters.to ? { lte: filters.to } : {}),
          },
        }
      : {}),
    ...(filters.userId ? { actorId: filters.userId } : {}),
    ...(action ? { action } : {}),
    ...(filters.resourceType ? { resourceType: filters.resourceType } : {}),
    // (createdAt, id) < cursor, written so the first condition is an index range on
    // (projectId, createdAt): each page starts where the last ended instead of rescanning.
    ...(cursor
      ? {
          AND: [
            { createdAt: { lte: cursor.createdAt } },
            { OR: [{ createdAt: { lt: cursor.createdAt } }, { id: { lt: cursor.id } }] },
          ],
        }
      : {}),
  };
}

/**
 * A deferred join: the page's ids first, from the (projectId, …, createdAt) indexes alone, then
 * their rows. Asked for whole rows at once, MariaDB reads the project's index from its newest
 * entry and filters down to the cursor (`ref` access): every page cost as much as all the pages
 * before it (measured: 120 ms per 1000-row page half-way through 100k rows, against < 1 ms).
 */
async function page(
  db: ProjectDb,
  filters: AuditFilters,
  limit: number,
  cursor?: Cursor,
): Promise<AuditRow[]> {
  const keys = await db.auditLog.findMany({
    where: whereOf(filters, cursor),
    select: { id: true },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: limit,
  });
  if (!keys.length) return [];
  const rows = await db.auditLog.findMany({
    where: { id: { in: keys.map((k) => k.id) } },
    select: auditSelect,
  });
  const byId = new Map(rows.map((row) => [row.id, row]));
  return keys.flatMap((k) => byId.get(k.id) ?? []);
}

export async function listAudit(
  deps: DomainDeps,
  projectId: string,
  query: AuditFilters & { cursor?: string; limit: number },
) {
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  // One extra row tells whether another page exists.
  const rows = await page(deps.db.forProject(projectId), query, query.limit + 1, cursor);
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}

// --- CSV -------------------------------------------------------------------------------------

/** Cells a spreadsheet would run as a formula start with one of these (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One RFC 4180 field: quoted when it holds a quote, comma, CR or LF (quotes doubled); a value a
 * spreadsheet would read as a formula gets a leading single quote first.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text =
    value instanceof Date
      ? value.toISOString()
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF-terminated as RFC 4180 asks. */
export const csvRow = (values: readonly unknown[]): string => `${values.map(csvCell).join(',')}\r\n`;

export const AUDIT_CSV_COLUMNS = [
  'createdAt',
  'id',
  'actorType',
  'actorId',
  'action',
  'resourceType',
  'resourceId',
  'requestId',
  'ip',
  'metadata',
] as const satisfies ReadonlyArray<keyof AuditRow>;

export const EXPORT_BATCH = 1000;

/**
 * The CSV of every matching row, newest first. Pull-based: the next batch is read from MySQL
 * only when the consumer (the HTTP response, with its backpressure) asks for more.
 */
export function exportAuditCsv(
  deps: DomainDeps,
  projectId: string,
  filters: AuditFilters,
  batchSize = EXPORT_BATCH,
): ReadableStream<Uint8Array> {
  const db = deps.db.forProject(projectId);
  const encoder = new TextEncoder();
  let cursor: Cursor | undefined;
  let headerSent = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(csvRow(AUDIT_CSV_COLUMNS)));
          return;
        }
        const rows = await page(db, filters, batchSize, cursor);
        if (rows.length) {
          controller.enqueue(
            encoder.encode(rows.map((row) => csvRow(AUDIT_CSV_COLUMNS.map((c) => row[c]))).join('')),
          );
          cursor = rows.at(-1);
        }
        if (rows.length < batchSize) controller.close();
      },
    },
    { highWaterMark: 1 },
  );
}
