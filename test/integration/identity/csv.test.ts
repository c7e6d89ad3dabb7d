// Pure parts of the audit log: CSV quoting (RFC 4180 + formula-injection guard) and the cursor.
// (Unit tests; they live here with the rest of the identity tests.)
import { describe, expect, it } from 'vitest';
import { csvCell, csvRow, decodeCursor, encodeCursor } from '../../../src/domain/audit-log.js';
import { AppError } from '../../../src/core/errors.js';

/** A minimal RFC 4180 reader, to prove what we write reads back to the same cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted && ch === '"' && text[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (!quoted && ch === ',') {
      row.push(cell);
      cell = '';
    } else if (!quoted && ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else {
      cell += ch;
    }
  }
  return rows;
}

describe('csvCell', () => {
  it('leaves plain values alone and writes empty cells for null and undefined', () => {
    expect(csvCell('user.approve')).toBe('user.approve');
    expect(csvCell(42)).toBe('42');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(new Date('2026-01-02T03:04:05.006Z'))).toBe('2026-01-02T03:04:05.006Z');
  });

  it('quotes cells with commas, quotes, CR or LF and doubles the quotes (RFC 4180)', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"');
    expect(csvCell({ a: 1, b: 'x,y' })).toBe('"{""a"":1,""b"":""x,y""}"');
  });

  it.each([
    ['=HYPERLINK("http://evil")', `"'=HYPERLINK(""http://evil"")"`],
    ['+1+2', "'+1+2"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', `"'\rcmd"`],
  ])('defuses a formula: %j -> %j', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });

  it('does not touch those characters elsewhere in a cell', () => {
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('user@example.com')).toBe('user@example.com');
  });

  it('writes CRLF-terminated rows that read back to the same cells', () => {
    const cells = ['plain', 'a,b', 'q"uote', 'multi\r\nline', '', '=1+1', '-5'];
    const text = csvRow(cells) + csvRow(['second', 'row']);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(parseCsv(text)).toEqual([
      ['plain', 'a,b', 'q"uote', 'multi\r\nline', '', "'=1+1", "'-5"],
      ['second', 'row'],
    ]);
  });
});

describe('audit cursor', () => {
  it('round-trips (createdAt, id) and is opaque base64url', () => {
    const row = {
      createdAt: new Date('2026-03-04T05:06:07.089Z'),
      id: '0190c6a4-0000-7000-8000-000000000001',
    };
    const cursor = encodeCursor(row);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(row);
  });

  it.each([
    '',
    'not-base64!',
    Buffer.from('{"a":1}').toString('base64url'),
    Buffer.from('[1]').toString('base64url'),
    Buffer.from('["x","y"]').toString('base64url'),
  ])('refuses a malformed cursor %j with a 400', (cursor) => {
    let error: unknown;
    try {
      decodeCursor(cursor);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 400, code: 'cursor_invalid' });
  });
});
