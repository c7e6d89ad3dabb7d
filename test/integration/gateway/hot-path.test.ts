// No MySQL on the gateway's hot path, with real child processes: a gateway-only process whose
// DATABASE_URL points at a closed port connects, replays, delivers and accepts an ack; an ack
// accepted survives kill -9 of the gateway that took it and of the worker that was writing it, and
// so does an alert taken over the socket (`tocsin:ack` with an alertId).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../../src/core/ids.js';
import { receiptStream } from '../../../src/domain/receipt-stream.js';
import { rebuildReplay } from '../../../src/domain/replay.js';
import { createGatewayApi } from '../../../src/realtime/api.js';
import { CONSUMER_GROUP } from '../../../src/workers/consumer.js';
import { startReceiptWriter } from '../../../src/workers/receipt-changes.js';
import { testEnv } from '../../support/env.js';
import {
  appPath,
  createGatewayProject,
  eventually,
  pusherServer,
  rawSocket,
  type GatewayProject,
  type RawSocket,
} from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { startProxy } from '../../support/proxy.js';
import { freePort, runTocsin, type TocsinProcess } from '../../support/process.js';
import { createUser } from '../inbox/fixtures.js';
import { insertNotifications } from '../inbox/notifications.js';

let hub: TestHub;
let project: GatewayProject;
const children: TocsinProcess[] = [];
const sockets: RawSocket[] = [];

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  await hub.running.prepared;
  project = await createGatewayProject(hub.running.services);
  // A node that served the project once left its copy in Redis (what a gateway needs of MySQL).
  expect(await createGatewayApi(hub.running.services).apps.byKey(project.key)).toBeDefined();
});
afterAll(async () => {
  sockets.forEach((s) => s.ws.close());
  for (const child of children) if (child.child.exitCode === null) child.child.kill('SIGKILL');
  await hub.close();
});

async function start(role: string, env: Record<string, string>, ready: RegExp) {
  const proc = runTocsin(['start', '--role', role], env);
  children.push(proc);
  await proc.waitForOutput(ready);
  return proc;
}

/** A user with one unacknowledged notification in MySQL and in the project's replays. */
async function userWithNotification() {
  const user = await createUser(hub, project.id);
  const [notificationId] = await insertNotifications(hub, project.id, [user.id]);
  await hub.running.services.redis.del(hub.running.services.keys.tagged(project.id, 'replay-ready'));
  await rebuildReplay(hub.running.services, project.id);
  return { userId: user.id, notificationId: notificationId! };
}

/** Connects to a gateway and subscribes to the user's channel, as pusher-js would. */
async function subscribeUser(port: number, userId: string) {
  const socket = rawSocket(port, appPath(project.key));
  sockets.push(socket);
  const channel = `private-user-${userId}`;
  const { auth } = pusherServer('http://127.0.0.1:1', project).authorizeChannel(
    await socket.socketId(),
    channel,
  );
  socket.send({ event: 'pusher:subscribe', data: { channel, auth } });
  await socket.next((f) => f.event === 'pusher_internal:subscription_succeeded', 'subscription');
  return socket;
}

const receipt = (id: string) =>
  hub.running.db.forProject(project.id).notificationReceipt.findFirst({ where: { notificationId: id } });
const streamLength = () => hub.running.services.redis.xlen(receiptStream(hub.running.services, project.id));

describe('the gateway without MySQL', () => {
  it('a gateway-only process with MySQL unreachable connects, replays, delivers and accepts acks', async () => {
    const closed = await freePort();
    const port = await freePort();
    await start(
      'gateway',
      { GATEWAY_PORT: String(port), DATABASE_URL: `mysql://root@127.0.0.1:${closed}/tocsin` },
      /Gateway listening/,
    );
    const { userId, notificationId } = await userWithNotification();
    const socket = await subscribeUser(port, userId);
    const replayed = await socket.next((f) => f.event === 'notification', 'the replayed notification');
    expect(replayed.data).toMatchObject({ id: notificationId, title: 'Alert 0' });

    const live = socket.next((f) => f.event === 'notification' && f.data.id === 'live-1', 'a live event');
    await createGatewayApi(hub.running.services).deliverToUser(
      project.id,
      userId,
      'notification',
      JSON.stringify({ id: 'live-1' }),
    );
    await live;

    const before = await streamLength();
    socket.send({ event: 'tocsin:ack', data: { id: notificationId } });
    await eventually(async () => (await streamLength()) > before, 'the ack is in the receipt stream');
    // Alert actions too are accepted without MySQL (the worker decides whether the user may).
    const beforeAlert = await streamLength();
    socket.send({ event: 'tocsin:resolve', data: { alertId: uuidv7() } });
    await eventually(
      async () => (await streamLength()) > beforeAlert,
      'the resolve is in the receipt stream',
    );
    expect(socket.frames.some((f) => f.event === 'pusher:error')).toBe(false);
    // The worker role (here, in the test process, with MySQL) writes it.
    const writer = startReceiptWriter(hub.running.services, { blockMs: 50 });
    try {
      await eventually(
        async () => Boolean((await receipt(notificationId))?.acknowledgedAt),
        'the receipt is acknowledged',
      );
    } finally {
      await writer.close();
    }
    expect(await receipt(notificationId)).toMatchObject({ readAt: expect.any(Date), channel: 'gateway' });
  });

  /**
   * Sends `frame` to a gateway child while the worker child cannot reach MySQL, kills -9 the
   * gateway once the frame is in the receipt stream (an entry of `kind` naming `id`) and the
   * worker once it holds the entry; another worker must then apply it (`applied`).
   */
  async function survivesKills(
    userId: string,
    frame: { event: string; data: unknown },
    entry: { kind: string; id: string },
    applied: () => Promise<boolean>,
  ) {
    const { redis } = hub.running.services;
    const mysql = new URL(testEnv().DATABASE_URL!);
    const proxy = await startProxy({ host: mysql.hostname, port: Number(mysql.port || 3306) });
    const gatewayPort = await freePort();
    const gateway = await start('gateway', { GATEWAY_PORT: String(gatewayPort) }, /Gateway listening/);
    // The worker reaches MySQL through the proxy; it retries only after a minute, never dead-letters.
    mysql.port = String(proxy.port);
    const worker = await start(
      'worker',
      { DATABASE_URL: mysql.toString(), EVENT_CLAIM_IDLE_MS: '60000', EVENT_MAX_ATTEMPTS: '100' },
      /Tocsin is running/,
    );
    await proxy.cut(); // from here the worker reads the stream but cannot write MySQL

    const socket = await subscribeUser(gatewayPort, userId);
    await socket.next((f) => f.event === 'notification', 'the replayed notification');
    const stream = receiptStream(hub.running.services, project.id);
    const accepted = async () =>
      ((await redis.xrange(stream, '-', '+')) as Array<[string, string[]]>).filter(
        ([, f]) => f.includes(entry.kind) && f.includes(entry.id),
      );
    socket.send(frame);
    await eventually(async () => (await accepted()).length === 1, `${frame.event} is accepted`);
    gateway.child.kill('SIGKILL');
    await gateway.exited;

    const [taken] = await accepted();
    const pendingOf = async () =>
      (await redis.xpending(stream, CONSUMER_GROUP, '-', '+', 100)) as Array<
        [string, string, number, number]
      >;
    await eventually(
      async () => (await pendingOf()).some(([id]) => id === taken![0]),
      'the worker took the entry (pending)',
    );
    expect(await applied()).toBe(false);
    worker.child.kill('SIGKILL');
    await worker.exited;

    // Another worker takes over what the dead one held.
    const writer = startReceiptWriter(hub.running.services, { blockMs: 50, claimIdleMs: 200 });
    try {
      await eventually(applied, `${frame.event} is applied`, 20_000);
    } finally {
      await writer.close();
      await proxy.close();
    }
    expect((await pendingOf()).some(([id]) => id === taken![0])).toBe(false);
  }

  it('an accepted ack survives kill -9 of the gateway and of the worker writing it', async () => {
    const { redis, keys } = hub.running.services;
    const { userId, notificationId } = await userWithNotification();
    await survivesKills(
      userId,
      { event: 'tocsin:ack', data: { id: notificationId } },
      { kind: 'ack', id: notificationId },
      async () => Boolean((await receipt(notificationId))?.acknowledgedAt),
    );
    expect(await redis.zscore(keys.tagged(project.id, 'replay', userId), notificationId)).toBeNull();
  });

  it('an alert taken over the socket survives kill -9 of the gateway and of the worker', async () => {
    const { userId, notificationId } = await userWithNotification();
    const db = hub.running.db.forProject(project.id);
    const alert = await db.alert.create({
      data: {
        projectId: project.id,
        dedupKey: notificationId,
        title: 't',
        body: 'b',
        lastEventAt: new Date(),
      },
    });
    await db.notification.update({ where: { id: notificationId }, data: { alertId: alert.id } });
    const status = async () => (await db.alert.findFirstOrThrow({ where: { id: alert.id } })).status;
    await survivesKills(
      userId,
      { event: 'tocsin:ack', data: { alertId: alert.id } },
      { kind: 'alert-ack', id: alert.id },
      async () => (await status()) === 'acknowledged',
    );
    expect(await db.alert.findFirstOrThrow({ where: { id: alert.id } })).toMatchObject({
      acknowledgedBy: userId,
    });
  });
});
