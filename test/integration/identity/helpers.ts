// Set-up steps shared by the identity tests: users in a given state with given roles, awaiting
// bus messages, and the scan that proves no hash ever leaves the API.
import { expect } from 'vitest';
import type { BusMessage, BusMessageType } from '../../../src/core/bus.js';
import { api, type ApiResponse, type TestProject } from '../../support/api.js';
import type { TestHub } from '../../support/hub.js';

export const USER_PASSWORD = 'User-password-42';

let counter = 0;
export const uniqueEmail = (base = 'user') =>
  `${base}-${process.pid}-${Date.now().toString(36)}-${counter++}@example.test`;

export interface TestUser {
  id: string;
  email: string;
  token: string;
  refreshToken: string;
}

export async function registerUser(
  hub: TestHub,
  project: Pick<TestProject, 'slug'>,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; email: string }> {
  const email = uniqueEmail();
  const res = await api(hub, 'POST', '/api/v1/auth/register', {
    email,
    password: USER_PASSWORD,
    fullName: 'Test User',
    projectSlug: project.slug,
    ...extra,
  });
  expect(res.status).toBe(201);
  return { id: res.body.id, email };
}

export async function login(
  hub: TestHub,
  project: Pick<TestProject, 'slug'>,
  email: string,
  password = USER_PASSWORD,
) {
  const res = await api(hub, 'POST', '/api/v1/auth/login', { email, password, projectSlug: project.slug });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { token: res.body.accessToken as string, refreshToken: res.body.refreshToken as string };
}

/** Registers a user, has the project admin approve them with `roles` (names), and logs them in. */
export async function activeUser(
  hub: TestHub,
  project: TestProject,
  roles: string[] = ['member'],
): Promise<TestUser> {
  const user = await registerUser(hub, project);
  const approved = await api(
    hub,
    'POST',
    `/api/v1/users/${user.id}/approve`,
    { roles },
    { token: project.adminToken },
  );
  expect(approved.status, JSON.stringify(approved.body)).toBe(200);
  return { ...user, ...(await login(hub, project, user.email)) };
}

/** Resolves with the next bus message of `type` for `projectId` seen by the hub's own bus. */
export async function nextBusMessage<T extends BusMessageType>(
  hub: TestHub,
  type: T,
  projectId: string,
): Promise<() => Promise<Extract<BusMessage, { type: T }>>> {
  const bus = hub.running.services.bus;
  await bus.ready;
  let resolve!: (message: Extract<BusMessage, { type: T }>) => void;
  const received = new Promise<Extract<BusMessage, { type: T }>>((r) => (resolve = r));
  const off = bus.on(type, (message) => {
    if (message.projectId !== projectId) return;
    off();
    resolve(message);
  });
  return () => received;
}

/** Audit rows of a project, once the writer's buffer is in MySQL. */
export async function auditRows(hub: TestHub, projectId: string, where: Record<string, unknown> = {}) {
  await hub.running.services.audit.flush();
  return hub.running.db.system.auditLog.findMany({ where: { projectId, ...where }, orderBy: { id: 'asc' } });
}

const SECRET_FIELDS = /"(passwordHash|setupTokenHash|tokenHash|apiKeyHash|gatewaySecretEnc|secretsEnc)"/;
const BCRYPT = /\$2[aby]\$\d\d\$/;
const HEX_DIGEST = /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/i;

/** Fails if a response body holds a hash field, a bcrypt hash or a 64-hex digest (our keyed hashes). */
export function expectNoSecrets(res: ApiResponse, where = ''): void {
  const text = typeof res.body === 'string' ? res.body : JSON.stringify(res.body ?? '');
  expect(text, `${where} leaks a hash field`).not.toMatch(SECRET_FIELDS);
  expect(text, `${where} leaks a bcrypt hash`).not.toMatch(BCRYPT);
  expect(text, `${where} leaks a keyed hash`).not.toMatch(HEX_DIGEST);
}
