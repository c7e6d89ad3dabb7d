// Time-ordered UUIDv7 ids (RFC 9562): primary keys stay roughly append-only in InnoDB.
import { randomBytes, randomUUID } from 'node:crypto';

let lastMs = 0;
let sequence = 0;

export function uuidv7(now = Date.now()): string {
  // A 12-bit counter keeps ids monotonic within one millisecond on this process.
  if (now <= lastMs) {
    sequence = (sequence + 1) & 0xfff;
    if (sequence === 0) lastMs += 1;
    now = lastMs;
  } else {
    lastMs = now;
    sequence = randomBytes(2).readUInt16BE() & 0x7ff;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The millisecond timestamp a uuidv7 was made at (its first 48 bits). */
export const uuidv7Time = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

/** Request ids only need uniqueness, not order. */
export const requestId = (): string => randomUUID();

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** A request's id: the caller's X-Request-Id when it is sane, else a new one. */
export const requestIdFrom = (incoming: string | undefined): string =>
  incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : requestId();

/**
 * The one spelling of an id: lower case. MariaDB compares CHAR ids case-insensitively but
 * caches, Redis keys and channel names do not, so every id from a client is folded here.
 */
export const canonicalId = (id: string): string => id.toLowerCase();

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
