// Transfer buckets: a balance kept by an external system and a threshold set by an admin. When
// the balance falls below the threshold, the internal event `bucket.low_balance` goes into the
// project's stream — rules decide who is alerted — once per crossing: the bucket's state moves
// ok → low, and only a balance back above the threshold re-arms it (low → ok). Every change
// re-checks the bucket under its row lock, so concurrent balance updates cross exactly once.
import { conflict, notFound } from '../core/errors.js';
import { isRecordMissing, isUniqueViolation, Prisma } from '../core/db.js';
import { uuidv7 } from '../core/ids.js';
import { pageArgs, type DomainDeps, type Page } from './deps.js';
import { appendEvents } from './events.js';
import type { Principal } from './principal.js';

export const LOW_BALANCE_EVENT = 'bucket.low_balance';

const bucketSelect = {
  id: true,
  name: true,
  balance: true,
  threshold: true,
  currency: true,
  state: true,
  lastCheckedAt: true,
  createdAt: true,
  updatedAt: true,
} as const;

type BucketRow = Prisma.TransferBucketGetPayload<{ select: typeof bucketSelect }>;

/** Amounts are exact decimals: shown as strings. */
export const bucketView = (row: BucketRow) => ({
  ...row,
  balance: row.balance.toString(),
  threshold: row.threshold.toString(),
});

export type BucketView = ReturnType<typeof bucketView>;

type BucketDeps = Pick<DomainDeps, 'db' | 'redis' | 'keys' | 'metrics'>;

/**
 * Applies `change` (or nothing, for the monitor) and re-derives the state under the row lock;
 * emits the low-balance event on an ok → low crossing. The event is appended before the commit:
 * if the commit then fails, the next check crosses again (at least once, never lost).
 */
export async function checkBucket(
  deps: BucketDeps,
  projectId: string,
  bucketId: string,
  change: { balance?: string; threshold?: string } = {},
): Promise<BucketView> {
  const db = deps.db.forProject(projectId);
  try {
    return await db.$transaction(async (tx) => {
      // The UPDATE takes the row lock first; the state is decided on what it returns.
      const row = await tx.transferBucket.update({
        where: { id: bucketId, projectId },
        data: { ...change, lastCheckedAt: new Date() },
        select: bucketSelect,
      });
      const state = row.balance.lt(row.threshold) ? 'low' : row.balance.gt(row.threshold) ? 'ok' : row.state;
      if (state === row.state) return bucketView(row);
      const updated = await tx.transferBucket.update({
        where: { id: bucketId, projectId },
        data: { state },
        select: bucketSelect,
      });
      if (state === 'low') {
        await appendEvents(deps, projectId, [
          {
            type: LOW_BALANCE_EVENT,
            source: 'tocsin',
            payload: {
              bucketId,
              name: row.name,
              balance: row.balance.toNumber(),
              threshold: row.threshold.toNumber(),
              currency: row.currency,
            },
          },
        ]);
      }
      return bucketView(updated);
    });
  } catch (err) {
    if (isRecordMissing(err)) throw notFound('Transfer bucket');
    throw err;
  }
}

export interface CreateBucketInput {
  name: string;
  balance?: string;
  threshold: string;
  currency?: string | null;
}

export async function createBucket(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  input: CreateBucketInput,
) {
  const id = uuidv7();
  try {
    await deps.db.forProject(projectId).transferBucket.create({
      data: {
        id,
        projectId,
        name: input.name,
        balance: input.balance ?? '0',
        threshold: input.threshold,
        currency: input.currency ?? null,
      },
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('bucket_name_taken', `A bucket named "${input.name}" exists`);
    throw err;
  }
  deps.audit.record({
    projectId,
    principal,
    action: 'bucket.create',
    resourceType: 'transfer_bucket',
    resourceId: id,
  });
  // A bucket created below its threshold is a crossing too.
  return checkBucket(deps, projectId, id);
}

export async function listBuckets(
  deps: DomainDeps,
  projectId: string,
  query: Page & { state?: 'ok' | 'low' },
) {
  const db = deps.db.forProject(projectId);
  const where: Prisma.TransferBucketWhereInput = query.state ? { state: query.state } : {};
  const [rows, total] = await Promise.all([
    db.transferBucket.findMany({ where, select: bucketSelect, orderBy: { name: 'asc' }, ...pageArgs(query) }),
    db.transferBucket.count({ where }),
  ]);
  return { items: rows.map(bucketView), page: query.page, pageSize: query.pageSize, total };
}

export async function getBucket(deps: DomainDeps, projectId: string, id: string) {
  const row = await deps.db
    .forProject(projectId)
    .transferBucket.findFirst({ where: { id }, select: bucketSelect });
  if (!row) throw notFound('Transfer bucket');
  return bucketView(row);
}

export async function setThreshold(
  deps: DomainDeps,
  principal: Principal,
  projectId: string,
  id: string,
  threshold: string,
) {
  const bucket = await checkBucket(deps, projectId, id, { threshold });
  deps.audit.record({
    projectId,
    principal,
    action: 'bucket.threshold',
    resourceType: 'transfer_bucket',
    resourceId: id,
    metadata: { threshold },
  });
  return bucket;
}

/** From the external system that holds the money (API key). */
export const setBalance = (deps: DomainDeps, projectId: string, id: string, balance: string) =>
  checkBucket(deps, projectId, id, { balance });

/** The monitor's pass over one project: every bucket re-checked (and crossings emitted). */
export async function checkProjectBuckets(deps: BucketDeps, projectId: string): Promise<number> {
  const ids = await deps.db.forProject(projectId).transferBucket.findMany({ select: { id: true } });
  for (const { id } of ids) await checkBucket(deps, projectId, id);
  return ids.length;
}
