// Password hashes: every byte counts (bcrypt alone reads 72), and hashes made before the
// pre-hash still verify.
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/domain/passwords.js';

describe('password hashes', () => {
  it('tell apart passwords that share their first 72 bytes', async () => {
    const base = 'ä'.repeat(36);
    const hash = await hashPassword(`${base}-1`, 4);
    expect(hash.length).toBeLessThanOrEqual(72);
    expect(await verifyPassword(`${base}-1`, hash, 4)).toBe(true);
    expect(await verifyPassword(`${base}-2`, hash, 4)).toBe(false);
  });

  it('verify a plain bcrypt hash made before the pre-hash', async () => {
    const legacy = await bcrypt.hash('Legacy-password-1', 4);
    expect(await verifyPassword('Legacy-password-1', legacy, 4)).toBe(true);
    expect(await verifyPassword('Legacy-password-2', legacy, 4)).toBe(false);
  });

  it('never verify without an account', async () => {
    expect(await verifyPassword('tocsin-dummy-password', null, 4)).toBe(false);
  });
});
