// Set-up for the inbox and sound tests: users with a token and rules, inserted directly (their
// APIs have their own tests).
import { uuidv7 } from '../../../src/core/ids.js';
import type { Permission } from '../../../src/domain/permissions.js';
import { issueAccessToken } from '../../../src/domain/tokens.js';
import type { TestHub } from '../../support/hub.js';

export interface TestUser {
  id: string;
  token: string;
}

let counter = 0;

export async function createUser(
  hub: TestHub,
  projectId: string,
  perms: Permission[] = [],
): Promise<TestUser> {
  const id = uuidv7();
  await hub.running.db.system.user.create({
    data: {
      id,
      projectId,
      email: `u${counter++}-${id}@inbox.test`,
      fullName: 'Inbox User',
      status: 'active',
    },
  });
  const { accessToken } = await issueAccessToken(hub.running.services, {
    sub: id,
    pid: projectId,
    roles: ['member'],
    perms,
  });
  return { id, token: accessToken };
}

export async function createRule(hub: TestHub, projectId: string, soundId: string | null = null) {
  const rule = await hub.running.db.forProject(projectId).rule.create({
    data: {
      projectId,
      name: `rule-${uuidv7()}`,
      condition: 'event.type == "x"',
      targetRoles: [],
      title: 't',
      body: 'b',
      soundId,
    },
  });
  return rule.id;
}
