// What a failed event attempt leaves in MySQL, so GET /events/:id can show it: a `received` row
// with the attempt count and the error while it will be retried, `failed` once dead-lettered.
import type { Db } from '../core/db.js';
import { UUID_PATTERN } from '../core/ids.js';
import { decodeEntry, entryIdentity, type StreamEvent } from '../domain/events.js';
import type { StreamEntry } from './pipeline.js';
import { eventColumns } from './pipeline.js';

const ERROR_MAX = 10_000;

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
    error: failure.error.message.slice(0, ERROR_MAX),
    processedAt: failure.final ? new Date() : null,
  };
  const db = deps.db.forProject(projectId);
  // Only a `received` row moves on: a failed (dead-lettered) or processed event is final, even
  // when another consumer, with its own maxAttempts, claimed the entry before its acknowledgement.
  const updated = await db.event.updateMany({ where: { id, status: 'received' }, data: state });
  if (updated.count > 0) return;
  try {
    await db.event.create({ data: { ...columns, ...state } });
  } catch (err) {
    if ((err as { code?: string }).code !== 'P2002') throw err; // the row exists, final
  }
}
