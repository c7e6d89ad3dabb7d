// A schedule's shifts as an iCalendar (RFC 5545) document, for calendar apps: one VEVENT per
// shift with someone on call, times in UTC (the shifts are instants already computed in the
// schedule's zone, so no VTIMEZONE is needed), stable UIDs so a re-import updates events
// instead of duplicating them, text escaped and lines folded at 75 octets.
import type { Shift } from './on-call.js';

const utc = (at: Date) =>
  at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** TEXT values: backslash, semicolon, comma and newlines are escaped (RFC 5545 §3.3.11). */
export const escapeText = (text: string) =>
  text.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, '\\n');

/** Lines longer than 75 octets continue on the next line after CRLF + space, never inside a character. */
export function foldLine(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char);
    if (octets + size > (out.length ? 74 : 75)) {
      out.push(current);
      current = '';
      octets = 0;
    }
    current += char;
    octets += size;
  }
  out.push(current);
  return out.join('\r\n ');
}

export function scheduleCalendar(input: {
  scheduleId: string;
  name: string;
  shifts: readonly Shift[];
  /** User id → display name; an unknown id is shown as itself. */
  names: ReadonlyMap<string, string>;
  now: Date;
}): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Tocsin//On-call schedule//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeText(`On call: ${input.name}`)}`,
  ];
  for (const shift of input.shifts) {
    if (shift.userIds.length === 0) continue;
    const who = shift.userIds.map((id) => input.names.get(id) ?? id).join(', ');
    lines.push(
      'BEGIN:VEVENT',
      `UID:${input.scheduleId}-${utc(shift.start)}@tocsin`,
      `DTSTAMP:${utc(input.now)}`,
      `DTSTART:${utc(shift.start)}`,
      `DTEND:${utc(shift.end)}`,
      `SUMMARY:${escapeText(`On call: ${who}`)}`,
      `DESCRIPTION:${escapeText(`${input.name}, ${shift.source === 'override' ? 'override' : `layer ${shift.source}`}`)}`,
      'TRANSP:TRANSPARENT',
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR');
  return `${lines.map(foldLine).join('\r\n')}\r\n`;
}
