// Password hashing and the strength rule.
import bcrypt from 'bcryptjs';
import { badRequest } from '../core/errors.js';

export const PASSWORD_RULE =
  'at least 10 characters, with letters and at least one digit or symbol, and not containing the email name';

export function assertStrongPassword(password: string, email?: string): void {
  const local = email?.split('@')[0]?.toLowerCase();
  const strong =
    password.length >= 10 &&
    password.length <= 72 && // bcrypt ignores bytes past 72
    /[A-Za-z]/.test(password) &&
    /[^A-Za-z]/.test(password) &&
    !(local && local.length >= 3 && password.toLowerCase().includes(local));
  if (!strong) throw badRequest('weak_password', `The password must have ${PASSWORD_RULE}`);
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
