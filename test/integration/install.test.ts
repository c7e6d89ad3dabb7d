// `npm ci` on the Node version we support installs without an engine warning: the first command
// a new user types must not tell them their Node is wrong. npm evaluates every locked package's
// `engines` in a dry run of a fresh install (a copy of the manifest and lock file, no
// node_modules: with one present, npm only compares and checks nothing).
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
let fresh: string | undefined;
afterAll(async () => {
  if (fresh) await rm(fresh, { recursive: true, force: true });
});

describe('npm ci', () => {
  it('reports no unsupported engine for any locked package', async () => {
    fresh = await mkdtemp(join(tmpdir(), 'tocsin-install-'));
    for (const file of ['package.json', 'package-lock.json'])
      await copyFile(join(root, file), join(fresh, file));
    const { stdout, stderr } = await promisify(execFile)(
      'npm',
      ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'],
      { cwd: fresh, maxBuffer: 16 * 1024 * 1024 },
    );
    expect(stdout).toContain('add prisma'); // it did plan the whole install
    expect(`${stdout}\n${stderr}`).not.toContain('EBADENGINE');
  });
});
