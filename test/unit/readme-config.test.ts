// The README's configuration tables and the config schema name the same variables, with the same
// defaults where the table gives a literal one, so the documentation cannot drift from the code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../../src/core/config.js';

/** `variable → default cell` for every row of the tables under "## Configuration". */
function documented(): Map<string, string> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('\n## Configuration');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = /^\|\s*(`[A-Z0-9_]+`(?:\s*\/\s*`[A-Z0-9_]+`)*)\s*\|\s*([^|]*?)\s*\|/.exec(line);
    if (!cells) continue;
    const names = [...cells[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!);
    // "`0.0.0.0` / `3000`" documents two variables in one row.
    const defaults = names.length > 1 ? cells[2]!.split(/\s*\/\s*/) : [cells[2]!];
    names.forEach((name, i) => rows.set(name, defaults[i] ?? ''));
  }
  return rows;
}

describe('README configuration table', () => {
  const table = documented();
  const schema = Object.keys(envSchema.shape);

  it('lists every variable of the config schema, and no other', () => {
    expect(
      schema.filter((name) => !table.has(name)),
      'in the schema, missing from README',
    ).toEqual([]);
    expect(
      [...table.keys()].filter((name) => !schema.includes(name)),
      'in README, not in the schema',
    ).toEqual([]);
  });

  it('gives the schema default wherever it shows a literal one', () => {
    const shape = envSchema.shape as Record<string, { safeParse(v: undefined): { data?: unknown } }>;
    const defaultOf = (name: string) => shape[name]!.safeParse(undefined).data;
    // A derived default (PUBLIC_API_URL's `http://localhost:$HTTP_PORT`) is computed later.
    const literal = [...table].filter(
      ([name, cell]) => /^`[^`]*`$/.test(cell) && defaultOf(name) !== undefined,
    );
    expect(literal.length).toBeGreaterThan(20);
    for (const [name, cell] of literal)
      expect([name, cell.slice(1, -1)]).toEqual([name, String(defaultOf(name))]);
  });
});
