// Suppression digests: when a rule's matches start being suppressed, a BullMQ job is delayed by
// the window; when it runs it claims the period's count and sends one digest notification
// ("14 more 'transfer failed' alerts in the last 60 s") to the rule's recipients. The job id
// names the period (scheduling twice is a no-op) and the notification id travels in the job, so
// a retried job never sends a second digest.
import { Queue, Worker, type Job } from 'bullmq';
import { isUniqueViolation, type Db } from '../core/db.js';
import { uuidv7 } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import { bullConnection, logQueueEvents, QUEUE_NAMES } from '../core/queues.js';
import type { Suppression } from '../engine/suppression.js';
import type { RecipientIndex } from '../domain/recipients.js';
import { notificationInserts, toDispatch, type Dispatch, type NotificationDraft } from './notifications.js';

export interface DigestRequest {
  projectId: string;
  ruleId: string;
  periodId: string;
  windowSeconds: number;
}

interface DigestJob extends DigestRequest {
  notificationId: string;
}

export interface DigestScheduler {
  schedule(request: DigestRequest): Promise<void>;
}

export function createDigestScheduler(queue: Queue): DigestScheduler {
  return {
    async schedule(request) {
      const data: DigestJob = { ...request, notificationId: uuidv7() };
      await queue.add('digest', data, {
        jobId: `digest-${request.projectId}-${request.ruleId}-${request.periodId}`,
        delay: request.windowSeconds * 1000,
        attempts: 5,
        backoff: { type: 'exponential', delay: 1_000 },
        // Kept a day so a late duplicate schedule still finds the job and does nothing.
        removeOnComplete: { age: 86_400 },
        removeOnFail: { age: 7 * 86_400 },
      });
    },
  };
}

export interface DigestDeps {
  db: Db;
  dispatch: Dispatch;
  suppression: Suppression;
  recipients: RecipientIndex;
  onReceipts?: (projectId: string, userIds: string[]) => Promise<void>;
}

/** Sends the digest of one period; returns how many matches it summed up (0: nothing sent). */
export async function sendDigest(deps: DigestDeps, job: DigestJob): Promise<number> {
  const { projectId, ruleId } = job;
  const count = await deps.suppression.claimDigest(projectId, ruleId, job.periodId);
  if (count === 0) return 0;
  const db = deps.db.forProject(projectId);
  // A rule deleted since still gets its digest: the alerts it summarises did happen.
  const rule = await db.rule.findFirst({ where: { id: ruleId } });
  if (!rule) return 0;
  const draft: NotificationDraft = {
    id: job.notificationId,
    ruleId,
    eventId: null,
    kind: 'digest',
    title: `${count} more '${rule.name}' alerts in the last ${job.windowSeconds} s`,
    body: `${count} matches of '${rule.name}' were suppressed to avoid an alert storm.`,
    data: { suppressed: count, windowSeconds: job.windowSeconds },
    soundId: rule.soundId,
    priority: rule.priority,
    userIds: await deps.recipients.resolve(projectId, rule.targetRoles as string[]),
  };
  try {
    await db.$transaction(notificationInserts(db, projectId, [draft]));
  } catch (err) {
    // A retry after a crash that followed the commit: the digest exists, announce it again.
    if (!isUniqueViolation(err)) throw err;
    draft.userIds = (
      await db.notificationReceipt.findMany({ where: { notificationId: draft.id }, select: { userId: true } })
    ).map((r) => r.userId);
    await deps.dispatch(projectId, toDispatch([draft]));
    return count;
  }
  await deps.onReceipts?.(projectId, draft.userIds);
  await deps.dispatch(projectId, toDispatch([draft]));
  return count;
}

export function startDigestWorker(
  deps: DigestDeps & { log: Logger },
  options: { redisUrl: string; prefix: string },
): Worker {
  const worker = new Worker(QUEUE_NAMES.digests, (job: Job<DigestJob>) => sendDigest(deps, job.data), {
    connection: bullConnection(options.redisUrl),
    prefix: options.prefix,
    concurrency: 4,
  });
  logQueueEvents(deps.log, 'Digest', { worker });
  return worker;
}
