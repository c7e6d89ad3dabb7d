// `.env` in the working directory configures every `tocsin` command; a variable set in the
// environment wins over the file. Real child processes, started in a folder of their own.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvFile } from '../../src/core/env-file.js';
import { testEnv } from '../support/env.js';

const TOCSIN = fileURLToPath(new URL('../../bin/tocsin.js', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tocsin-env-'));
  await writeFile(join(dir, '.env'), '# a comment\nTOCSIN_PRINT_BANNER=maybe\nHTTP_PORT="not a port"\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `tocsin <args>` run from `dir`, with the test environment minus what `.env` should supply. */
function tocsin(args: string[], env: Record<string, string> = {}) {
  const { TOCSIN_PRINT_BANNER: _banner, HTTP_PORT: _port, ...inherited } = { ...process.env, ...testEnv() };
  return new Promise<{ code: number; stderr: string; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      [TOCSIN, ...args],
      { cwd: dir, env: { ...inherited, ...env } },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
    );
  });
}

// Each command is a fresh Node process (several seconds on a loaded machine).
describe('.env', { timeout: 120_000 }, () => {
  it('is read by tocsin start and by one-shot commands', async () => {
    for (const args of [['start'], ['migrate']]) {
      const { code, stderr } = await tocsin(args);
      expect([args[0], code]).toEqual([args[0], 78]);
      expect(stderr).toMatch(/TOCSIN_PRINT_BANNER|HTTP_PORT/);
    }
  });

  it('loses to the environment', async () => {
    const { code, stdout, stderr } = await tocsin(['migrate'], {
      TOCSIN_PRINT_BANNER: 'false',
      HTTP_PORT: '0',
    });
    // stderr carries the command's progress lines only: no configuration error.
    expect(stderr).not.toMatch(/TOCSIN_PRINT_BANNER|HTTP_PORT/);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Database is up to date|Applied/);
  });

  it('fills only unset variables, with quotes and comments parsed', () => {
    const env: NodeJS.ProcessEnv = { TOCSIN_PRINT_BANNER: 'true' };
    expect(loadEnvFile(dir, env)).toBe(join(dir, '.env'));
    expect(env).toEqual({ TOCSIN_PRINT_BANNER: 'true', HTTP_PORT: 'not a port' });
    expect(loadEnvFile(join(dir, 'missing'), env)).toBeUndefined();
  });
});
