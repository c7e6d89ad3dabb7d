// How commands talk to the operator: plain lines on stdout, errors on stderr, and exit codes
// a script can act on (sysexits.h).
export const EXIT = { ok: 0, failure: 1, usage: 64, unavailable: 69, config: 78 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
  }
}

export const say = (line = '') => void process.stdout.write(`${line}\n`);

/** A step that waits on the network, announced on stderr so stdout stays parseable. */
export const progress = (step: string) => void process.stderr.write(`${step}…\n`);

/** A plain text table: columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** One page of a listing: a table, "No <noun>." when empty, and a hint when it holds only part. */
export function sayPage<T>(
  page: { items: readonly T[]; total: number },
  noun: string,
  header: string[],
  row: (item: T) => string[],
): void {
  if (!page.items.length) return say(`No ${noun}.`);
  say(table([header, ...page.items.map(row)]));
  if (page.total > page.items.length) say(`(${page.items.length} of ${page.total}; narrow with --search)`);
}
