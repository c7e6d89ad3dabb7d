// `.env` in the working directory, read by every `tocsin` command before anything else, so a
// non-default setup is written once instead of exported in every terminal. Variables already in
// the environment win over the file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/** Fills `env` from `<dir>/.env` (if there is one) where a variable is not set; returns the path. */
export function loadEnvFile(dir = process.cwd(), env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = join(dir, '.env');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] === undefined) env[name] = value;
  }
  return path;
}
