// One project's batch of stream entries, from events to stored notifications: evaluate the rule
// set, apply suppression, resolve recipients, write events, notifications and receipts in one
// transaction, then announce the notifications. Idempotent on the event id: an event already
// stored is not evaluated again (and its notifications are announced again, in case the first
// announcement was lost with a crashed consumer); the unique (eventId, ruleId) of notifications
// and the event's primary key make a concurrent duplicate fail instead of doubling anything.
import type { Db, Prisma, ProjectDb } from '../core/db.js';
import { uuidv7 } from '../core/ids.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { VersionedCache } from '../engine/cache.js';
import { digestDueAt, type Suppression, type SuppressionCheck } from '../engine/suppression.js';
import type { AlertMatch } from '../domain/alerting/alerts.js';
import { decodeEntry, type StreamEvent } from '../domain/events.js';
import type { RecipientIndex } from '../domain/recipients.js';
import type { DigestScheduler } from './digests.js';
import {
  cutBody,
  cutTitle,
  notificationInserts,
  toDispatch,
  type Dispatch,
  type NotificationDraft,
} from './notifications.js';
import type { PipelineRule, ProjectRules } from './project-rules.js';

export interface StreamEntry {
  entryId: string;
  fields: string[];
}

export type EntryResult = { entryId: string; ok: true } | { entryId: string; ok: false; error: Error };

export interface PipelineDeps {
  db: Db;
  /** Called after each commit with the notifications to deliver. */
  dispatch: Dispatch;
  log: Logger;
  metrics: Pick<Metrics, 'ruleEvaluations' | 'eventsSuppressed'>;
  rules: VersionedCache<ProjectRules>;
  recipients: RecipientIndex;
  suppression: Suppression;
  digests: DigestScheduler;
  /** Told which users got new receipts, after the commit (unread counters). */
  onReceipts?: (projectId: string, userIds: string[]) => Promise<void>;
  /** Alert rules' matches are recorded before the events are written; `kick` after the commit. */
  alerts?: { record(projectId: string, matches: AlertMatch[]): Promise<void>; kick(): void };
}

/** What one event turns into. */
interface Outcome {
  entryId: string;
  event: StreamEvent;
  /** Attempts before this one, when an earlier attempt left a `received` row. */
  previousAttempts: number | null;
  matchedRuleIds: string[];
  /** Matched rules whose notification suppression turned into a digest, and when it is due. */
  suppressedRules: Array<{ ruleId: string; digestDueAt: string | null }>;
  drafts: NotificationDraft[];
}

export async function processEntries(
  deps: PipelineDeps,
  projectId: string,
  entries: readonly StreamEntry[],
  options: { redelivered: boolean },
): Promise<EntryResult[]> {
  const db = deps.db.forProject(projectId);
  const results: EntryResult[] = [];
  const decoded: Array<{ entryId: string; event: StreamEvent }> = [];
  for (const { entryId, fields } of entries) {
    try {
      decoded.push({ entryId, event: decodeEntry(fields) });
    } catch (error) {
      results.push({ entryId, ok: false, error: error as Error });
    }
  }
  if (decoded.length === 0) return results;

  const stored = await db.event.findMany({
    where: { id: { in: decoded.map((d) => d.event.id) } },
    select: { id: true, status: true, attempts: true },
  });
  const storedById = new Map(stored.map((row) => [row.id, row]));
  const isFinished = (id: string) => ['processed', 'failed'].includes(storedById.get(id)?.status ?? '');
  const finished = decoded.filter((d) => isFinished(d.event.id));
  if (finished.length) {
    await redispatch(
      deps,
      db,
      projectId,
      finished.map((d) => d.event.id),
    );
    results.push(...finished.map(({ entryId }) => ({ entryId, ok: true as const })));
  }
  const pending = decoded.filter((d) => !finished.includes(d));
  if (pending.length === 0) return results;

  const { ruleSet, alertRules } = await deps.rules.get(projectId);
  const matches = pending.map((d) => ({ ...d, ...ruleSet.match(d.event) }));
  const evaluated = matches.reduce((sum, m) => sum + m.evaluated, 0);
  deps.metrics.ruleEvaluations.inc({ project: projectId }, evaluated);
  // Rules that open alerts page through their alert (deduplicated there), not one-off notifications.
  const notifying = matches.map((m) => ({ ...m, rules: m.rules.filter((rule) => !rule.alerting) }));
  const decisions = await suppress(deps, projectId, notifying, options.redelivered);

  let next = 0;
  const outcomes: Outcome[] = [];
  for (const [i, { entryId, event, rules }] of matches.entries()) {
    const drafts: NotificationDraft[] = [];
    const suppressedRules: Outcome['suppressedRules'] = [];
    for (const rule of notifying[i]!.rules) {
      const decision = decisions[next++]!;
      if (decision.suppressed) {
        // A redelivered event whose period has ended gets no period id back: its due time is unknown.
        const due = decision.periodId ? digestDueAt(decision.periodId, rule.limit).toISOString() : null;
        suppressedRules.push({ ruleId: rule.id, digestDueAt: due });
        continue;
      }
      drafts.push(draftFor(rule, event, await deps.recipients.resolve(projectId, rule.targetRoles)));
    }
    const previous = storedById.get(event.id);
    outcomes.push({
      entryId,
      event,
      previousAttempts: previous ? previous.attempts : null,
      matchedRuleIds: rules.map((r) => r.id),
      suppressedRules,
      drafts,
    });
  }

  const alerting = alertMatches(matches, alertRules);
  if (alerting.length) await deps.alerts?.record(projectId, alerting);

  // One transaction for the batch; if it fails, each event alone, so one bad event cannot
  // hold back the others.
  const groups = await write(db, projectId, outcomes).then(
    () => [{ outcomes, error: null }],
    async (error: Error) =>
      outcomes.length === 1
        ? [{ outcomes, error }]
        : Promise.all(
            outcomes.map((outcome) =>
              write(db, projectId, [outcome]).then(
                () => ({ outcomes: [outcome], error: null }),
                (single: Error) => ({ outcomes: [outcome], error: single }),
              ),
            ),
          ),
  );
  for (const group of groups) {
    if (group.error) {
      results.push(
        ...group.outcomes.map(({ entryId }) => ({ entryId, ok: false as const, error: group.error! })),
      );
      continue;
    }
    const drafts = group.outcomes.flatMap((o) => o.drafts);
    // Counters first: a failed hand-over is retried through redelivery, which counts nothing.
    await deps.onReceipts?.(
      projectId,
      drafts.flatMap((d) => d.userIds),
    );
    await deps.dispatch(projectId, toDispatch(drafts));
    results.push(...group.outcomes.map(({ entryId }) => ({ entryId, ok: true as const })));
  }
  if (alerting.length) deps.alerts?.kick();
  return results;
}

/**
 * Each event against the rules that open alerts: one whose resolveWhen holds resolves the open
 * alert of its dedup key; one the rule matched opens or updates it.
 */
function alertMatches(
  matches: ReadonlyArray<{ event: StreamEvent; rules: PipelineRule[] }>,
  alertRules: readonly PipelineRule[],
): AlertMatch[] {
  return matches.flatMap(({ event, rules }) =>
    alertRules.flatMap((rule) => {
      const resolving = rule.alerting!.resolveWhen?.evaluate(event) ?? false;
      if (!resolving && !rules.some((matched) => matched.id === rule.id)) return [];
      return [
        {
          event,
          rule,
          resolving,
          dedupKey: rule.alerting!.dedupKey.render(event),
          title: cutTitle(rule.titleTemplate.render(event)),
          body: cutBody(rule.bodyTemplate.render(event)),
        },
      ];
    }),
  );
}

/** One decision per (event, matched rule), in order; schedules the digest of each new period. */
async function suppress(
  deps: PipelineDeps,
  projectId: string,
  matches: ReadonlyArray<{ event: StreamEvent; rules: PipelineRule[] }>,
  redelivered: boolean,
) {
  const checks: SuppressionCheck[] = matches.flatMap(({ event, rules }) =>
    rules.map((rule) => ({
      projectId,
      ruleId: rule.id,
      eventId: event.id,
      limit: rule.limit,
      newPeriodId: uuidv7(),
    })),
  );
  const decisions = await deps.suppression.check(checks);
  deps.metrics.eventsSuppressed.inc({ project: projectId }, decisions.filter((d) => d.suppressed).length);
  // A redelivered event may be the one whose first attempt died before scheduling: schedule
  // again (the job id makes it a no-op when the job exists).
  const periods = new Map<string, SuppressionCheck & { periodId: string }>();
  decisions.forEach((decision, i) => {
    if (decision.suppressed && (decision.startsPeriod || redelivered)) {
      periods.set(decision.periodId, { ...checks[i]!, periodId: decision.periodId });
    }
  });
  await Promise.all(
    [...periods.values()].map((p) =>
      deps.digests.schedule({
        projectId,
        ruleId: p.ruleId,
        periodId: p.periodId,
        windowSeconds: p.limit.windowSeconds,
      }),
    ),
  );
  return decisions;
}

function draftFor(rule: PipelineRule, event: StreamEvent, userIds: string[]): NotificationDraft {
  return {
    id: uuidv7(),
    ruleId: rule.id,
    eventId: event.id,
    kind: 'alert',
    title: rule.titleTemplate.render(event),
    body: rule.bodyTemplate.render(event),
    data: { eventType: event.type, payload: event.payload } as Prisma.InputJsonValue,
    action: (rule.action ?? undefined) as Prisma.InputJsonValue | undefined,
    soundId: rule.soundId,
    priority: rule.priority,
    userIds,
  };
}

async function write(db: ProjectDb, projectId: string, outcomes: readonly Outcome[]): Promise<void> {
  const processedAt = new Date();
  const row = (o: Outcome) => ({
    status: 'processed' as const,
    processedAt,
    matchedRules: o.matchedRuleIds,
    suppressedRules: o.suppressedRules,
    attempts: (o.previousAttempts ?? 0) + 1,
    error: null,
  });
  const fresh = outcomes.filter((o) => o.previousAttempts === null);
  const retried = outcomes.filter((o) => o.previousAttempts !== null);
  await db.$transaction([
    ...(fresh.length
      ? [
          db.event.createMany({
            data: fresh.map((o) => ({ ...eventColumns(projectId, o.event), ...row(o) })),
          }),
        ]
      : []),
    ...retried.map((o) => db.event.update({ where: { id: o.event.id }, data: row(o) })),
    ...notificationInserts(
      db,
      projectId,
      outcomes.flatMap((o) => o.drafts),
    ),
  ]);
}

/** The columns an event row takes from the stream entry. */
export function eventColumns(projectId: string, event: StreamEvent) {
  return {
    id: event.id,
    projectId,
    type: event.type,
    payload: event.payload as Prisma.InputJsonValue,
    source: event.source,
    idempotencyKey: event.idempotencyKey,
    occurredAt: event.occurredAt ? new Date(event.occurredAt) : null,
    receivedAt: new Date(event.receivedAt),
  };
}

/** Hands over again the notifications of events that were already stored. */
async function redispatch(deps: PipelineDeps, db: ProjectDb, projectId: string, eventIds: string[]) {
  const notifications = await db.notification.findMany({
    where: { eventId: { in: eventIds } },
    select: { id: true, receipts: { select: { userId: true } } },
  });
  await deps.dispatch(
    projectId,
    notifications
      .filter((n) => n.receipts.length > 0)
      .map((n) => ({ notificationId: n.id, userIds: n.receipts.map((r) => r.userId) })),
  );
}
