// The isolation test that cannot rot, over HTTP: every route in /api/v1/openapi.json that takes a
// project credential (bearer token or API key) is called with project B's credentials against
// project A's resources. B must never see A's data or counts, never change A, and never store a
// reference to A. A route added later is covered automatically — and fails here until it is given
// an entry in ROUTES below (which A resource fills its path parameters).
// DEBUG_XT=1 prints every call and its answer.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TENANT_MODELS } from '../../../src/core/db.js';
import {
  ADMIN_PASSWORD,
  api,
  createTestProject,
  superAdminToken,
  type TestProject,
} from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { createRow, delegateName, primaryKeyFields, readDmmf } from '../../support/models.js';
import { activeUser, login, registerUser, type TestUser } from './helpers.js';

/** A resource of project A: one of the seeded kinds below, or any Prisma model (a row is made). */
type Kind = 'User' | 'PendingUser' | 'Role' | 'Device' | 'Random' | string;

interface RouteEntry {
  /** Path parameter → the kind of A resource whose id fills it. */
  params?: Record<string, Kind>;
  /** Query parameters → the kind of A resource whose id is sent (GET routes). */
  query?: Record<string, Kind>;
  /** Request bodies by method; default: the schema's example from the document, else {}. */
  body?: Partial<Record<string, (a: SeedOfA) => unknown>>;
  /** The call ends B's session (logout): log B in again afterwards. */
  endsSession?: true;
  /** The call replaces B's API key (its answer holds the new one): use that one afterwards. */
  replacesApiKey?: true;
  /** Not called here, and why (an endless stream: its own test covers its isolation). */
  elsewhere?: string;
}

/**
 * Every project-credential route, by path pattern. A route missing here fails the test: add its
 * path with the kind of A resource for each path parameter (a Prisma model name works: a row of
 * it is created in A), and a body that points at A's resources where one makes sense.
 */
const ROUTES: Record<string, RouteEntry> = {
  '/api/v1/auth/logout': { endsSession: true, body: { post: () => ({}) } },
  '/api/v1/auth/console/logout': { endsSession: true },
  '/api/v1/live': { elsewhere: 'an endless event stream: test/integration/console.test.ts' },
  '/api/v1/auth/change-password': {
    endsSession: true,
    body: { post: () => ({ currentPassword: ADMIN_PASSWORD, newPassword: 'Another-password-77' }) },
  },
  '/api/v1/users': { query: { role: 'Role' } },
  '/api/v1/users/pending': {},
  '/api/v1/users/me': { body: { put: () => ({ fullName: 'B renamed' }) } },
  '/api/v1/users/me/push-tokens': {
    body: { put: (a) => ({ platform: a.device.platform, token: a.device.token }) },
  },
  '/api/v1/users/me/push-tokens/{id}': { params: { id: 'Device' } },
  // B asks to sign A's user channel and B's own identity: never A's.
  '/api/v1/users/me/pusher-auth': {
    body: { post: (a) => ({ socket_id: '1.2', channel_name: `private-user-${a.ids.User}` }) },
  },
  '/api/v1/users/me/pusher-user-auth': { body: { post: () => ({ socket_id: '1.2' }) } },
  // The caller's own project: B reads, changes and re-keys B, whatever X-Project-Id says.
  '/api/v1/project': {},
  '/api/v1/project/api-key': { replacesApiKey: true },
  '/api/v1/providers': {},
  '/api/v1/providers/fcm': {},
  '/api/v1/providers/apns': {},
  '/api/v1/providers/pusher': {},
  '/api/v1/users/{id}': { params: { id: 'User' } },
  '/api/v1/users/{id}/approve': {
    params: { id: 'PendingUser' },
    body: { post: (a) => ({ roleIds: [a.ids.Role] }) },
  },
  '/api/v1/users/{id}/reject': { params: { id: 'PendingUser' } },
  '/api/v1/users/{id}/roles': { params: { id: 'User' }, body: { put: (a) => ({ roleIds: [a.ids.Role] }) } },
  '/api/v1/users/{id}/status': { params: { id: 'User' }, body: { put: () => ({ status: 'suspended' }) } },
  '/api/v1/roles': { body: { post: (a) => ({ name: a.roleName, permissions: ['audit:read'] }) } },
  '/api/v1/roles/permissions': {},
  '/api/v1/roles/{id}': {
    params: { id: 'Role' },
    body: { put: () => ({ name: 'taken-over', permissions: [] }) },
  },
  '/api/v1/alerts': {},
  '/api/v1/alerts/{id}': { params: { id: 'Alert' } },
  '/api/v1/alerts/{id}/acknowledge': { params: { id: 'Alert' } },
  '/api/v1/alerts/{id}/resolve': { params: { id: 'Alert' } },
  '/api/v1/escalation-policies': {},
  '/api/v1/escalation-policies/{id}': { params: { id: 'EscalationPolicy' } },
  '/api/v1/schedules': {},
  '/api/v1/schedules/{id}': { params: { id: 'Schedule' } },
  '/api/v1/schedules/{id}/on-call': { params: { id: 'Schedule' } },
  '/api/v1/schedules/{id}/calendar.ics': { params: { id: 'Schedule' } },
  '/api/v1/schedules/{id}/overrides': { params: { id: 'Schedule' } },
  '/api/v1/schedules/{id}/overrides/{overrideId}': {
    params: { id: 'Schedule', overrideId: 'ScheduleOverride' },
  },
  '/api/v1/audit': { query: { userId: 'User' } },
  '/api/v1/audit/export': { query: { userId: 'User' } },
  '/api/v1/sounds': {},
  '/api/v1/sounds/{id}': { params: { id: 'Sound' } },
  '/api/v1/notifications': {},
  '/api/v1/notifications/unread-count': {},
  '/api/v1/notifications/{id}': { params: { id: 'Notification' } },
  '/api/v1/notifications/{id}/acknowledge': { params: { id: 'Notification' } },
  '/api/v1/notifications/{id}/webview-action': { params: { id: 'Notification' } },
  '/api/v1/notifications/{id}/receipts': { params: { id: 'Notification' } },
  '/api/v1/rules': { body: { post: (a) => ({ ...a.example, targetRoles: [a.ids.Role] }) } },
  '/api/v1/rules/test': {},
  '/api/v1/rules/{id}': { params: { id: 'Rule' } },
  '/api/v1/events': {},
  '/api/v1/events/batch': {},
  '/api/v1/events/{id}': { params: { id: 'Event' } },
  '/api/v1/transfer-buckets': {},
  '/api/v1/transfer-buckets/{id}': { params: { id: 'TransferBucket' } },
  '/api/v1/transfer-buckets/{id}/threshold': { params: { id: 'TransferBucket' } },
  '/api/v1/transfer-buckets/{id}/balance': { params: { id: 'TransferBucket' } },
  '/api/v1/heartbeats': {},
  '/api/v1/heartbeats/{id}': { params: { id: 'Heartbeat' } },
  '/api/v1/heartbeats/{id}/ping': { params: { id: 'Heartbeat' } },
};

interface SeedOfA {
  ids: Record<string, string>;
  device: { platform: string; token: string };
  roleName: string;
  /** The document's example body of the route being called (for entries that extend it). */
  example: Record<string, unknown>;
}

type Credential = 'bearer' | 'apiKey';
interface Route {
  method: string;
  path: string;
  credentials: Credential[];
  example?: unknown;
}

let hub: TestHub;
let a: TestProject;
let b: TestProject;
let aMember: TestUser;
let seed: SeedOfA;
let routes: Route[];
/** Strings that identify A's data: ids of every row of A, emails, the slug. */
let identifiersOfA: string[];
const dmmf = await readDmmf();

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  const sa = await superAdminToken(hub);
  [a, b] = [await createTestProject(hub, sa), await createTestProject(hub, sa)];
  // A gets a resource of every kind: users (active, pending), a role, a device, and a row of each model.
  const role = await api(
    hub,
    'POST',
    '/api/v1/roles',
    { name: `only-in-a-${Date.now()}`, permissions: ['audit:read'] },
    { token: a.adminToken },
  );
  aMember = await activeUser(hub, a, [role.body.name]);
  const pending = await registerUser(hub, a);
  const device = { platform: 'android', token: `a-device-${randomUUID()}` };
  const devices = await api(hub, 'PUT', '/api/v1/users/me/push-tokens', device, { token: aMember.token });
  seed = {
    ids: { User: aMember.id, PendingUser: pending.id, Role: role.body.id, Device: devices.body.items[0].id },
    device,
    roleName: role.body.name,
    example: {},
  };
  for (const model of TENANT_MODELS) {
    if (!(model in seed.ids))
      seed.ids[model] = (await createRow(hub.running.db.system, model, a.id)).id as string;
  }
  // Some activity of A in the audit log, then everything flushed.
  await api(hub, 'PUT', '/api/v1/users/me', { fullName: 'A member' }, { token: aMember.token });
  await hub.running.services.audit.flush();

  const snapshot = await rowsOf(a.id);
  identifiersOfA = [
    a.id,
    a.slug,
    ...Object.values(snapshot).flatMap((rows) =>
      rows
        .flatMap((row) => [row.id, row.email])
        .filter((v): v is string => typeof v === 'string' && v.length >= 8),
    ),
  ];
  routes = await documentedRoutes();
}, 60_000);
afterAll(() => hub.close());

async function documentedRoutes(): Promise<Route[]> {
  const doc = (await (await fetch(`${hub.apiUrl}/api/v1/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { security?: Array<Record<string, unknown>>; requestBody?: any }>>;
    components?: { schemas?: Record<string, { example?: unknown }> };
  };
  const exampleOf = (schema: { $ref?: string; example?: unknown } | undefined) =>
    schema?.$ref ? doc.components?.schemas?.[schema.$ref.split('/').pop()!]?.example : schema?.example;
  const found: Route[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const schemes = (operation.security ?? []).flatMap((requirement) => Object.keys(requirement));
      const credentials: Credential[] = [];
      if (schemes.includes('bearerAuth')) credentials.push('bearer');
      if (schemes.includes('apiKey')) credentials.push('apiKey');
      if (!credentials.length) continue; // public, or super admins only
      found.push({
        method: method.toUpperCase(),
        path,
        credentials,
        example: exampleOf(operation.requestBody?.content?.['application/json']?.schema),
      });
    }
  }
  return found;
}

/** Every row of a project in every tenant model (and the project itself), keyed by model. */
async function rowsOf(projectId: string): Promise<Record<string, Array<Record<string, unknown>>>> {
  const system = hub.running.db.system as unknown as Record<
    string,
    { findMany(args: unknown): Promise<Array<Record<string, unknown>>> }
  >;
  const models = [...TENANT_MODELS].sort();
  const all = await Promise.all(
    models.map((model) => system[delegateName(model)]!.findMany({ where: { projectId } })),
  );
  const out: Record<string, Array<Record<string, unknown>>> = {
    Project: await system.project!.findMany({ where: { id: projectId } }),
  };
  models.forEach((model, i) => {
    const keys = primaryKeyFields(dmmf.datamodel.models.find((m) => m.name === model)!);
    const key = (row: Record<string, unknown>) => keys.map((k) => String(row[k])).join('|');
    out[model] = all[i]!.sort((x, y) => key(x).localeCompare(key(y)));
  });
  return out;
}

const json = (value: unknown): string =>
  JSON.stringify(value ?? null, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

function fill(route: Route, entry: RouteEntry): { url: string; problem?: string } {
  let url = route.path;
  for (const [, name] of route.path.matchAll(/\{(\w+)\}/g)) {
    const kind = entry.params?.[name!];
    if (!kind)
      return {
        url,
        problem: `${route.method} ${route.path}: say which A resource fills {${name}} in ROUTES`,
      };
    url = url.replace(`{${name}}`, kind === 'Random' ? randomUUID() : (seed.ids[kind] ?? 'missing'));
    if (!seed.ids[kind] && kind !== 'Random')
      return { url, problem: `${route.path}: no A resource of kind ${kind}` };
  }
  if (route.method === 'GET' && entry.query) {
    url += `?${new URLSearchParams(Object.entries(entry.query).map(([k, kind]): [string, string] => [k, seed.ids[kind]!])).toString()}`;
  }
  return { url };
}

async function call(route: Route, credential: Credential) {
  const entry = ROUTES[route.path]!;
  const { url } = fill(route, entry);
  const makeBody = entry.body?.[route.method.toLowerCase()];
  const example = (route.example ?? {}) as Record<string, unknown>;
  const body =
    route.method === 'GET' || route.method === 'DELETE'
      ? undefined
      : makeBody
        ? makeBody({ ...seed, example })
        : example;
  // B's credentials — and, for good measure, A's id in X-Project-Id (only super admins may use it).
  const res = await api(hub, route.method, url, body, {
    ...(credential === 'bearer' ? { token: b.adminToken } : { apiKey: b.apiKey }),
    projectId: a.id,
  });
  return { url, res, sent: url + json(body) };
}

const describeCall = (route: Route, credential: Credential, url: string) =>
  `${route.method} ${url} (${credential} of B)`;

/** A's identifiers in `text`, except those B itself sent (an error may name B's own input). */
function leaks(text: string, sent = ''): string[] {
  return identifiersOfA.filter((id) => text.includes(id) && !sent.includes(id));
}

/** Bodies compared across calls: request ids differ by design. */
const normalize = (body: unknown) => json(body).replace(/"requestId":"[^"]*"/g, '"requestId":"…"');

it('knows every project route of the API document', () => {
  expect(routes.length).toBeGreaterThan(20);
  const missing = [...new Set(routes.map((r) => r.path))].filter((path) => !(path in ROUTES));
  expect(
    missing,
    `Add these routes to ROUTES in test/integration/identity/cross-tenant.test.ts (which A resource fills each path parameter): ${missing.join(', ')}`,
  ).toEqual([]);
  const problems = routes.map((route) => fill(route, ROUTES[route.path] ?? {}).problem).filter(Boolean);
  expect(problems).toEqual([]);
});

it("reads with B's credentials return no data and no counts of A", async () => {
  const reads = routes.filter((r) => r.method === 'GET' && ROUTES[r.path] && !ROUTES[r.path]!.elsewhere);
  expect(reads.length).toBeGreaterThan(10);
  const run = async () => {
    await hub.running.services.audit.flush();
    const out = new Map<string, { status: number; body: string; leaked: string[] }>();
    for (const route of reads) {
      for (const credential of route.credentials) {
        const { url, res, sent } = await call(route, credential);
        const leaked = leaks(normalize(res.body), sent);
        out.set(describeCall(route, credential, url), {
          status: res.status,
          body: normalize(res.body),
          leaked,
        });
      }
    }
    return out;
  };
  const first = await run();
  if (process.env.DEBUG_XT) for (const [k, v] of first) console.log(k, v.status, v.body.slice(0, 150));
  // A grows by a row of every model and a user: nothing B reads may move with it.
  for (const model of TENANT_MODELS) await createRow(hub.running.db.system, model, a.id);
  await registerUser(hub, a);
  const second = await run();

  const problems: string[] = [];
  for (const [what, before] of first) {
    const after = second.get(what)!;
    if (before.status >= 500) problems.push(`${what}: answered ${before.status}`);
    if (before.leaked.length) problems.push(`${what}: shows A's ${before.leaked.join(', ')}`);
    if (before.status !== after.status || before.body !== after.body) {
      problems.push(
        `${what}: changed when only A changed:\n  before ${before.status} ${before.body}\n  after  ${after.status} ${after.body}`,
      );
    }
  }
  expect(problems).toEqual([]);
});

it("writes with B's credentials change nothing in A and store no reference to A in B", async () => {
  const writes = routes.filter((r) => r.method !== 'GET' && ROUTES[r.path]);
  expect(writes.length).toBeGreaterThan(10);
  const problems: string[] = [];
  for (const route of writes) {
    for (const credential of route.credentials) {
      await hub.running.services.audit.flush();
      const [aBefore, bBefore] = await Promise.all([rowsOf(a.id), rowsOf(b.id)]);
      const { url, res, sent } = await call(route, credential);
      await hub.running.services.audit.flush();
      const [aAfter, bAfter] = await Promise.all([rowsOf(a.id), rowsOf(b.id)]);
      const what = `${describeCall(route, credential, url)} → ${res.status}`;
      if (process.env.DEBUG_XT) console.log(what, json(res.body).slice(0, 200));

      if (res.status >= 500) problems.push(`${what}: server error ${json(res.body)}`);
      const leaked = leaks(typeof res.body === 'string' ? res.body : json(res.body), sent);
      if (leaked.length) problems.push(`${what}: answer shows A's ${leaked.join(', ')}`);
      for (const model of Object.keys(aBefore)) {
        if (json(aBefore[model]) !== json(aAfter[model])) problems.push(`${what}: changed A's ${model} rows`);
      }
      for (const model of Object.keys(bAfter)) {
        if (model === 'AuditLog') continue; // B's audit trail names the ids B asked for: expected
        const old = new Set(bBefore[model]!.map(json));
        const added = bAfter[model]!.map(json).filter((row) => !old.has(row));
        for (const row of added) {
          const refs = leaks(row);
          if (refs.length) problems.push(`${what}: stored A's ${refs.join(', ')} in B's ${model}: ${row}`);
        }
      }
      if (ROUTES[route.path]!.replacesApiKey && res.status === 200) b.apiKey = res.body.apiKey;
      if (ROUTES[route.path]!.endsSession && credential === 'bearer') {
        const password =
          res.status === 204 && route.path.endsWith('change-password')
            ? 'Another-password-77'
            : ADMIN_PASSWORD;
        b.adminToken = (await login(hub, b, b.adminEmail, password)).token;
      }
    }
  }
  expect(problems).toEqual([]);
}, 60_000);
