// Who a set of targets reaches at an instant: active holders of the roles, the active users
// named, and whoever is on call in the schedules.
import type { DomainDeps } from '../deps.js';
import type { RecipientIndex } from '../recipients.js';
import type { Target } from './policies.js';
import { onCallUsers } from './schedules.js';

export async function resolveTargets(
  deps: Pick<DomainDeps, 'db'> & { recipients: RecipientIndex },
  projectId: string,
  targets: readonly Target[],
  at: Date,
): Promise<string[]> {
  const db = deps.db.forProject(projectId);
  const ids = (type: Target['type']) => targets.filter((t) => t.type === type).map((t) => t.id);
  const [fromRoles, onCall] = await Promise.all([
    deps.recipients.resolve(projectId, ids('role')),
    onCallUsers(db, ids('schedule'), at),
  ]);
  const named = [...ids('user'), ...onCall];
  const active = named.length
    ? await db.user.findMany({ where: { id: { in: named }, status: 'active' }, select: { id: true } })
    : [];
  return [...new Set([...fromRoles, ...active.map((u) => u.id)])].sort();
}
