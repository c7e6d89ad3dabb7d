// What a failed event attempt leaves in MySQL, so GET /events/:id can show it: a `received` row
// with the attempt count and the error while it will be retried, `failed` once dead-lettered.
// The stored error is a classified, safe text: driver and Prisma messages carry file paths and
// SQL, so they stay in the worker's log (with the entry id).
import { isUniqueViolation, type Db } from '../core/db.js';
import { UUID_PATTERN } from '../core/ids.js';
import { storableJson } from '../core/json-limits.js';
import { decodeEntry, entryIdentity, type StreamEvent } from '../domain/events.js';
import type { StreamEntry } from './pipeline.js';
import { eventColumns } from './pipeline.js';

/** What GET /events/:id shows of a failure: its kind, never the message of a dependency. */
export function failureText(error: Error): string {
  const code = (error as { code?: unknown }).code;
  if (error.name.startsWith('PrismaClient'))
    return `The database refused the event${typeof code === 'string' ? ` (${code})` : ''}; the worker log has the details`;
  if (error instanceof SyntaxError) return 'The stream entry is not valid JSON';
  return 'Processing failed; the worker log has the details';
}

export async function recordFailure(
  deps: { db: Db },
  projectId: string,
  entry: StreamEntry,
  failure: { error: Error; attempts: number; final: boolean },
): Promise<void> {
  const { id, type } = entryIdentity(entry.fields);
  if (!id || !UUID_PATTERN.test(id)) return; // not an entry of ours: only the dead-letter stream has it
  let event: StreamEvent | undefined;
  try {
    event = decodeEntry(entry.fields);
  } catch {
    // recorded with what is readable
  }
  const columns = event
    ? eventColumns(projectId, event)
    : { id, projectId, type: (type ?? 'unknown').slice(0, 120), payload: {}, receivedAt: new Date() };
  const state = {
    status: failure.final ? ('failed' as const) : ('received' as const),
    attempts: failure.attempts,
    error: failureText(failure.error),
    processedAt: failure.final ? new Date() : null,
  };
  const db = deps.db.forProject(projectId);
  // Only a `received` row moves on: a failed (dead-lettered) or processed event is final, even
  // when another consumer, with its own maxAttempts, claimed the entry before its acknowledgement.
  const updated = await db.event.updateMany({ where: { id, status: 'received' }, data: state });
  if (updated.count > 0) return;
  const create = (data: typeof columns) => db.event.create({ data: { ...data, ...state } });
  try {
    // What made the attempt fail may be the event itself (a payload MySQL refuses): then it is
    // shown with a storable copy of its payload rather than not at all.
    await create(columns).catch((err: unknown) => {
      if (isUniqueViolation(err)) throw err;
      return create({
        ...columns,
        type: columns.type.slice(0, 120),
        payload: storableJson(columns.payload) as object,
      });
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err; // the row exists, final
  }
}
