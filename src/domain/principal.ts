// Who is acting: resolved once per request by the HTTP layer, passed to the domain so audit
// rows and permission checks know it.
import type { Permission } from './permissions.js';

export type Principal =
  | {
      kind: 'user';
      userId: string;
      projectId: string;
      roles: string[];
      permissions: Permission[];
      jti: string;
      exp: number;
    }
  | { kind: 'superAdmin'; adminId: string; projectId?: string; jti: string; exp: number }
  | { kind: 'apiKey'; projectId: string }
  | { kind: 'anonymous'; projectId?: string }
  /** The operator at the command line, or the hub's own jobs. */
  | { kind: 'system'; projectId?: string };

export function actorOf(principal: Principal): { actorType: string; actorId: string | null } {
  switch (principal.kind) {
    case 'user':
      return { actorType: 'user', actorId: principal.userId };
    case 'superAdmin':
      return { actorType: 'super_admin', actorId: principal.adminId };
    case 'apiKey':
      return { actorType: 'api_key', actorId: null };
    case 'system':
      return { actorType: 'system', actorId: null };
    default:
      return { actorType: 'anonymous', actorId: null };
  }
}

export function hasPermission(principal: Principal, permission: Permission): boolean {
  if (principal.kind === 'superAdmin') return true;
  return principal.kind === 'user' && principal.permissions.includes(permission);
}
