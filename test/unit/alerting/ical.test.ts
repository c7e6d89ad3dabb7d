// iCalendar text rules (RFC 5545 §3.1, §3.3.11): escaped TEXT, lines folded at 75 octets without
// splitting a character, CRLF endings; gaps get no event.
import { describe, expect, it } from 'vitest';
import { escapeText, foldLine, scheduleCalendar } from '../../../src/domain/alerting/ical.js';

describe('iCalendar', () => {
  it('escapes backslash, semicolon, comma and newlines', () => {
    expect(escapeText('a\\b;c,d\ne\r\nf')).toBe('a\\\\b\\;c\\,d\\ne\\nf');
  });

  it('folds at 75 octets, continuation lines at 74 after the space, never inside a character', () => {
    expect(foldLine('x'.repeat(75))).toBe('x'.repeat(75));
    expect(foldLine('x'.repeat(76))).toBe(`${'x'.repeat(75)}\r\n x`);
    const folded = foldLine(`SUMMARY:${'ä'.repeat(80)}`);
    const lines = folded.split('\r\n');
    for (const line of lines) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect(lines.map((l, i) => (i ? l.slice(1) : l)).join('')).toBe(`SUMMARY:${'ä'.repeat(80)}`);
  });

  it('writes one event per shift with someone on call', () => {
    const at = (h: number) => new Date(Date.UTC(2026, 2, 29, h));
    const text = scheduleCalendar({
      scheduleId: 's1',
      name: 'Ops',
      shifts: [
        { start: at(0), end: at(7), userIds: ['u1'], source: 'primary' },
        { start: at(7), end: at(8), userIds: [], source: null },
        { start: at(8), end: at(9), userIds: ['u2', 'u3'], source: 'override' },
      ],
      names: new Map([['u1', 'Ann']]),
      now: at(0),
    });
    expect(text.match(/BEGIN:VEVENT/g)).toHaveLength(2);
    expect(text).toContain('DTSTART:20260329T000000Z\r\nDTEND:20260329T070000Z\r\nSUMMARY:On call: Ann\r\n');
    expect(text).toContain('SUMMARY:On call: u2\\, u3\r\nDESCRIPTION:Ops\\, override\r\n');
    expect(text.split('\r\n').every((l) => !l.includes('\n'))).toBe(true);
  });
});
