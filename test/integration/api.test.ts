import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, type TestHub } from '../support/hub.js';

let hub: TestHub;
const BODY_LIMIT = 2048;

beforeAll(async () => {
  hub = await startHub({ BODY_LIMIT_BYTES: String(BODY_LIMIT), CORS_ORIGINS: 'https://console.example' }, [
    'api',
  ]);
  await hub.running.prepared;
});
afterAll(() => hub.close());

describe('API basics', () => {
  it('answers /health and, with MySQL, Redis and migrations in place, /ready', async () => {
    expect(await (await fetch(`${hub.apiUrl}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${hub.apiUrl}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ok',
      checks: { mysql: 'ok', redis: 'ok', migrations: 'ok' },
    });
  });

  it('gives every response a request id, echoing a sane incoming one', async () => {
    const generated = await fetch(`${hub.apiUrl}/health`);
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await fetch(`${hub.apiUrl}/health`, { headers: { 'X-Request-Id': 'trace-42' } });
    expect(echoed.headers.get('x-request-id')).toBe('trace-42');
    const unsafe = await fetch(`${hub.apiUrl}/health`, { headers: { 'X-Request-Id': 'bad id with spaces' } });
    expect(unsafe.headers.get('x-request-id')).not.toBe('bad id with spaces');
  });

  it('answers unknown routes with the structured error body', async () => {
    const res = await fetch(`${hub.apiUrl}/nope`, { headers: { 'X-Request-Id': 'r-404' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'route_not_found', message: 'No route for GET /nope', requestId: 'r-404' },
    });
  });

  it('sends secure headers and CORS only for configured origins', async () => {
    const allowed = await fetch(`${hub.apiUrl}/health`, { headers: { Origin: 'https://console.example' } });
    expect(allowed.headers.get('x-content-type-options')).toBe('nosniff');
    expect(allowed.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://console.example');
    const other = await fetch(`${hub.apiUrl}/health`, { headers: { Origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('enforces the body limit at the boundary with a 413 error body', async () => {
    const post = (size: number) =>
      fetch(`${hub.apiUrl}/health`, {
        method: 'POST',
        body: 'x'.repeat(size),
        headers: { 'Content-Type': 'text/plain' },
      });
    const atLimit = await post(BODY_LIMIT);
    expect(atLimit.status).toBe(404); // within the limit: reaches routing (no POST /health)
    const over = await post(BODY_LIMIT + 1);
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({
      error: { code: 'payload_too_large', requestId: expect.any(String) },
    });
  });
});
