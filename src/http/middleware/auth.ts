// Authentication and authorization middleware: resolves the caller (API key, user JWT, super
// admin JWT with optional X-Project-Id) into `c.var.principal` and the request context, and
// checks permissions. Errors never hint at other projects.
import type { Context, MiddlewareHandler } from 'hono';
import { badRequest, forbidden, notFound, unauthorized } from '../../core/errors.js';
import { setContextProject } from '../../core/context.js';
import { canonicalId, UUID_PATTERN } from '../../core/ids.js';
import type { DomainDeps } from '../../domain/deps.js';
import type { Permission } from '../../domain/permissions.js';
import { hasPermission, type Principal } from '../../domain/principal.js';
import { verifyAccessToken } from '../../domain/tokens.js';
import type { AppEnv } from './request-context.js';

type Scheme = 'apiKey' | 'user' | 'superAdmin';

async function fromApiKey(deps: DomainDeps, apiKey: string): Promise<Principal> {
  const project = await deps.projects.byApiKey(apiKey);
  if (!project) throw unauthorized('api_key_invalid', 'The API key is not valid');
  if (!project.active) throw unauthorized('project_disabled', 'The project of this API key is disabled');
  return { kind: 'apiKey', projectId: project.id };
}

async function fromBearer(deps: DomainDeps, c: Context<AppEnv>, token: string): Promise<Principal> {
  const claims = await verifyAccessToken(deps, token);
  if (claims.sa) {
    const header = c.req.header('x-project-id');
    const requested = header === undefined ? undefined : canonicalId(header);
    if (requested === undefined)
      return { kind: 'superAdmin', adminId: claims.sub, jti: claims.jti, exp: claims.exp };
    const project = UUID_PATTERN.test(requested) ? await deps.projects.byId(requested) : null;
    if (!project || project.deleted) throw notFound('Project');
    return {
      kind: 'superAdmin',
      adminId: claims.sub,
      projectId: project.id,
      jti: claims.jti,
      exp: claims.exp,
    };
  }
  const project = claims.pid ? await deps.projects.byId(claims.pid) : null;
  if (!project?.active) throw unauthorized('project_disabled', 'The project of this token is disabled');
  return {
    kind: 'user',
    userId: claims.sub,
    projectId: project.id,
    roles: claims.roles,
    permissions: claims.perms,
    jti: claims.jti,
    exp: claims.exp,
  };
}

/**
 * Accepts the given schemes. A super admin acting inside a project (X-Project-Id) is audited
 * on every request.
 */
export function authenticate(deps: DomainDeps, ...schemes: Scheme[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const apiKey = c.req.header('x-api-key');
    const authorization = c.req.header('authorization');
    let principal: Principal;
    if (schemes.includes('apiKey') && apiKey !== undefined) {
      principal = await fromApiKey(deps, apiKey);
    } else if (
      authorization?.startsWith('Bearer ') &&
      (schemes.includes('user') || schemes.includes('superAdmin'))
    ) {
      principal = await fromBearer(deps, c, authorization.slice(7).trim());
      if (!schemes.includes(principal.kind as Scheme)) {
        throw principal.kind === 'user'
          ? forbidden('super_admin_required', 'Only a super admin may do this')
          : forbidden('user_token_required', 'This route is for project users');
      }
    } else if (schemes.length === 1 && schemes[0] === 'apiKey') {
      throw unauthorized('api_key_missing', 'Send the project API key in the X-API-Key header');
    } else {
      throw unauthorized('auth_required', 'Send an access token: Authorization: Bearer <token>');
    }
    c.set('principal', principal);
    if (principal.projectId) setContextProject(principal.projectId);
    if (principal.kind === 'superAdmin' && principal.projectId) {
      deps.audit.record({
        projectId: principal.projectId,
        principal,
        action: 'super_admin.request',
        metadata: { method: c.req.method, path: c.req.path },
      });
    }
    await next();
  };
}

export function requirePermission(...permissions: Permission[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    const missing = permissions.filter((p) => !hasPermission(principal, p));
    if (missing.length) throw forbidden('permission_denied', `Missing permission: ${missing.join(', ')}`);
    await next();
  };
}

/** The project a request acts in; a super admin must name it with X-Project-Id. */
export function projectOf(c: Context<AppEnv>): string {
  const { projectId } = c.get('principal');
  if (!projectId) throw badRequest('project_required', 'Send X-Project-Id to act inside a project');
  return projectId;
}

export function userOf(c: Context<AppEnv>): Extract<Principal, { kind: 'user' }> {
  const principal = c.get('principal');
  if (principal.kind !== 'user') throw forbidden('user_token_required', 'This route is for project users');
  return principal;
}
