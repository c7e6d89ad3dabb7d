// Which Pusher channels a project user may join, and the signatures that let them: their own
// user channel, channels of the roles they hold, and the project-wide channels. Signed with the
// gateway secret, or the hosted-Pusher secret when the client connects there.
import { decryptSecret } from '../core/crypto.js';
import { forbidden, AppError, notFound } from '../core/errors.js';
import { channelAuthString, signAuth, userAuthString, type AppCredentials } from '../gateway/signatures.js';
import { userChannel } from '../gateway/protocol.js';
import type { DomainDeps } from './deps.js';
import type { Principal } from './principal.js';
import { readProviderCredentials } from './provider-credentials.js';

export type AuthTarget = 'gateway' | 'pusher';

/** Channel names a user may subscribe to (documented in docs/integration.md). */
export function mayJoin(user: Extract<Principal, { kind: 'user' }>, channel: string): boolean {
  if (channel === userChannel(user.userId)) return true;
  if (channel === 'private-project' || channel === 'presence-project') return true;
  const role = /^(?:private|presence)-role-(.+)$/.exec(channel)?.[1];
  return role !== undefined && user.roles.includes(role);
}

async function credentials(deps: DomainDeps, projectId: string, target: AuthTarget): Promise<AppCredentials> {
  if (target === 'pusher') {
    const pusher = (await readProviderCredentials(deps, projectId)).pusher;
    if (!pusher)
      throw new AppError(409, 'pusher_not_configured', 'This project has no hosted Pusher credentials');
    return { key: pusher.key, secret: pusher.secret };
  }
  const project = await deps.db.system.project.findUnique({
    where: { id: projectId },
    select: { gatewayKey: true, gatewaySecretEnc: true },
  });
  if (!project) throw notFound('Project');
  return {
    key: project.gatewayKey,
    secret: decryptSecret(project.gatewaySecretEnc, deps.config.secrets.encryptionKey),
  };
}

/**
 * The `user_info` of presence members and `pusher:signin`. It repeats the id: Laravel Echo's
 * `here`/`joining` hand out `user_info` alone, so a member without it could not be told apart.
 */
async function userInfo(deps: DomainDeps, user: Extract<Principal, { kind: 'user' }>) {
  const row = await deps.db.forProject(user.projectId).user.findUnique({
    where: { id: user.userId },
    select: { fullName: true },
  });
  return { id: user.userId, name: row?.fullName ?? '' };
}

export async function authorizeChannel(
  deps: DomainDeps,
  user: Extract<Principal, { kind: 'user' }>,
  input: { socketId: string; channel: string; target: AuthTarget },
): Promise<{ auth: string; channel_data?: string }> {
  if (!mayJoin(user, input.channel))
    throw forbidden('channel_forbidden', `You may not subscribe to ${input.channel}`);
  const app = await credentials(deps, user.projectId, input.target);
  if (input.channel.startsWith('presence-')) {
    const channelData = JSON.stringify({ user_id: user.userId, user_info: await userInfo(deps, user) });
    return {
      auth: signAuth(app, channelAuthString(input.socketId, input.channel, channelData)),
      channel_data: channelData,
    };
  }
  return { auth: signAuth(app, channelAuthString(input.socketId, input.channel)) };
}

/** `pusher:signin`: the user's identity for user-targeted delivery. */
export async function authenticateUser(
  deps: DomainDeps,
  user: Extract<Principal, { kind: 'user' }>,
  input: { socketId: string; target: AuthTarget },
): Promise<{ auth: string; user_data: string }> {
  const app = await credentials(deps, user.projectId, input.target);
  const userData = JSON.stringify({ id: user.userId, user_info: await userInfo(deps, user) });
  return { auth: signAuth(app, userAuthString(input.socketId, userData)), user_data: userData };
}
