import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, superAdminToken } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';

const TOKEN = 'metrics-token-for-tests-0123';
let hub: TestHub;

beforeAll(async () => {
  hub = await startHub({ METRICS_TOKEN: TOKEN }, ['api']);
});
afterAll(() => hub.close());

describe('GET /metrics', () => {
  it('needs the metrics token', async () => {
    expectError(await api(hub, 'GET', '/metrics'), 401, 'metrics_token_invalid');
    expectError(await api(hub, 'GET', '/metrics', undefined, { token: 'wrong-token-wrong-token' }), 401);
  });

  it('counts requests by route pattern, never by raw path', async () => {
    const sa = await superAdminToken(hub);
    const id = '00000000-0000-7000-8000-00000000abcd';
    expect((await api(hub, 'GET', `/api/v1/projects/${id}`, undefined, { token: sa })).status).toBe(404);
    const res = await fetch(`${hub.apiUrl}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(
      /tocsin_http_requests_total\{method="GET",route="\/api\/v1\/projects\/:id",status="404"\} 1/,
    );
    expect(text).toMatch(
      /tocsin_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/api\/v1\/auth\/login",status="200"\}/,
    );
    expect(text).not.toContain(id);
    expect(text).toContain('tocsin_process_resident_memory_bytes');
  });

  it('stays closed when no token is configured', async () => {
    const closed = await startHub({}, ['api']);
    try {
      expectError(await api(closed, 'GET', '/metrics', undefined, { token: TOKEN }), 403, 'metrics_disabled');
    } finally {
      await closed.close();
    }
  });
});
