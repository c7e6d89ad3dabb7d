// Access-token lifetime and forgery, refresh-token expiry, super-admin sessions and the
// refresh claim under a real race — each sent over HTTP as a client would.
import mariadb from 'mariadb';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMysqlUrl } from '../../../src/core/mysql-url.js';
import { hashPassword } from '../../../src/domain/passwords.js';
import {
  ADMIN_PASSWORD,
  api,
  createTestProject,
  expectError,
  superAdminToken,
  type TestProject,
} from '../../support/api.js';
import { testConfig } from '../../support/env.js';
import { startHub, type TestHub } from '../../support/hub.js';

let hub: TestHub;
let sa: string;
let project: TestProject;
const config = testConfig();

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  sa = await superAdminToken(hub);
  project = await createTestProject(hub, sa);
});
afterAll(() => hub.close());

const claimsOf = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());

const me = (token: string) => api(hub, 'GET', '/api/v1/users/me', undefined, { token });

const loginAdmin = () =>
  api(hub, 'POST', '/api/v1/auth/login', {
    email: project.adminEmail,
    password: ADMIN_PASSWORD,
    projectSlug: project.slug,
  });

/** Re-signs a real token's claims with `changes`, using `secret` (the server's unless told). */
function resign(
  token: string,
  changes: Record<string, unknown>,
  secret = config.secrets.jwtSecret,
  alg = 'HS256',
) {
  const claims = { ...claimsOf(token), ...changes };
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

describe('access tokens', () => {
  it('live exactly ACCESS_TOKEN_TTL_SECONDS', async () => {
    const res = await loginAdmin();
    expect(res.status).toBe(200);
    const claims = claimsOf(res.body.accessToken);
    expect(res.body.expiresIn).toBe(config.auth.accessTokenTtlSeconds);
    expect((claims.exp as number) - (claims.iat as number)).toBe(config.auth.accessTokenTtlSeconds);
  });

  it('are refused once expired, even by a minute', async () => {
    const { accessToken } = (await loginAdmin()).body;
    expect((await me(accessToken)).status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    const expired = await resign(accessToken, { iat: now - 960, exp: now - 60, iatMs: (now - 960) * 1000 });
    expectError(await me(expired), 401, 'token_expired');
  });

  it('are refused when forged: another secret, changed claims, no signature', async () => {
    const { accessToken } = (await loginAdmin()).body;
    expectError(
      await me(await resign(accessToken, {}, 'not-the-server-secret-at-all-0123456789')),
      401,
      'token_invalid',
    );
    const [header, , signature] = accessToken.split('.');
    const widened = Buffer.from(JSON.stringify({ ...claimsOf(accessToken), perms: ['*'] })).toString(
      'base64url',
    );
    expectError(await me(`${header}.${widened}.${signature}`), 401, 'token_invalid');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expectError(await me(`${none}.${accessToken.split('.')[1]}.`), 401, 'token_invalid');
    expectError(await me('not-a-jwt'), 401, 'token_invalid');
  });

  it("are refused when signed with the server's secret but not as it signs: another issuer or algorithm", async () => {
    const { accessToken } = (await loginAdmin()).body;
    expect((await me(await resign(accessToken, {}))).status).toBe(200); // the re-signing itself is sound
    expectError(await me(await resign(accessToken, { iss: 'someone-else' })), 401, 'token_invalid');
    const hs512 = await resign(accessToken, {}, config.secrets.jwtSecret, 'HS512');
    expectError(await me(hs512), 401, 'token_invalid');
  });
});

describe('refresh tokens', () => {
  it('are refused once expired', async () => {
    const { refreshToken } = (await loginAdmin()).body;
    const sessions = hub.running.db.system.session;
    const session = await sessions.findFirstOrThrow({
      orderBy: { createdAt: 'desc' },
      where: { projectId: project.id },
    });
    await sessions.update({ where: { id: session.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expectError(
      await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken }),
      401,
      'refresh_token_invalid',
    );
  });

  it('of two concurrent refreshes of one token, exactly one wins', async () => {
    const { refreshToken } = (await loginAdmin()).body;
    const session = await hub.running.db.system.session.findFirstOrThrow({
      orderBy: { createdAt: 'desc' },
      where: { projectId: project.id },
    });
    // Hold the session row locked, so both requests read it unrotated and then queue on the
    // lock: the race is forced, not hoped for.
    const target = parseMysqlUrl(config.database.url);
    const lock = await mariadb.createConnection(target);
    const watch = await mariadb.createConnection(target);
    try {
      await lock.beginTransaction();
      await lock.query('SELECT id FROM `Session` WHERE id = ? FOR UPDATE', [session.id]);
      const both = [0, 1].map(() => api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken }));
      // Both UPDATEs queued behind the lock (no other statement updates sessions meanwhile).
      const waiting = async () => {
        const [row] = (await watch.query(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'UPDATE `Session`%'",
          [target.database],
        )) as Array<{ n: bigint }>;
        return Number(row!.n);
      };
      while ((await waiting()) < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      await lock.rollback();
      const statuses = (await Promise.all(both)).map((res) => res.status).sort();
      expect(statuses).toEqual([200, 401]);
    } finally {
      await lock.end();
      await watch.end();
    }
  });
});

describe('super admins', () => {
  const email = 'second-admin@tocsin.test';
  const password = 'Second-admin-pass-1';
  const loginSecond = (pw = password) => api(hub, 'POST', '/api/v1/auth/login', { email, password: pw });

  beforeAll(async () => {
    await hub.running.db.system.admin.create({
      data: {
        email,
        fullName: 'Second admin',
        passwordHash: await hashPassword(password, config.auth.passwordHashCost),
      },
    });
  });

  it('refresh into a super-admin token and rotate', async () => {
    const first = await loginSecond();
    expect(first.status).toBe(200);
    const next = await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: first.body.refreshToken });
    expect(next.status).toBe(200);
    expect(claimsOf(next.body.accessToken)).toMatchObject({
      sa: true,
      sub: claimsOf(first.body.accessToken).sub,
    });
    expect(claimsOf(next.body.accessToken).pid).toBeUndefined();
    expect(
      (await api(hub, 'GET', '/api/v1/projects', undefined, { token: next.body.accessToken })).status,
    ).toBe(200);
    expectError(
      await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: first.body.refreshToken }),
      401,
      'refresh_token_reused',
    );
  });

  it('change their password: the old one, their tokens and sessions stop working', async () => {
    const session = await loginSecond();
    const token = session.body.accessToken;
    const change = (currentPassword: string, newPassword: string) =>
      api(hub, 'POST', '/api/v1/auth/change-password', { currentPassword, newPassword }, { token });
    expectError(await change('wrong-password-1', 'Another-admin-pass-2'), 400, 'wrong_password');
    expectError(await change(password, 'weak'), 400, 'weak_password');
    expect((await change(password, 'Another-admin-pass-2')).status).toBe(204);
    expectError(await api(hub, 'GET', '/api/v1/projects', undefined, { token }), 401, 'token_revoked');
    expectError(
      await api(hub, 'POST', '/api/v1/auth/refresh', { refreshToken: session.body.refreshToken }),
      401,
    );
    expectError(await loginSecond(), 401, 'invalid_credentials');
    expect((await loginSecond('Another-admin-pass-2')).status).toBe(200);
  });
});
