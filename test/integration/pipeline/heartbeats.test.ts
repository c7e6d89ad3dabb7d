// /api/v1/heartbeats: a source that misses its deadline puts source.silent into the rules once
// per silence, and its next ping puts source.recovered; bounds and the per-project limit are
// refused with 4xx, and another project's key cannot ping. The deadline is minutes away, so the
// test runs the worker's check at an instant past it instead of waiting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHeartbeats, MAX_HEARTBEATS } from '../../../src/domain/heartbeats.js';
import { api, expectError, superAdminToken } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { createRule, eventually, pipelineProject, userWith, type PipelineProject } from './support.js';

let hub: TestHub;
let project: PipelineProject;
let other: PipelineProject;

beforeAll(async () => {
  hub = await startHub({}, ['api', 'worker']);
  const sa = await superAdminToken(hub);
  [project, other] = await Promise.all([pipelineProject(hub, sa), pipelineProject(hub, sa)]);
});
afterAll(() => hub.close());

const create = (p: PipelineProject, body: Record<string, unknown>) =>
  api(hub, 'POST', '/api/v1/heartbeats', body, { token: p.adminToken });

/** The project's processed events of `type`, with the rules they matched. */
const eventsOf = (p: PipelineProject, type: string) =>
  eventually(
    async () =>
      (await api(hub, 'GET', `/api/v1/events?type=${type}`, undefined, { token: p.adminToken })).body
        .items as Array<{
        status: string;
        payload: Record<string, unknown>;
        matchedRules: string[];
      }>,
    (items) => items.length > 0 && items.every((e) => e.status === 'processed'),
  );

describe('heartbeats', () => {
  it('goes silent once past its deadline, into the rules, and recovers on the next ping', async () => {
    const rule = await createRule(hub, project, {
      condition: 'event.type == "source.silent" || event.type == "source.recovered"',
      targetRoles: [project.roles.admin],
    });
    const created = await create(project, { name: 'nightly-settlement', intervalSeconds: 60 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const beat = created.body as { id: string; dueBy: string; state: string };
    expect(beat.state).toBe('ok');

    const past = new Date(Date.parse(beat.dueBy) + 1);
    const { services } = hub.running;
    expect(await checkHeartbeats(services, new Date(Date.parse(beat.dueBy) - 1))).toBe(0); // not yet
    expect(await checkHeartbeats(services, past)).toBe(1);
    expect(await checkHeartbeats(services, new Date(past.getTime() + 60_000))).toBe(0); // once per silence
    const silent = await eventsOf(project, 'source.silent');
    expect(silent).toHaveLength(1);
    expect(silent[0]!.payload).toMatchObject({
      heartbeatId: beat.id,
      name: 'nightly-settlement',
      intervalSeconds: 60,
    });
    expect(silent[0]!.matchedRules).toEqual([rule.id]);
    const read = await api(hub, 'GET', `/api/v1/heartbeats/${beat.id}`, undefined, {
      token: project.adminToken,
    });
    expect(read.body).toMatchObject({ state: 'silent', silentSince: past.toISOString() });

    const ping = await api(hub, 'POST', `/api/v1/heartbeats/${beat.id}/ping`, undefined, {
      apiKey: project.apiKey,
    });
    expect(ping.status, JSON.stringify(ping.body)).toBe(200);
    expect(ping.body).toMatchObject({ state: 'ok', silentSince: null });
    expect(Date.parse(ping.body.dueBy) - Date.parse(ping.body.lastSeenAt)).toBe(60_000);
    const recovered = await eventsOf(project, 'source.recovered');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]!.payload).toMatchObject({ heartbeatId: beat.id, silentSince: past.toISOString() });
    // A ping while all is well emits nothing.
    await api(hub, 'POST', `/api/v1/heartbeats/${beat.id}/ping`, undefined, { apiKey: project.apiKey });
    expect(await eventsOf(project, 'source.recovered')).toHaveLength(1);

    // Another project's key does not find it; a member without projects:admin cannot list.
    expectError(
      await api(hub, 'POST', `/api/v1/heartbeats/${beat.id}/ping`, undefined, { apiKey: other.apiKey }),
      404,
      'not_found',
    );
    const member = await userWith(hub, project, ['rules:read']);
    expectError(
      await api(hub, 'GET', '/api/v1/heartbeats', undefined, { token: member }),
      403,
      'permission_denied',
    );
  });

  it('refuses intervals outside 60 s–7 days, a taken name and more than the limit', async () => {
    expectError(await create(other, { name: 'a', intervalSeconds: 59 }), 400, 'validation_failed');
    expectError(await create(other, { name: 'a', intervalSeconds: 604_801 }), 400, 'validation_failed');
    expect((await create(other, { name: 'a', intervalSeconds: 604_800 })).status).toBe(201);
    expectError(await create(other, { name: 'a', intervalSeconds: 60 }), 409, 'heartbeat_name_taken');
    for (let i = 1; i < MAX_HEARTBEATS; i += 1)
      expect((await create(other, { name: `b${i}`, intervalSeconds: 60 })).status).toBe(201);
    expectError(await create(other, { name: 'one-too-many', intervalSeconds: 60 }), 409, 'heartbeat_limit');
  });
});
