import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestProject, expectError, superAdminToken, type TestProject } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';

let hub: TestHub;
let project: TestProject;
let other: TestProject;
const pusher = { appId: '12345', key: 'hosted-key', secret: 'hosted-secret-value', cluster: 'eu' };

beforeAll(async () => {
  hub = await startHub({}, ['api']);
  const sa = await superAdminToken(hub);
  [project, other] = [await createTestProject(hub, sa), await createTestProject(hub, sa)];
});
afterAll(() => hub.close());

describe('/api/v1/providers', () => {
  it('stores credentials encrypted and only ever shows them redacted', async () => {
    const token = project.adminToken;
    const set = await api(hub, 'PUT', '/api/v1/providers/pusher', pusher, { token });
    expect(set.status).toBe(200);
    expect(set.body.pusher).toMatchObject({ appId: '12345', key: 'hosted-key', cluster: 'eu' });
    const read = await api(hub, 'GET', '/api/v1/providers', undefined, { token });
    expect(read.body).toMatchObject({ pusher: { key: 'hosted-key' } });
    expect(JSON.stringify(read.body)).not.toContain('hosted-secret-value');
    const row = await hub.running.db.system.project.findUniqueOrThrow({ where: { id: project.id } });
    expect(row.secretsEnc).toBeTruthy();
    expect(row.secretsEnc).not.toContain('hosted-secret-value');
    // Another project sees none of it.
    expect((await api(hub, 'GET', '/api/v1/providers', undefined, { token: other.adminToken })).body).toEqual(
      {},
    );
    expect((await api(hub, 'DELETE', '/api/v1/providers/pusher', undefined, { token })).body).toEqual({});
  });

  it('refuses a hosted-Pusher host at a private address, and ids that would reshape the URL', async () => {
    const guarded = await startHub({ WEBHOOK_ALLOW_PRIVATE: 'false' }, ['api']);
    try {
      const sa = await superAdminToken(guarded);
      const { adminToken: token } = await createTestProject(guarded, sa);
      const put = (body: object) => api(guarded, 'PUT', '/api/v1/providers/pusher', body, { token });
      for (const host of [
        '127.0.0.1',
        '169.254.169.254',
        'localhost',
        '[::ffff:7f00:1]',
        '[64:ff9b::a9fe:a9fe]',
      ]) {
        expectError(await put({ ...pusher, host, port: 6379, useTLS: false }), 400, 'url_not_allowed');
      }
      for (const bad of [
        { appId: '../../internal/admin?x=' },
        { key: 'k&auth_key=x' },
        { cluster: 'eu.evil.example/' },
        { host: 'api.example.com/path' },
        { host: 'http://api.example.com' },
      ]) {
        expectError(await put({ ...pusher, ...bad }), 400, 'validation_failed');
      }
      // Nothing was stored.
      expect((await api(guarded, 'GET', '/api/v1/providers', undefined, { token })).body).toEqual({});
    } finally {
      await guarded.close();
    }
  });

  it('names a bad field without echoing values, and needs projects:admin', async () => {
    const bad = await api(
      hub,
      'PUT',
      '/api/v1/providers/apns',
      { keyId: 'K', teamId: 'T', production: 'yes' },
      { token: project.adminToken },
    );
    expectError(bad, 400);
    expect(JSON.stringify(bad.body)).not.toContain('"yes"');
    expectError(await api(hub, 'GET', '/api/v1/providers'), 401);
  });
});
