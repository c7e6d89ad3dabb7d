// A user's roles and the permissions they add up to, read fresh when tokens are issued.
import type { ProjectDb } from '../core/db.js';
import { isPermission, type Permission } from './permissions.js';

export async function loadUserAccess(
  db: ProjectDb,
  userId: string,
): Promise<{ roles: string[]; permissions: Permission[] }> {
  const links = await db.userRole.findMany({
    where: { userId },
    select: { role: { select: { name: true, permissions: true } } },
  });
  const roles = links.map((l) => l.role.name).sort();
  const permissions = new Set<Permission>();
  for (const { role } of links) {
    for (const p of (role.permissions as string[] | null) ?? []) if (isPermission(p)) permissions.add(p);
  }
  return { roles, permissions: [...permissions].sort() };
}
