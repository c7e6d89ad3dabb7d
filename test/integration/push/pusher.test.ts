import Pusher from 'pusher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PusherCredentials } from '../../../src/domain/provider-credentials.js';
import { createPusherSender, type PusherEvent, type PusherSender } from '../../../src/workers/push/pusher.js';
import { startFakePusher, type FakePusher, type PusherApp } from '../../support/fakes/pusher.js';

let fake: FakePusher;
let sender: PusherSender;
beforeAll(async () => {
  fake = await startFakePusher();
  sender = createPusherSender({ allowPrivate: true });
});
afterAll(async () => {
  await sender.close();
  await fake.close();
});

const credentialsOf = (app: PusherApp): PusherCredentials => ({
  ...app,
  host: fake.host,
  port: fake.port,
  useTLS: false,
});
const events = (count: number, prefix = 'e'): PusherEvent[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`,
    channel: `private-user-${i}`,
    name: 'notification',
    data: { notificationId: `n${i}`, title: 'Transfer failed' },
  }));
const batchesOf = (app: PusherApp) => fake.batches.filter((b) => b.appId === app.appId);

describe('hosted Pusher sender', () => {
  it('sends signed batch triggers of at most 10 events', async () => {
    const app = fake.app();
    const results = await sender.trigger('p-batch', credentialsOf(app), events(23));
    expect(results).toEqual(events(23).map((e) => ({ id: e.id, outcome: 'delivered' })));
    const batches = batchesOf(app);
    expect(batches.map((b) => b.events.length).sort()).toEqual([10, 10, 3]);
    const sent = batches.flatMap((b) => b.events).find((e) => e.channel === 'private-user-7');
    expect(sent).toEqual({
      channel: 'private-user-7',
      name: 'notification',
      data: JSON.stringify({ notificationId: 'n7', title: 'Transfer failed' }),
    });
  });

  it('reports a wrong secret as provider_unhealthy', async () => {
    const app = fake.app();
    const results = await sender.trigger('p-secret', { ...credentialsOf(app), secret: 'wrong' }, events(2));
    expect(results).toEqual([
      { id: 'e0', outcome: 'provider_unhealthy', error: 'Pusher answered 401' },
      { id: 'e1', outcome: 'provider_unhealthy', error: 'Pusher answered 401' },
    ]);
    expect(batchesOf(app)).toEqual([]);
  });

  it('retries a 5xx and rejects a payload Pusher refuses', async () => {
    const credentials = credentialsOf(fake.app());
    fake.failNext(503);
    expect((await sender.trigger('p-fail', credentials, events(1)))[0]).toMatchObject({ outcome: 'retry' });
    fake.failNext(413);
    expect((await sender.trigger('p-fail', credentials, events(1)))[0]).toMatchObject({
      outcome: 'rejected',
    });
    expect((await sender.trigger('p-fail', credentials, events(1)))[0]).toEqual({
      id: 'e0',
      outcome: 'delivered',
    });
  });

  it("refuses an event over Pusher's 10 KB alone, sending the rest of its batch", async () => {
    const app = fake.app();
    const [small, large, other] = events(3, 'big');
    const oversize = { ...large!, data: 'x'.repeat(10 * 1024 + 1) };
    const atLimit = { ...other!, data: 'y'.repeat(10 * 1024) };
    const results = await sender.trigger('p-big', credentialsOf(app), [small!, oversize, atLimit]);
    expect(results).toEqual([
      { id: 'big0', outcome: 'delivered' },
      { id: 'big1', outcome: 'rejected', error: "Event data over Pusher's limit of 10240 bytes" },
      { id: 'big2', outcome: 'delivered' },
    ]);
    expect(batchesOf(app).flatMap((b) => b.events.map((e) => e.channel))).toEqual([
      small!.channel,
      atLimit.channel,
    ]);
  });

  it('refuses to connect to a private host unless private targets are allowed, by IP or by name', async () => {
    // Credentials stored before the host was checked, or a name re-pointed since: the sender
    // judges the address it is about to connect to.
    const guarded = createPusherSender({ allowPrivate: false });
    try {
      for (const host of [fake.host, 'localhost']) {
        const app = fake.app();
        const results = await guarded.trigger('p-ssrf', { ...credentialsOf(app), host }, events(1));
        expect(results).toEqual([
          {
            id: 'e0',
            outcome: 'provider_unhealthy',
            error: 'Pusher host is a private, loopback or reserved address',
          },
        ]);
        expect(batchesOf(app)).toEqual([]);
      }
    } finally {
      await guarded.close();
    }
  });

  it('rebuilds the client when the credentials change', async () => {
    const first = fake.app();
    const second = fake.app();
    await sender.trigger('p-rotate', credentialsOf(first), events(1));
    await sender.trigger('p-rotate', credentialsOf(second), events(1));
    expect(batchesOf(first)).toHaveLength(1);
    expect(batchesOf(second)).toHaveLength(1);
  });
});

describe('the fake, as hosted Pusher', () => {
  it('accepts event data of 10 KB and refuses a batch with one byte more with 413', async () => {
    // Sent by the official SDK, not by Tocsin's sender: the fake's limit on its own.
    const app = fake.app();
    const sdk = new Pusher({ ...app, host: fake.host, port: String(fake.port), useTLS: false });
    const event = (data: string) => ({ channel: 'c', name: 'e', data });
    await expect(sdk.triggerBatch([event('x'.repeat(10 * 1024))])).resolves.toMatchObject({ status: 200 });
    await expect(sdk.triggerBatch([event('a'), event('x'.repeat(10 * 1024 + 1))])).rejects.toMatchObject({
      status: 413,
    });
    expect(batchesOf(app).map((b) => b.events.length)).toEqual([1]);
  });
});
