// An acknowledgement over the socket goes through the project's receipt stream and is written by
// the worker; it must take the alert as the REST ack does (escalation stops), the alert events
// (`tocsin:ack` / `tocsin:resolve` with an alertId) go the same way with the same access rule, and
// a taken alert's pages must no longer be replayed from Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timerKey, timerMember } from '../../../src/domain/alerting/timer.js';
import { receiptStream } from '../../../src/domain/receipt-stream.js';
import { readReplay } from '../../../src/domain/replay.js';
import { api, createTestProject, superAdminToken, type TestProject } from '../../support/api.js';
import { appPath, eventually, pusherServer, rawSocket, type RawSocket } from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { awaitAlert, awaitEntries, dueNow, entriesOf, person, postEvent, steppedRule } from './support.js';

let hub: TestHub;
let project: TestProject;
const sockets: RawSocket[] = [];

beforeAll(async () => {
  hub = await startHub();
  const saToken = await superAdminToken(hub);
  project = await createTestProject(hub, saToken, { settings: { delivery: { usePusher: false } } });
});
afterAll(async () => {
  sockets.forEach((s) => s.ws.close());
  await hub.close();
});

async function subscribeUser(userId: string) {
  const socket = rawSocket(hub.gatewayPort, appPath(project.gateway.key));
  sockets.push(socket);
  const channel = `private-user-${userId}`;
  const signer = pusherServer('http://127.0.0.1:1', { id: project.id, ...project.gateway });
  const { auth } = signer.authorizeChannel(await socket.socketId(), channel);
  socket.send({ event: 'pusher:subscribe', data: { channel, auth } });
  await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded', 'subscription');
  return socket;
}

describe('alert acknowledged over the socket', () => {
  it('tocsin:ack of an alert notification takes the alert and no later step fires', async () => {
    const [ann, bob] = [await person(hub, project), await person(hub, project)];
    const type = `socket-ack.${Date.now()}`;
    const policy = await steppedRule(hub, project, type, [ann.id, bob.id]);
    await postEvent(hub, project, type, {});
    const alert = await awaitAlert(hub, project.id, { policyId: policy.id });
    await awaitEntries(hub, project.id, alert.id, 'notified', 1);

    const socket = await subscribeUser(ann.id);
    const page = await socket.next((f) => f.event === 'notification', 'the replayed page');
    const notificationId = (page.data as { id: string }).id;
    socket.send({ event: 'tocsin:ack', data: { id: notificationId } });

    const db = hub.running.db.forProject(project.id);
    await eventually(
      async () => (await db.alert.findFirst({ where: { id: alert.id } }))?.status === 'acknowledged',
      'the worker applies the socket ack to the alert',
    );
    expect(await db.alert.findFirst({ where: { id: alert.id } })).toMatchObject({
      acknowledgedBy: ann.id,
      nextStepAt: null,
    });
    expect(
      await db.notificationReceipt.findFirst({ where: { notificationId, userId: ann.id } }),
    ).toMatchObject({ acknowledgedAt: expect.any(Date) });

    // A stale timer entry fires nothing more: bob is never paged.
    const { redis, keys } = hub.running.services;
    await dueNow(hub, project.id, alert.id);
    await eventually(
      async () => (await redis.zscore(timerKey(keys), timerMember(project.id, alert.id))) === null,
      'the worker drops the stale timer entry',
    );
    expect(await entriesOf(hub, project.id, alert.id, 'notified')).toHaveLength(1);
    expect(await db.notificationReceipt.count({ where: { userId: bob.id } })).toBe(0);
  });

  it('tocsin:ack and tocsin:resolve with an alertId go through the receipt stream, with access', async () => {
    const [ann, bob] = [await person(hub, project), await person(hub, project)];
    const type = `socket-alert.${Date.now()}`;
    const policy = await steppedRule(hub, project, type, [ann.id, bob.id]);
    await postEvent(hub, project, type, {});
    const alert = await awaitAlert(hub, project.id, { policyId: policy.id });
    await awaitEntries(hub, project.id, alert.id, 'notified', 1);
    const annSocket = await subscribeUser(ann.id);
    const bobSocket = await subscribeUser(bob.id);
    const { redis } = hub.running.services;
    const stream = receiptStream(hub.running.services, project.id);
    const entries = async (kind: string) =>
      ((await redis.xrange(stream, '-', '+')) as Array<[string, string[]]>).filter(
        ([, fields]) => fields.includes(kind) && fields.includes(alert.id),
      );

    // Bob was not paged (step 2 never came): his resolve is accepted, then refused by the worker.
    bobSocket.send({ event: 'tocsin:resolve', data: { alertId: alert.id } });
    await eventually(
      async () => (await entries('alert-resolve')).length === 1,
      'the resolve of bob accepted',
    );
    annSocket.send({ event: 'tocsin:ack', data: { alertId: alert.id } });
    expect(await entries('alert-resolve')).toHaveLength(1);
    const db = hub.running.db.forProject(project.id);
    const alertRow = () => db.alert.findFirstOrThrow({ where: { id: alert.id } });
    await eventually(async () => (await alertRow()).status === 'acknowledged', 'the ack of ann applied');
    expect(await alertRow()).toMatchObject({ acknowledgedBy: ann.id, resolvedAt: null });

    annSocket.send({ event: 'tocsin:resolve', data: { alertId: alert.id } });
    await eventually(async () => (await alertRow()).status === 'resolved', 'the resolve of ann applied');
    expect(await alertRow()).toMatchObject({ resolvedBy: ann.id });
    expect([...annSocket.frames, ...bobSocket.frames].filter((f) => f.event === 'pusher:error')).toEqual([]);
  });

  it('a page of an alert acknowledged elsewhere is not replayed to the others it reached', async () => {
    const [ann, bob] = [await person(hub, project), await person(hub, project)];
    const type = `socket-forget.${Date.now()}`;
    const policy = await steppedRule(hub, project, type, [ann.id, bob.id]);
    await postEvent(hub, project, type, {});
    const alert = await awaitAlert(hub, project.id, { policyId: policy.id });
    await awaitEntries(hub, project.id, alert.id, 'notified', 1);
    await dueNow(hub, project.id, alert.id);
    await awaitEntries(hub, project.id, alert.id, 'notified', 2);

    const replayOf = async (userId: string) =>
      (await readReplay(hub.running.services, project.id, userId)).items.map((item) => item.id);
    const [annPage] = await hub.running.db
      .forProject(project.id)
      .notificationReceipt.findMany({ where: { userId: ann.id } });
    expect(await replayOf(ann.id)).toEqual([annPage!.notificationId]);

    // Bob takes it by REST: ann, offline all along, is no longer replayed the step-1 page.
    const bobs = await hub.running.db
      .forProject(project.id)
      .notificationReceipt.findFirstOrThrow({ where: { userId: bob.id } });
    const res = await api(hub, 'PUT', `/api/v1/notifications/${bobs.notificationId}/acknowledge`, undefined, {
      token: bob.token,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await replayOf(ann.id)).toEqual([]);
    expect(await replayOf(bob.id)).toEqual([]);
  });
});
