// Password hashing and the strength rule. bcrypt reads only the first 72 bytes of its input
// (36 'ä' are 72 bytes), so a password is pre-hashed with SHA-256 first and every byte counts.
// Hashes made before that carry no prefix and verify as they always did.
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { randomBase62 } from '../core/crypto.js';
import { badRequest } from '../core/errors.js';

export const PASSWORD_RULE =
  'at least 10 characters, with letters and at least one digit or symbol, and not containing the email name';

function isStrongPassword(password: string, email?: string): boolean {
  const local = email?.split('@')[0]?.toLowerCase();
  return (
    password.length >= 10 &&
    password.length <= 72 &&
    /[A-Za-z]/.test(password) &&
    /[^A-Za-z]/.test(password) &&
    !(local && local.length >= 3 && password.toLowerCase().includes(local))
  );
}

export function assertStrongPassword(password: string, email?: string): void {
  if (!isStrongPassword(password, email))
    throw badRequest('weak_password', `The password must have ${PASSWORD_RULE}`);
}

/** A random password that meets the rule (a few draws of base62 have no digit). */
export function generatePassword(email?: string): string {
  for (;;) {
    const password = randomBase62(16);
    if (isStrongPassword(password, email)) return password;
  }
}

/** Marks a bcrypt hash of the pre-hashed password (62 characters in all; the columns hold 72). */
const PREHASHED = 'p1$';

/** Base64 of the password's SHA-256: 44 bytes for bcrypt, never a NUL. */
const prehash = (password: string) => createHash('sha256').update(password, 'utf8').digest('base64');

export const hashPassword = async (password: string, cost: number) =>
  PREHASHED + (await bcrypt.hash(prehash(password), cost));

let dummyHash: Promise<string> | undefined;

/**
 * Compares with bcrypt. Without an account it compares against a dummy hash of the same cost,
 * so the answer's timing does not reveal whether the account exists.
 */
export async function verifyPassword(
  password: string,
  hash: string | null | undefined,
  cost: number,
): Promise<boolean> {
  const target = hash ?? (await (dummyHash ??= hashPassword('tocsin-dummy-password', cost)));
  const matches = target.startsWith(PREHASHED)
    ? await bcrypt.compare(prehash(password), target.slice(PREHASHED.length))
    : await bcrypt.compare(password, target);
  return matches && Boolean(hash);
}
