// A frame fuzzer: raw WebSocket frames a broken or hostile client might send (invalid JSON,
// wrong types, huge, deep, unknown events, prototype keys), from a fixed seed. Every refusal is
// a pusher:error with a Pusher code (4000-4399) or a close with 4000-4299, and the gateway keeps
// serving: after each frame a ping is answered, and new connections are accepted at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../../src/core/pusher/protocol.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { int, pick, seededRandom, type Random } from '../../support/random.js';
import {
  appPath,
  createGatewayProject,
  rawSocket,
  within,
  type GatewayProject,
  type RawSocket,
} from '../../support/gateway.js';

const SEED = 17;
const FRAMES = 400;

let hub: TestHub;
let project: GatewayProject;

beforeAll(async () => {
  hub = await startHub({}, ['gateway']);
  await hub.running.prepared;
  project = await createGatewayProject(hub.running.services, { settings: { clientEvents: true } });
});
afterAll(() => hub.close());

const EVENTS = [
  'pusher:subscribe',
  'pusher:unsubscribe',
  'pusher:signin',
  'pusher:ping',
  'pusher:pong',
  'pusher:frobnicate',
  'client-x',
  'tocsin:ack',
  '__proto__',
  'constructor',
  '',
];
const CHANNELS = [
  'public',
  'private-x',
  'presence-x',
  'private-encrypted-x',
  'private-user-1',
  '#bad',
  'x'.repeat(200),
];
const VALUES: unknown[] = [
  null,
  0,
  -1,
  1e308,
  true,
  '',
  'x',
  [],
  {},
  [1, [2]],
  { channel: 1 },
  { auth: 'a:b' },
];

const deep = (random: Random) => {
  const depth = 100 + int(random, 5000);
  return '{"event":"pusher:subscribe","data":' + '['.repeat(depth) + ']'.repeat(depth) + '}';
};

/** One fuzzed frame: a string sent as a text frame. */
function frame(random: Random): string {
  switch (int(random, 9)) {
    case 0: // not JSON, or truncated
      return pick(random, ['{', '{"event":', 'nul', '\u0000', '{"event":"pusher:ping"', '}{', '\ud800']);
    case 1: // JSON, but not an object with a string event
      return JSON.stringify(
        pick(random, [null, 1, 'pusher:ping', [1, 2], { event: 1 }, { event: null }, { data: {} }]),
      );
    case 2: // a known event with data of the wrong type
      return JSON.stringify({ event: pick(random, EVENTS), data: pick(random, VALUES) });
    case 3: // subscribe attempts with bad or unsigned channels
      return JSON.stringify({
        event: 'pusher:subscribe',
        data: {
          channel: pick(random, CHANNELS),
          auth: pick(random, ['', 'k:sig', 'x'.repeat(300)]),
          channel_data: pick(random, ['{', '{}', '[]']),
        },
      });
    case 4: // huge: past the frame limit, below the hard limit uWS enforces
      return JSON.stringify({
        event: 'pusher:ping',
        data: 'x'.repeat(LIMITS.frameBytes + int(random, LIMITS.hardFrameBytes - LIMITS.frameBytes - 100)),
      });
    case 5:
      return deep(random);
    case 6: // prototype keys
      return '{"event":"client-x","channel":"private-x","data":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}}';
    case 7: // client events on channels not subscribed to, with odd data
      return JSON.stringify({
        event: `client-${int(random, 1000)}`,
        channel: pick(random, CHANNELS),
        data: pick(random, VALUES),
      });
    default: // unknown events
      return JSON.stringify({ event: `x-${int(random, 1e6)}`, data: pick(random, VALUES) });
  }
}

async function open(): Promise<RawSocket> {
  const socket = rawSocket(hub.gatewayPort, appPath(project.key));
  await socket.socketId();
  return socket;
}

describe('gateway frame fuzzer', () => {
  it(`answers ${FRAMES} fuzzed frames with Pusher codes and keeps serving`, async () => {
    const random = seededRandom(SEED);
    let socket = await open();
    const closes: number[] = [];
    for (let i = 0; i < FRAMES; i++) {
      const sent = frame(random);
      const before = socket.frames.length;
      socket.send(sent);
      socket.send({ event: 'pusher:ping', data: {} });
      const outcome = await within(
        Promise.race([
          socket.next((f) => f.event === 'pusher:pong', 'pong').then(() => null),
          socket.closed.then((c) => c.code),
        ]),
        `the answer to frame ${i}: ${sent.slice(0, 120)}`,
      );
      for (const reply of socket.frames.slice(before)) {
        if (reply.event !== 'pusher:error') continue;
        expect(reply.data.code, `frame ${i}: ${sent.slice(0, 120)}`).toBeGreaterThanOrEqual(4000);
        expect(reply.data.code).toBeLessThan(4400);
      }
      if (outcome !== null) {
        closes.push(outcome);
        expect(outcome, `close after frame ${i}: ${sent.slice(0, 120)}`).toBeGreaterThanOrEqual(4000);
        expect(outcome).toBeLessThan(4300);
        socket = await open();
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const fresh = await open();
    fresh.send({ event: 'pusher:ping', data: {} });
    await fresh.next((f) => f.event === 'pusher:pong', 'pong on a fresh socket');
    fresh.ws.close();
    socket.ws.close();
  }, 60_000);
});
