// Which Pusher channels a project user may join, and the signatures that let them: their own
// user channel, channels of the roles they hold, and the project-wide channels. Signed with the
// gateway secret, or the hosted-Pusher secret when the client connects there.
import { decryptSecret } from '../core/crypto.js';
import { forbidden, AppError, notFound } from '../core/errors.js';
import {
  channelAuthString,
  signAuth,
  userAuthString,
  type AppCredentials,
} from '../core/pusher/signatures.js';
import { userChannel } from '../core/pusher/protocol.js';
import type { DomainDeps } from './deps.js';
import type { Principal } from './principal.js';
import { readProviderCredentials } from './provider-credentials.js';
import { rememberUserSocket } from './user-sockets.js';

export type AuthTarget = 'gateway' | 'pusher';

/**
 * Channel names a user may subscribe to (documented in docs/integration.md). Role channels are
 * judged by the roles the user holds now, not those in their token: a role renamed (and its old
 * name given to another role) must not keep opening its old channel.
 */
async function mayJoin(deps: DomainDeps, user: Extract<Principal, { kind: 'user' }>, channel: string) {
  if (channel === userChannel(user.userId)) return true;
  if (channel === 'private-project' || channel === 'presence-project') return true;
  const role = /^(?:private|presence)-role-(.+)$/.exec(channel)?.[1];
  if (role === undefined) return false;
  const held = await deps.db
    .forProject(user.projectId)
    .userRole.count({ where: { userId: user.userId, role: { name: role } } });
  return held > 0;
}

/** A gateway signature binds the socket to the user, so their access can be cut there later. */
async function remember(deps: DomainDeps, user: Extract<Principal, { kind: 'user' }>, input: SignInput) {
  if (input.target === 'gateway') await rememberUserSocket(deps, user.projectId, user.userId, input.socketId);
}

type SignInput = { socketId: string; target: AuthTarget };

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
  input: SignInput & { channel: string },
): Promise<{ auth: string; channel_data?: string }> {
  if (!(await mayJoin(deps, user, input.channel)))
    throw forbidden('channel_forbidden', `You may not subscribe to ${input.channel}`);
  const app = await credentials(deps, user.projectId, input.target);
  await remember(deps, user, input);
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
  input: SignInput,
): Promise<{ auth: string; user_data: string }> {
  const app = await credentials(deps, user.projectId, input.target);
  await remember(deps, user, input);
  const userData = JSON.stringify({ id: user.userId, user_info: await userInfo(deps, user) });
  return { auth: signAuth(app, userAuthString(input.socketId, userData)), user_data: userData };
}
