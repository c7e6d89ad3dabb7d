// The README's "first notification" walkthrough, run as written (bash, curl, jq) against a hub,
// so the first thing a newcomer copies can't rot. Only the address, the super admin's password
// and the project slug (unique per run) are substituted.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueSlug } from '../support/api.js';
import { testEnv } from '../support/env.js';
import { eventually } from '../support/gateway.js';
import { startHub, type TestHub } from '../support/hub.js';

const run = promisify(execFile);
let hub: TestHub;

beforeAll(async () => {
  hub = await startHub();
  await hub.running.prepared;
});
afterAll(() => hub.close());

/** The shell block under the README's "A first notification" heading. */
function walkthrough(): string[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## A first notification'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README has no sh block under "A first notification"');
  // Continuation lines joined, so the last command can be run on its own.
  return block.replace(/\\\n/g, '').trim().split('\n');
}

describe('README walkthrough', () => {
  it('creates a project, a rule and an event whose notification reaches the admin inbox', async () => {
    const slug = uniqueSlug('readme');
    const lines = walkthrough().map((line) =>
      line
        .replaceAll('http://localhost:3000', hub.apiUrl)
        .replace('"password":"…"', `"password":"${testEnv().TOCSIN_ADMIN_PASSWORD}"`)
        .replaceAll('"payments"', `"${slug}"`),
    );
    const inbox = lines.pop()!;
    expect(inbox).toContain('/notifications');
    // Run as written; then print what the inbox line needs.
    const setUp = await run('bash', [
      '-euo',
      'pipefail',
      '-c',
      `${lines.join('\n')}\nprintf '\\n%s %s\\n' "$API" "$ADMIN"`,
    ]);
    const output = setUp.stdout.trim().split('\n');
    const [api, admin] = output.pop()!.split(' ');
    // The rule was created and the event accepted (the answers have no newline between them).
    expect(output.at(-1)).toMatch(/"name":"Big failures".*\{"id":"[0-9a-f-]{36}"\}$/);
    // The inbox line, as written, once the worker has processed the event.
    let answer = '';
    await eventually(async () => {
      const env = { ...process.env, API: api!, ADMIN: admin! };
      answer = (await run('bash', ['-euo', 'pipefail', '-c', inbox], { env })).stdout;
      return answer.includes('Transfer failed');
    }, 'the notification is in the inbox');
    expect(JSON.parse(answer)).toEqual({
      title: 'Transfer failed',
      body: '12000 EUR',
    });
  });
});
