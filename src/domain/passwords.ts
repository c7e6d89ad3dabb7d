// Password hashing and the strength rule.
import bcrypt from 'bcryptjs';
import { randomBase62 } from '../core/crypto.js';
import { badRequest } from '../core/errors.js';

export const PASSWORD_RULE =
  'at least 10 characters, with letters and at least one digit or symbol, and not containing the email name';

function isStrongPassword(password: string, email?: string): boolean {
  const local = email?.split('@')[0]?.toLowerCase();
  return (
    password.length >= 10 &&
    password.length <= 72 && // bcrypt ignores bytes past 72
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

export const hashPassword = (password: string, cost: number) => bcrypt.hash(password, cost);

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
  const target = hash ?? (await (dummyHash ??= bcrypt.hash('tocsin-dummy-password', cost)));
  const matches = await bcrypt.compare(password, target);
  return matches && Boolean(hash);
}
