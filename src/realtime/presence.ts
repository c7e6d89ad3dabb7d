// Who is present, shared by every node in Redis: the members of each presence channel, and the
// users online in a project (group ONLINE). A group counts connections per user, so a user is
// added when their first connection joins and removed when their last one leaves, whichever
// node holds it. Each node indexes the connections it holds, so the reaper can remove them all
// when that node's lease runs out (see nodes.ts).
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../core/redis.js';
import { luaScript } from './lua.js';

/** The group of a project's online users (presence channels are groups named by channel). */
export const ONLINE = 'online';

export interface Member {
  userId: string;
  /** JSON text of the member's `user_info`, for presence channels. */
  info?: string;
}

export type JoinResult =
  { status: 'joined'; firstConnection: boolean; members: Map<string, unknown> } | { status: 'full' };

export interface Presence {
  /** Adds a connection; `maxMembers` limits distinct users (0: no limit). */
  join(
    projectId: string,
    group: string,
    socketId: string,
    member: Member,
    maxMembers?: number,
  ): Promise<JoinResult>;
  /** Removes a connection; resolves to the user id when it was that user's last one. */
  leave(projectId: string, group: string, socketId: string): Promise<string | undefined>;
  userIds(projectId: string, group: string): Promise<string[]>;
  count(projectId: string, group: string): Promise<number>;
  isPresent(projectId: string, group: string, userId: string): Promise<boolean>;
  /** Which of these users are present, in one round trip. */
  presentAmong(projectId: string, group: string, userIds: readonly string[]): Promise<Set<string>>;
  /** Removes every connection a (dead) node held in a project; returns the users that left. */
  reap(projectId: string, nodeId: string): Promise<Array<{ group: string; userId: string }>>;
}

// KEYS: users (user → connections), info (user → user_info), node index. ARGV: index field,
// user id, user info, max users, whether to return the members.
const JOIN = luaScript(`
if redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[2]) == 0 then return {-1} end
local n = redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
if n == 1 then
  local max = tonumber(ARGV[4])
  if max > 0 and redis.call('HLEN', KEYS[1]) > max then
    redis.call('HDEL', KEYS[1], ARGV[2])
    redis.call('HDEL', KEYS[3], ARGV[1])
    return {-2}
  end
  if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
end
if ARGV[5] == '1' then return {n, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])} end
return {n}
`);

// KEYS: users, info, node index. ARGV: index field. Returns the user id when it left.
const LEAVE = luaScript(`
local user = redis.call('HGET', KEYS[3], ARGV[1])
if not user then return false end
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('HINCRBY', KEYS[1], user, -1) > 0 then return false end
redis.call('HDEL', KEYS[1], user)
redis.call('HDEL', KEYS[2], user)
return user
`);

const SEPARATOR = '\n'; // never part of a group (channel) name or socket id

export function createPresence(deps: { redis: Redis; keys: RedisKeys; nodeId: () => string }): Presence {
  const { redis, keys } = deps;
  const usersKey = (projectId: string, group: string) => keys.projectKey(projectId, 'gw', 'members', group);
  const infoKey = (projectId: string, group: string) =>
    keys.projectKey(projectId, 'gw', 'member-info', group);
  const indexKey = (projectId: string, nodeId: string) =>
    keys.projectKey(projectId, 'gw', 'node', nodeId, 'members');
  const groupKeys = (projectId: string, group: string, nodeId: string) => [
    usersKey(projectId, group),
    infoKey(projectId, group),
    indexKey(projectId, nodeId),
  ];

  const leaveOn = async (projectId: string, group: string, socketId: string, nodeId: string) => {
    const user = await LEAVE(redis, groupKeys(projectId, group, nodeId), [`${group}${SEPARATOR}${socketId}`]);
    return typeof user === 'string' ? user : undefined;
  };

  return {
    async join(projectId, group, socketId, member, maxMembers = 0) {
      const withMembers = group !== ONLINE;
      const reply = (await JOIN(redis, groupKeys(projectId, group, deps.nodeId()), [
        `${group}${SEPARATOR}${socketId}`,
        member.userId,
        member.info ?? '',
        maxMembers,
        withMembers ? '1' : '0',
      ])) as [number, string[]?, string[]?];
      if (reply[0] === -2) return { status: 'full' };
      const members = new Map<string, unknown>();
      const [users = [], infos = []] = [reply[1], reply[2]];
      const info = new Map<string, string>();
      for (let i = 0; i < infos.length; i += 2) info.set(infos[i]!, infos[i + 1]!);
      for (let i = 0; i < users.length; i += 2) {
        const text = info.get(users[i]!);
        members.set(users[i]!, text === undefined ? null : JSON.parse(text));
      }
      return { status: 'joined', firstConnection: reply[0] === 1, members };
    },
    leave: (projectId, group, socketId) => leaveOn(projectId, group, socketId, deps.nodeId()),
    userIds: (projectId, group) => redis.hkeys(usersKey(projectId, group)),
    count: (projectId, group) => redis.hlen(usersKey(projectId, group)),
    async isPresent(projectId, group, userId) {
      return (await redis.hexists(usersKey(projectId, group), userId)) === 1;
    },
    async presentAmong(projectId, group, userIds) {
      if (userIds.length === 0) return new Set();
      const counts = await redis.hmget(usersKey(projectId, group), ...userIds);
      return new Set(userIds.filter((_, i) => counts[i] !== null));
    },
    async reap(projectId, nodeId) {
      const fields = await redis.hkeys(indexKey(projectId, nodeId));
      const left: Array<{ group: string; userId: string }> = [];
      for (const field of fields) {
        const [group = '', socketId = ''] = field.split(SEPARATOR);
        const userId = await leaveOn(projectId, group, socketId, nodeId);
        if (userId !== undefined) left.push({ group, userId });
      }
      await redis.del(indexKey(projectId, nodeId));
      return left;
    },
  };
}
