// Request bodies are checked once, before any route: malformed JSON or forms, JSON nested deeper
// than MAX_JSON_DEPTH or holding a lone surrogate get a 400 naming the problem, on every route
// (events, rules, rules/test, pusher-auth), and a body at the limit is stored end to end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../../src/core/json-limits.js';
import { api, expectError, superAdminToken, type ApiResponse } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { createRule, eventually, pipelineProject, type PipelineProject } from '../pipeline/support.js';

let hub: TestHub;
let project: PipelineProject;

beforeAll(async () => {
  hub = await startHub({}, ['api', 'worker']);
  project = await pipelineProject(hub, await superAdminToken(hub));
});
afterAll(() => hub.close());

/** `{"a":{"a":…{}}}`: `depth` objects inside one another. */
const nested = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

async function send(path: string, body: string | ReadableStream, headers: Record<string, string>) {
  const res = await fetch(`${hub.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body,
    ...(typeof body === 'string' ? {} : { duplex: 'half' }),
  } as RequestInit);
  const text = await res.text();
  return {
    status: res.status,
    body: text ? JSON.parse(text) : undefined,
    headers: res.headers,
  } as ApiResponse;
}
const ingest = (body: string | ReadableStream) =>
  send('/api/v1/events', body, { 'X-API-Key': project.apiKey });
const asAdmin = (path: string, body: string, type = 'application/json') =>
  send(path, body, { Authorization: `Bearer ${project.adminToken}`, 'Content-Type': type });

describe('event ingest', () => {
  it('stores an event nested to the limit, through to its notification', async () => {
    await createRule(hub, project, {
      condition: 'event.type == "deep.ok"',
      targetRoles: [project.roles.admin],
    });
    // The body is one level: the payload may nest MAX_JSON_DEPTH - 1 deep.
    const res = await ingest(`{"type":"deep.ok","payload":${nested(MAX_JSON_DEPTH - 1)}}`);
    expect(res.status).toBe(202);
    const event = await eventually(
      () => api(hub, 'GET', `/api/v1/events/${res.body.id}`, undefined, { token: project.adminToken }),
      (r) => r.body?.status !== 'queued',
    );
    expect(event.body).toMatchObject({
      status: 'processed',
      error: null,
      notifications: [{ recipients: 1 }],
    });
  });

  it('refuses one level more, and 30,000 levels, with 400 json_too_deep naming the limit', async () => {
    for (const payload of [nested(MAX_JSON_DEPTH), '['.repeat(30_000) + ']'.repeat(30_000)]) {
      const res = await ingest(`{"type":"deep.no","payload":${payload}}`);
      expectError(res, 400, 'json_too_deep');
      expect(res.body.error.message).toContain(`${MAX_JSON_DEPTH} levels`);
    }
  });

  it('refuses lone surrogates (400 json_invalid_unicode) and takes a surrogate pair', async () => {
    for (const text of ['\\ud800', 'a\\udc00', '\\ud800\\u0041', '\\ud800"]']) {
      expectError(await ingest(`{"type":"t","payload":{"x":"${text}"}}`), 400, 'json_invalid_unicode');
    }
    expectError(await ingest(`{"type":"t","payload":{"\\udfff":1}}`), 400, 'json_invalid_unicode');
    // Brackets and escaped quotes inside strings are not structure.
    const fine = await ingest(`{"type":"t","payload":{"x":"\\ud83d\\ude00 \\" [[[[ {{{{","y":"\\\\ud800"}}`);
    expect(fine.status).toBe(202);
  });

  it('refuses malformed, truncated and empty JSON with 400 malformed_json', async () => {
    for (const body of ['', '{"type":"t","payload":{', '{"type":t}', 'null x']) {
      expectError(await ingest(body), 400, 'malformed_json');
    }
  });

  it('still reads a chunked body (no Content-Length) after the check', async () => {
    const text = '{"type":"chunked","payload":{"n":1}}';
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(text.slice(0, 10)));
        controller.enqueue(new TextEncoder().encode(text.slice(10)));
        controller.close();
      },
    });
    expect((await ingest(stream)).status).toBe(202);
  });
});

describe('rules and rules/test', () => {
  const rule = (action: string) =>
    `{"name":"R","condition":"true","targetRoles":["${project.roles.admin}"],"title":"T","body":"B","action":${action}}`;

  it('refuses a deep or surrogate action and test event with 400', async () => {
    expectError(await asAdmin('/api/v1/rules', rule(nested(MAX_JSON_DEPTH))), 400, 'json_too_deep');
    expectError(await asAdmin('/api/v1/rules', rule('{"x":"\\ud800"}')), 400, 'json_invalid_unicode');
    expect((await asAdmin('/api/v1/rules', rule(nested(MAX_JSON_DEPTH - 1)))).status).toBe(201);
    const test = (event: string) => asAdmin('/api/v1/rules/test', `{"condition":"true","event":${event}}`);
    expectError(await test(`{"type":"t","payload":${nested(MAX_JSON_DEPTH)}}`), 400, 'json_too_deep');
    expectError(await test('{"type":"t","payload":{"x":"\\udbff"}}'), 400, 'json_invalid_unicode');
    expectError(await test('{"type":"t","payload":'), 400, 'malformed_json');
  });
});

describe('pusher-auth and pusher-user-auth', () => {
  const boundary = 'XyZ';
  it.each(['/api/v1/users/me/pusher-auth', '/api/v1/users/me/pusher-user-auth'])(
    '%s answers 400 for empty, truncated and malformed bodies',
    async (path) => {
      expectError(await asAdmin(path, ''), 400, 'malformed_json');
      expectError(await asAdmin(path, '{"socket_id":"1.2",'), 400, 'malformed_json');
      expectError(
        await asAdmin(
          path,
          `--${boundary}\r\nContent-Disposition: form-data; name="socket_id"\r\n\r\n1.2`,
          `multipart/form-data; boundary=${boundary}`,
        ),
        400,
        'malformed_form',
      );
      expectError(await asAdmin(path, 'socket_id=1.2', 'multipart/form-data'), 400, 'malformed_form');
      expectError(
        await asAdmin(path, 'socket_id=nope', 'application/x-www-form-urlencoded'),
        400,
        'validation_failed',
      );
    },
  );
});
