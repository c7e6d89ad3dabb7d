// Ingest cost: autocannon on POST /api/v1/events (API key, rate limit, validation, append to the
// Redis stream) against a bare Hono endpoint that answers 202 without reading anything, in the
// same process and the same run; GET /health on the hub shows what its shared middleware costs
// alone. Run with `npm run bench:ingest`; prints a markdown table. Needs the local MariaDB and Redis.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { benchProject, fire, formatInt, startBenchHub, type Load } from './hub.js';

// Alternating short rounds: on a shared 2-core machine the load of the moment hits every side.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_S = 3;
const CONNECTIONS = 50;

const hub = await startBenchHub(['api']);
const project = await benchProject(hub);
const { redis, keys } = hub.running.services;
const stream = keys.projectStream(project.id);

const bare = new Hono();
bare.post('/events', (c) => c.json({ id: '00000000-0000-7000-8000-000000000000' }, 202));
const bareServer = serve({ fetch: bare.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
await new Promise((resolve) => bareServer.once('listening', resolve));
const barePort = (bareServer.address() as AddressInfo).port;

const body = JSON.stringify({
  type: 'transfer.failed',
  payload: { amount: 12000, account: 'FR76-3000-6000-0112-3456-7890-189', reason: 'insufficient funds' },
  source: 'core-banking',
});
const sides = {
  bare: { url: `http://127.0.0.1:${barePort}/events`, method: 'POST' as const, body },
  health: { url: `${hub.url}/health` },
  ingest: {
    url: `${hub.url}/api/v1/events`,
    method: 'POST' as const,
    body,
    headers: { 'content-type': 'application/json', 'x-api-key': project.apiKey },
  },
};
type Side = keyof typeof sides;
const options = { connections: CONNECTIONS, duration: ROUND_S };

// Warm-up (JIT, connection pools), then measure.
for (const side of Object.values(sides)) await fire({ ...side, ...options, duration: 2 });
await redis.del(stream);

const rounds: Array<Record<Side, Load>> = [];
for (let i = 0; i < ROUNDS; i++) {
  const round = {} as Record<Side, Load>;
  for (const side of Object.keys(sides) as Side[]) round[side] = await fire({ ...sides[side], ...options });
  rounds.push(round);
}
const total = (side: Side): Load => {
  const loads = rounds.map((r) => r[side]);
  const requests = loads.reduce((sum, l) => sum + l.requests, 0);
  return {
    requests,
    perSecond: requests / (ROUNDS * ROUND_S),
    p50: median(loads.map((l) => l.p50)),
    p99: median(loads.map((l) => l.p99)),
    non2xx: loads.reduce((sum, l) => sum + l.non2xx, 0),
    errors: loads.reduce((sum, l) => sum + l.errors, 0),
  };
};
const [bareLoad, healthLoad, ingestLoad] = [total('bare'), total('health'), total('ingest')];
// Requests still in flight when a round ends are appended but not counted as answered.
const queued = await redis.xlen(stream);
const lost = queued < ingestLoad.requests;

const row = (name: string, load: Load) =>
  `| ${name} | ${formatInt(load.requests)} | ${formatInt(load.perSecond)} | ${load.p50} | ${load.p99} | ` +
  `${(load.perSecond / bareLoad.perSecond).toFixed(3)}× |`;
console.log(
  `\n${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${ROUND_S} s per endpoint, body ${body.length} bytes\n`,
);
console.log('| endpoint | 2xx | requests/s | p50 ms (median) | p99 ms (median) | vs bare |');
console.log('|---|---:|---:|---:|---:|---:|');
console.log(row('bare Hono, 202', bareLoad));
console.log(row('GET /health (the hub, all its middleware)', healthLoad));
console.log(row('POST /api/v1/events', ingestLoad));
console.log(
  `\nstream entries: ${formatInt(queued)} for ${formatInt(ingestLoad.requests)} answers 202 ` +
    `(non-2xx ${ingestLoad.non2xx}, errors ${ingestLoad.errors})${lost ? ' — EVENTS LOST' : ''}`,
);

await redis.del(stream);
await redis.srem(keys.activeStreams(), project.id);
await new Promise((resolve) => bareServer.close(resolve));
await hub.close();
if (lost) process.exitCode = 1;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
