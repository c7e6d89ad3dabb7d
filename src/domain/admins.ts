// Super administrators: created on first start from configuration, idempotently.
import type { Config } from '../core/config.js';
import { isUniqueViolation, type Db } from '../core/db.js';
import { generatePassword, hashPassword } from './passwords.js';

export type SuperAdminBootstrap =
  { created: false } | { created: true; email: string; generatedPassword?: string };

/**
 * Creates the configured super admin when it does not exist yet. Without a configured password
 * one is generated outside production and returned once, for the caller to show; production
 * requires TOCSIN_ADMIN_PASSWORD.
 */
export async function ensureSuperAdmin(db: Db, config: Config): Promise<SuperAdminBootstrap> {
  const { email } = config.admin;
  const existing = await db.system.admin.findUnique({ where: { email }, select: { id: true } });
  if (existing) return { created: false };
  let password = config.admin.password;
  let generatedPassword: string | undefined;
  if (!password) {
    if (config.env === 'production') {
      throw new Error('TOCSIN_ADMIN_PASSWORD must be set to create the first super admin in production');
    }
    password = generatedPassword = generatePassword(email);
  }
  const passwordHash = await hashPassword(password, config.auth.passwordHashCost);
  try {
    await db.system.admin.create({ data: { email, passwordHash, fullName: 'Super admin' } });
  } catch (err) {
    // Another process created it between our read and write: that is the idempotent outcome.
    if (isUniqueViolation(err)) return { created: false };
    throw err;
  }
  return { created: true, email, ...(generatedPassword ? { generatedPassword } : {}) };
}
