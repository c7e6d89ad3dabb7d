// Who receives a rule's notifications: the active users holding any of its target roles. The
// role → users index of a project is loaded once and kept in memory; it is dropped on every node
// when the bus says recipients changed (approval, role assignment, suspension), and expires after
// a short TTL so a node that missed that message heals by itself.
import type { Bus } from '../core/bus.js';
import type { Db } from '../core/db.js';

export interface RecipientIndex {
  /** Active users holding any of `roleIds`, sorted, without duplicates. */
  resolve(projectId: string, roleIds: readonly string[]): Promise<string[]>;
  invalidate(projectId: string): void;
}

type RoleMembers = Map<string, string[]>;

const MAX_PROJECTS = 10_000;

export function createRecipientIndex(
  deps: { db: Db; bus: Bus },
  options = { ttlMs: 30_000 },
): RecipientIndex {
  const entries = new Map<string, { members: Promise<RoleMembers>; expires: number }>();

  const load = async (projectId: string): Promise<RoleMembers> => {
    const links = await deps.db.forProject(projectId).userRole.findMany({
      where: { user: { status: 'active' } },
      select: { userId: true, roleId: true },
    });
    const members: RoleMembers = new Map();
    for (const { roleId, userId } of links) {
      const list = members.get(roleId);
      if (list) list.push(userId);
      else members.set(roleId, [userId]);
    }
    return members;
  };

  const membersOf = (projectId: string): Promise<RoleMembers> => {
    const cached = entries.get(projectId);
    if (cached && cached.expires > Date.now()) return cached.members;
    if (!cached && entries.size >= MAX_PROJECTS) entries.delete(entries.keys().next().value!);
    const members = load(projectId);
    entries.set(projectId, { members, expires: Date.now() + options.ttlMs });
    // A failed load must not be remembered.
    members.catch(() => entries.get(projectId)?.members === members && entries.delete(projectId));
    return members;
  };

  const index: RecipientIndex = {
    async resolve(projectId, roleIds) {
      const members = await membersOf(projectId);
      const users = new Set<string>();
      for (const roleId of roleIds) for (const userId of members.get(roleId) ?? []) users.add(userId);
      return [...users].sort();
    },
    invalidate(projectId) {
      entries.delete(projectId);
    },
  };
  deps.bus.on('recipients.changed', (message) => index.invalidate(message.projectId));
  return index;
}
