// An API fuzzer: every operation of the OpenAPI document, from a fixed seed, with malformed,
// truncated, empty, oversize, deep, lone-surrogate, prototype-key and wrongly typed bodies and
// odd path ids, without credentials and with the ones the operation declares. Every answer is
// below 500, every 4xx carries the error body, and the process still serves at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestProject, superAdminToken, type TestProject } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { int, pick, seededRandom, type Random } from '../../support/random.js';

const SEED = 9;
const BODY_LIMIT = 16 * 1024;
/** Bodies per operation and credential (anonymous: fewer, most answers are 401): bounds the time. */
const PER_CREDENTIAL = 5;
const PER_ANONYMOUS = 2;
const CONCURRENCY = 4;

let hub: TestHub;
let sa: string;
let project: TestProject;

beforeAll(async () => {
  hub = await startHub({ BODY_LIMIT_BYTES: String(BODY_LIMIT) }, ['api']);
  sa = await superAdminToken(hub);
  project = await createTestProject(hub, sa);
});
afterAll(() => hub.close());

type Body = { type: string; text: string };
const json = (text: string): Body => ({ type: 'application/json', text });
const BODIES: Body[] = [
  json('{"name":'),
  json(''),
  json('[1,2'),
  json('null'),
  json('[]'),
  json('"text"'),
  json('12'),
  json('['.repeat(30_000) + ']'.repeat(30_000)),
  json('{"name":"\\ud800","email":"a@b.c","x":"\\udfff"}'),
  json('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"prototype":{}}'),
  json(`{"name":"${'x'.repeat(BODY_LIMIT)}"}`),
  {
    type: 'multipart/form-data; boundary=zz',
    text: '--zz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb',
  },
  { type: 'application/x-www-form-urlencoded', text: '__proto__[polluted]=1&socket_id=%zz' },
  { type: 'text/plain', text: '\u0000\ud800' },
];
const IDS = [
  '00000000-0000-4000-8000-000000000000',
  'not-a-uuid',
  '0190A0C4-7B1E-7C3D-9F00-00000000000A',
  '..%2F..',
  '%00',
  'x'.repeat(300),
];

type Operation = { method: string; path: string; security: string[] };

type DocOperation = {
  security?: Array<Record<string, unknown>>;
  responses?: Record<string, { content?: Record<string, unknown> }>;
};

/** An endless stream (the console's live view) never answers in full: its own test covers it. */
const isStream = (op: DocOperation) =>
  Object.values(op.responses ?? {}).some((r) => 'text/event-stream' in (r.content ?? {}));

async function operations(): Promise<Operation[]> {
  const doc = (await api(hub, 'GET', '/api/v1/openapi.json')).body as {
    paths: Record<string, Record<string, DocOperation>>;
  };
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([, op]) => !isStream(op))
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        security: (op.security ?? []).flatMap((requirement) => Object.keys(requirement)),
      })),
  );
}

function credentials(scheme: string | undefined): Record<string, string> {
  if (scheme === 'bearerAuth') return { Authorization: `Bearer ${project.adminToken}` };
  if (scheme === 'superAdmin') return { Authorization: `Bearer ${sa}`, 'X-Project-Id': project.id };
  if (scheme === 'apiKey') return { 'X-API-Key': project.apiKey };
  return {};
}

/** `count` different bodies, chosen by the seed. */
function sample(random: Random, count: number): Body[] {
  const pool = [...BODIES];
  return Array.from({ length: count }, () => pool.splice(int(random, pool.length), 1)[0]!);
}

type Case = { op: Operation; scheme?: string; body?: Body; path: string };

/** What is wrong with the answer to one case, or null. */
async function problem({ op, scheme, body, path }: Case): Promise<string | null> {
  const res = await fetch(`${hub.apiUrl}${path}`, {
    method: op.method,
    headers: { ...credentials(scheme), ...(body ? { 'Content-Type': body.type } : {}) },
    body: body?.text,
  });
  const text = await res.text();
  const what = `${op.method} ${path} (${scheme ?? 'anonymous'}, ${body?.type} ${body?.text.slice(0, 40)}): ${res.status} ${text.slice(0, 200)}`;
  if (res.status >= 500) return what;
  if (res.status < 400) return null;
  let error: { code?: unknown; message?: unknown; requestId?: unknown } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {
    // not JSON: reported below
  }
  const shaped =
    typeof error?.code === 'string' &&
    typeof error.message === 'string' &&
    typeof error.requestId === 'string';
  return shaped ? null : `no error body: ${what}`;
}

describe('API fuzzer', () => {
  it('answers every operation of the OpenAPI document with < 500 and the error body', async () => {
    const random = seededRandom(SEED);
    const ops = await operations();
    expect(ops.length).toBeGreaterThan(50);
    const cases: Case[] = ops.flatMap((op) =>
      [undefined, ...new Set(op.security)].flatMap((scheme) => {
        const bodies = ['GET', 'HEAD'].includes(op.method)
          ? [undefined]
          : sample(random, scheme || !op.security.length ? PER_CREDENTIAL : PER_ANONYMOUS);
        return bodies.map((body) => ({
          op,
          scheme,
          body,
          path: op.path.replace(/\{[^}]+\}/g, () => pick(random, IDS)),
        }));
      }),
    );
    // Operations that end the caller's session or replace its API key run last (after the others).
    const ending = (c: Case) => /logout|password|api-key/.test(c.op.path);
    const failures: string[] = [];
    for (const group of [cases.filter((c) => !ending(c)), cases.filter(ending)]) {
      const queue = [...group];
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let next = queue.shift(); next; next = queue.shift()) {
            const found = await problem(next);
            if (found) failures.push(found);
          }
        }),
      );
    }
    expect(failures).toEqual([]);
    expect(cases.length).toBeGreaterThan(300);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await api(hub, 'GET', '/health')).status).toBe(200);
    // Budget: about a thousand requests, 4 at a time, ~30 s alone; beside the rest of the suite
    // on 2 cores a request takes up to ~0.5 s.
  }, 300_000);
});
