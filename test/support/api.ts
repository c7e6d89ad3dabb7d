// HTTP helpers for API tests: JSON requests against a started hub, and the usual set-up steps
// (super admin token, a project with its admin).
import { expect } from 'vitest';
import type { TestHub } from './hub.js';
import { testConfig } from './env.js';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export type RequestOptions = {
  token?: string;
  apiKey?: string;
  projectId?: string;
  headers?: Record<string, string>;
};

export async function api<T = any>(
  hub: TestHub,
  method: string,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.apiKey) headers['X-API-Key'] = options.apiKey;
  if (options.projectId) headers['X-Project-Id'] = options.projectId;
  const res = await fetch(`${hub.apiUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (CSV export, HTML docs): keep the text
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Asserts the structured error body and returns its code. */
export function expectError(res: ApiResponse, status: number, code?: string): void {
  expect({ status: res.status, body: res.body }).toMatchObject({
    status,
    body: {
      error: { code: code ?? expect.any(String), message: expect.any(String), requestId: expect.any(String) },
    },
  });
}

export async function superAdminToken(hub: TestHub): Promise<string> {
  await hub.running.prepared;
  const config = testConfig();
  const res = await api(hub, 'POST', '/api/v1/auth/login', {
    email: config.admin.email,
    password: config.admin.password,
  });
  expect(res.status).toBe(200);
  return res.body.accessToken as string;
}

let counter = 0;
export const uniqueSlug = (base = 'proj') => `${base}-${process.pid}-${Date.now().toString(36)}-${counter++}`;

export const ADMIN_PASSWORD = 'Str0ng-passphrase!';

export interface TestProject {
  id: string;
  slug: string;
  apiKey: string;
  gateway: { appId: string; key: string; secret: string };
  adminEmail: string;
  adminToken: string;
}

/** Creates a project with an active admin and logs that admin in. */
export async function createTestProject(
  hub: TestHub,
  saToken: string,
  extra: Record<string, unknown> = {},
  /** The admin's credentials, when a test needs known ones (e.g. a doc's sample). */
  credentials: { email?: string; password?: string } = {},
): Promise<TestProject> {
  const slug = uniqueSlug();
  const adminEmail = credentials.email ?? `admin@${slug}.test`;
  const adminPassword = credentials.password ?? ADMIN_PASSWORD;
  const res = await api(
    hub,
    'POST',
    '/api/v1/projects',
    {
      name: `Project ${slug}`,
      slug,
      admin: { email: adminEmail, fullName: 'Project Admin', password: adminPassword },
      ...extra,
    },
    { token: saToken },
  );
  expect(res.status).toBe(201);
  const login = await api(hub, 'POST', '/api/v1/auth/login', {
    email: adminEmail,
    password: adminPassword,
    projectSlug: slug,
  });
  expect(login.status).toBe(200);
  return {
    id: res.body.project.id,
    slug,
    apiKey: res.body.apiKey,
    gateway: res.body.gateway,
    adminEmail,
    adminToken: login.body.accessToken,
  };
}
