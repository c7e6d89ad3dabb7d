// Helpers of the pipeline tests: projects with users in roles (made directly in the database),
// rules, awaiting what the workers hand over for delivery and database states without fixed
// sleeps.
import { expect } from 'vitest';
import { uuidv7 } from '../../../src/core/ids.js';
import { hashPassword } from '../../../src/domain/passwords.js';
import type { Dispatch, Dispatched } from '../../../src/workers/notifications.js';
import { ADMIN_PASSWORD, api, createTestProject, type TestProject } from '../../support/api.js';
import type { TestHub } from '../../support/hub.js';

export interface PipelineProject extends TestProject {
  roles: Record<'admin' | 'member' | 'rule_manager', string>;
}

export async function pipelineProject(
  hub: TestHub,
  saToken: string,
  settings?: unknown,
): Promise<PipelineProject> {
  const project = await createTestProject(hub, saToken, settings ? { settings } : {});
  const roles = await hub.running.db
    .forProject(project.id)
    .role.findMany({ select: { id: true, name: true } });
  return {
    ...project,
    roles: Object.fromEntries(roles.map((r) => [r.name, r.id])) as PipelineProject['roles'],
  };
}

/** Users created straight in the database, holding `roleId`. */
export async function addUsers(
  hub: TestHub,
  projectId: string,
  roleId: string,
  count: number,
  status: 'active' | 'pending' | 'suspended' = 'active',
): Promise<string[]> {
  const db = hub.running.db.forProject(projectId);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = uuidv7();
    await db.user.create({
      data: { id, projectId, email: `${id}@users.test`, fullName: `User ${i}`, status },
    });
    await db.userRole.create({ data: { projectId, userId: id, roleId } });
    ids.push(id);
  }
  // The consumer's role → users index is dropped as the users API would make it.
  await hub.running.services.bus.publish({ type: 'recipients.changed', projectId });
  return ids;
}

export async function createRule(hub: TestHub, project: TestProject, fields: Record<string, unknown>) {
  const res = await api(
    hub,
    'POST',
    '/api/v1/rules',
    { name: 'Rule', title: 'Alert', body: 'Body', ...fields },
    { token: project.adminToken },
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}

/** One notification the workers handed over for delivery (their `onDispatch`). */
export interface Handover extends Dispatched {
  projectId: string;
}

/**
 * Records what workers hand over for delivery: pass `onDispatch` to `startWorkers`; `next`
 * resolves with the first hand-over `match` accepts among those made after the call.
 */
export function dispatches() {
  const waiters = new Set<(handover: Handover) => Promise<void>>();
  const onDispatch: Dispatch = async (projectId, notifications) => {
    for (const n of notifications) {
      await Promise.all([...waiters].map((waiter) => waiter({ projectId, ...n })));
    }
  };
  const next = (match: (handover: Handover) => boolean | Promise<boolean>, timeoutMs = 5_000) =>
    new Promise<Handover>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error('No matching notification was handed over for delivery'));
      }, timeoutMs);
      const waiter = async (handover: Handover) => {
        if (!(await match(handover)) || !waiters.has(waiter)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(handover);
      };
      waiters.add(waiter);
    });
  return { onDispatch, next };
}

/** Polls `read` until `accept` holds (for states no message announces). */
export async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const postEvent = (
  hub: TestHub,
  project: TestProject,
  body: unknown,
  headers?: Record<string, string>,
  wait?: number | string,
) =>
  api(hub, 'POST', `/api/v1/events${wait === undefined ? '' : `?wait=${wait}`}`, body, {
    apiKey: project.apiKey,
    headers,
  });

/** A logged-in user of `project` whose only role grants `permissions`. */
export async function userWith(hub: TestHub, project: TestProject, permissions: string[]): Promise<string> {
  const db = hub.running.db.forProject(project.id);
  const roleId = uuidv7();
  await db.role.create({ data: { id: roleId, projectId: project.id, name: `r-${roleId}`, permissions } });
  const userId = uuidv7();
  const email = `${userId}@users.test`;
  await db.user.create({
    data: {
      id: userId,
      projectId: project.id,
      email,
      fullName: 'Limited',
      status: 'active',
      passwordHash: await hashPassword(ADMIN_PASSWORD, 4),
    },
  });
  await db.userRole.create({ data: { projectId: project.id, userId, roleId } });
  const login = await api(hub, 'POST', '/api/v1/auth/login', {
    email,
    password: ADMIN_PASSWORD,
    projectSlug: project.slug,
  });
  expect(login.status).toBe(200);
  return login.body.accessToken as string;
}
