// The README's "first notification" walkthrough, pasted as one block into bash (curl, jq) and run
// once against a hub, so the first thing a newcomer copies can't rot. Only the address, the super
// admin's password and the project slug (unique per run) are substituted.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueSlug } from '../support/api.js';
import { testEnv } from '../support/env.js';
import { startHub, type TestHub } from '../support/hub.js';

const run = promisify(execFile);
let hub: TestHub;

beforeAll(async () => {
  hub = await startHub();
  await hub.running.prepared;
});
afterAll(() => hub.close());

/** The shell block under the README's "A first notification" heading. */
function walkthrough(): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## A first notification'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README has no sh block under "A first notification"');
  return block;
}

describe('README walkthrough', () => {
  it('pasted once, prints the alert from the admin inbox', async () => {
    const slug = uniqueSlug('readme');
    const block = walkthrough()
      .replaceAll('http://localhost:3000', hub.apiUrl)
      .replace('"password":"…"', `"password":"${testEnv().TOCSIN_ADMIN_PASSWORD}"`)
      .replaceAll('"payments"', `"${slug}"`);
    // bash reads the block from stdin, line after line, as a terminal does with a paste.
    const shell = run('bash', ['-euo', 'pipefail']);
    shell.child.stdin!.end(block);
    const { stdout } = await shell;
    // The answers of the rule and the event (no newline between them), then jq's output.
    expect(stdout).toMatch(/"name":"Big failures".*\}\{"id":"[0-9a-f-]{36}","status":"processed"\}\{\n/);
    expect(JSON.parse(stdout.slice(stdout.lastIndexOf('}{') + 1))).toEqual({
      title: 'Transfer failed',
      body: '12000 EUR',
    });
  });
});
