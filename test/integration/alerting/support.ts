// Helpers of the alerting tests: policies, schedules and alerts through the API, and the one
// thing a test cannot wait for, a step's wait (minutes): `dueNow` moves an alert's next step to
// now, in MySQL and on the timer, as if the wait had passed.
import { expect } from 'vitest';
import { timerKey, timerMember } from '../../../src/domain/alerting/timer.js';
import { api, type TestProject } from '../../support/api.js';
import { eventually } from '../../support/gateway.js';
import type { TestHub } from '../../support/hub.js';
import { userWith } from '../pipeline/support.js';

/** Events go through the pipeline and the escalation worker: slower than one request on a loaded machine. */
const PATIENCE_MS = 30_000;

export async function createPolicy(hub: TestHub, project: TestProject, fields: Record<string, unknown>) {
  const res = await api(
    hub,
    'POST',
    '/api/v1/escalation-policies',
    { name: `p-${Date.now()}-${Math.random()}`, ...fields },
    { token: project.adminToken },
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}

export const userStep = (userId: string, waitMinutes = 1) => ({
  targets: [{ type: 'user', id: userId }],
  waitMinutes,
});

export async function postEvent(
  hub: TestHub,
  project: TestProject,
  type: string,
  payload: Record<string, unknown>,
) {
  const res = await api(hub, 'POST', '/api/v1/events', { type, payload }, { apiKey: project.apiKey });
  expect(res.status).toBe(202);
  return res.body.id as string;
}

export const alertsOf = (hub: TestHub, projectId: string) =>
  hub.running.db.forProject(projectId).alert.findMany({ orderBy: { createdAt: 'asc' } });

export const entriesOf = (hub: TestHub, projectId: string, alertId: string, type?: string) =>
  hub.running.db.forProject(projectId).alertEntry.findMany({
    where: { alertId, ...(type ? { type } : {}) },
    orderBy: { createdAt: 'asc' },
  });

/** Waits for the alert's timeline to have `count` entries of `type` (e.g. step 2 notified). */
export async function awaitEntries(
  hub: TestHub,
  projectId: string,
  alertId: string,
  type: string,
  count: number,
) {
  await eventually(
    async () => (await entriesOf(hub, projectId, alertId, type)).length >= count,
    `${count} "${type}" entries of alert ${alertId}`,
    PATIENCE_MS,
  );
}

export async function awaitAlert(hub: TestHub, projectId: string, where: Record<string, unknown> = {}) {
  let found: { id: string } | null = null;
  await eventually(
    async () => {
      found = await hub.running.db
        .forProject(projectId)
        .alert.findFirst({ where, orderBy: { createdAt: 'desc' } });
      return found !== null;
    },
    'the alert',
    PATIENCE_MS,
  );
  return found! as { id: string };
}

/** The alert's next step is due now (its wait passed). */
export async function dueNow(hub: TestHub, projectId: string, alertId: string) {
  const now = new Date();
  await hub.running.db
    .forProject(projectId)
    .alert.update({ where: { id: alertId }, data: { nextStepAt: now } });
  const { redis, keys } = hub.running.services;
  await redis.zadd(timerKey(keys), now.getTime(), timerMember(projectId, alertId));
}

/** A logged-in active user with no permissions, and their id (the token's subject). */
export async function person(hub: TestHub, project: TestProject) {
  const token = await userWith(hub, project, []);
  const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string };
  return { id: claims.sub, token };
}

/** A rule paging `userIds` one step each (1-minute waits) for events of `type`; returns the policy. */
export async function steppedRule(hub: TestHub, project: TestProject, type: string, userIds: string[]) {
  const policy = await createPolicy(hub, project, { steps: userIds.map((id) => userStep(id)) });
  const rule = await api(
    hub,
    'POST',
    '/api/v1/rules',
    {
      name: `${type}-${Date.now()}`,
      condition: `event.type == "${type}"`,
      title: 't',
      body: 'b',
      targetRoles: [],
      escalationPolicyId: policy.id,
    },
    { token: project.adminToken },
  );
  expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  return policy;
}
