// The escalation timer: one Redis sorted set of `projectId:alertId` scored by when the alert's
// next step (or reminder) is due. MySQL holds the truth (Alert.nextStep/nextStepAt); this set only
// says when to look, so a lost or stale member costs a late look, never a wrong page.
import type { DomainDeps } from '../deps.js';

export const timerKey = (keys: DomainDeps['keys']) => keys.system('escalation', 'due');
export const timerMember = (projectId: string, alertId: string) => `${projectId}:${alertId}`;

/** Due at `at`, unless a worker already holds the member (its lease then decides). */
export async function scheduleAlert(
  deps: Pick<DomainDeps, 'redis' | 'keys'>,
  projectId: string,
  alertId: string,
  at: Date,
) {
  await deps.redis.zadd(timerKey(deps.keys), 'NX', at.getTime(), timerMember(projectId, alertId));
}

/** Moves the member to `at` (an acknowledgement's reminder), or removes it when nothing is due. */
export async function rescheduleAlert(
  deps: Pick<DomainDeps, 'redis' | 'keys'>,
  projectId: string,
  alertId: string,
  at: Date | null,
) {
  const member = timerMember(projectId, alertId);
  if (at) await deps.redis.zadd(timerKey(deps.keys), at.getTime(), member);
  else await deps.redis.zrem(timerKey(deps.keys), member);
}
