// The people and rules of the end-to-end bench, made through the REST API as an operator and
// users would: the super admin creates the projects (each with its admin), each admin creates
// two roles and one rule per role, users register, are approved with their roles and log in.
// Login and register are limited per client IP, so the users' calls come from several loopback
// addresses (127.0.0.x).
import { expectStatus, jsonClient, type JsonClient, ADMIN_EMAIL, ADMIN_PASSWORD } from './e2e-support.js';

export const ROLE_NAMES = ['oncall', 'finance'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];
/** The event type each role's rule matches (`event.type == "…"`). */
export const EVENT_TYPES: Record<RoleName, string> = { oncall: 'bench.oncall', finance: 'bench.finance' };

const PASSWORD = 'Correct-horse-42';
/** Auth calls per source address: well under the 300 per minute the API allows one IP. */
const AUTH_CALLS_PER_ADDRESS = 100;

export interface BenchUser {
  id: string;
  email: string;
  token: string;
  roles: readonly RoleName[];
}

export interface BenchProject {
  index: number;
  id: string;
  slug: string;
  apiKey: string;
  gatewayKey: string;
  users: BenchUser[];
}

/** User j of a project holds oncall (j % 3 == 0), finance (1) or both (2). */
export function rolesOf(j: number): readonly RoleName[] {
  return j % 3 === 0 ? ['oncall'] : j % 3 === 1 ? ['finance'] : ['oncall', 'finance'];
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Runs `work` over `items`, at most `limit` at a time. */
async function eachLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export async function setUpProjects(
  apiUrl: string,
  options: { projects: number; usersPerProject: number[]; runTag: string },
): Promise<BenchProject[]> {
  // Each address takes its share of the auth calls; .1 is left to the clients' sockets.
  let authCalls = 0;
  const clients = new Map<number, JsonClient>();
  const authClient = () => {
    const address = 2 + Math.floor(authCalls++ / AUTH_CALLS_PER_ADDRESS);
    if (!clients.has(address))
      clients.set(address, jsonClient(apiUrl, { localAddress: `127.0.0.${address}` }));
    return clients.get(address)!;
  };
  const api = jsonClient(apiUrl);
  try {
    const sa = expectStatus(
      await authClient().request<{ accessToken: string }>('POST', '/api/v1/auth/login', {
        email: ADMIN_EMAIL,
        password: ADMIN_PASSWORD,
      }),
      200,
      'super admin login',
    ).accessToken;

    const projects: BenchProject[] = [];
    for (let index = 0; index < options.projects; index++) {
      const slug = `e2e-${options.runTag}-p${index}`;
      const adminEmail = `admin@${slug}.test`;
      const created = expectStatus(
        await api.request<{ project: { id: string }; apiKey: string; gateway: { key: string } }>(
          'POST',
          '/api/v1/projects',
          {
            name: `E2E project ${index}`,
            slug,
            admin: { email: adminEmail, fullName: `Admin ${index}`, password: PASSWORD },
          },
          bearer(sa),
        ),
        201,
        `create project ${slug}`,
      );
      const admin = expectStatus(
        await authClient().request<{ accessToken: string }>('POST', '/api/v1/auth/login', {
          email: adminEmail,
          password: PASSWORD,
          projectSlug: slug,
        }),
        200,
        `${slug} admin login`,
      ).accessToken;
      for (const role of ROLE_NAMES) {
        const { id: roleId } = expectStatus(
          await api.request<{ id: string }>(
            'POST',
            '/api/v1/roles',
            { name: role, permissions: [] },
            bearer(admin),
          ),
          201,
          `create role ${role}`,
        );
        expectStatus(
          await api.request(
            'POST',
            '/api/v1/rules',
            {
              name: `${role} alerts`,
              condition: `event.type == "${EVENT_TYPES[role]}"`,
              targetRoles: [roleId],
              title: `${role} #{{event.payload.seq}}`,
              body: 'Sent at {{event.payload.sentAt}} to {{event.payload.project}}',
              // The project default (10 per minute) is an alert-storm guard: a load test is a storm.
              suppression: { maxMatches: 1_000_000, windowSeconds: 1 },
            },
            bearer(admin),
          ),
          201,
          `create rule for ${role}`,
        );
      }

      const count = options.usersPerProject[index] ?? 0;
      const users: BenchUser[] = new Array(count);
      await eachLimit(
        Array.from({ length: count }, (_, j) => j),
        8,
        async (j) => {
          const email = `user${j}@${slug}.test`;
          const registered = expectStatus(
            await authClient().request<{ id: string }>('POST', '/api/v1/auth/register', {
              email,
              password: PASSWORD,
              fullName: `User ${j}`,
              projectSlug: slug,
            }),
            201,
            `register ${email}`,
          );
          const roles = rolesOf(j);
          expectStatus(
            await api.request(
              'POST',
              `/api/v1/users/${registered.id}/approve`,
              { roles: [...roles] },
              bearer(admin),
            ),
            200,
            `approve ${email}`,
          );
          const login = expectStatus(
            await authClient().request<{ accessToken: string }>('POST', '/api/v1/auth/login', {
              email,
              password: PASSWORD,
              projectSlug: slug,
            }),
            200,
            `login ${email}`,
          );
          users[j] = { id: registered.id, email, token: login.accessToken, roles };
        },
      );
      projects.push({
        index,
        id: created.project.id,
        slug,
        apiKey: created.apiKey,
        gatewayKey: created.gateway.key,
        users,
      });
    }
    return projects;
  } finally {
    api.close();
    for (const client of clients.values()) client.close();
  }
}
