import { describe, expect, it } from 'vitest';
import {
  constantTimeEqual,
  decryptSecret,
  encryptSecret,
  keyedHash,
  randomBase62,
} from '../../src/core/crypto.js';
import { UUID_PATTERN, uuidv7 } from '../../src/core/ids.js';

const key = Buffer.alloc(32, 1);

describe('crypto', () => {
  it('round-trips secrets with AES-GCM and never stores the plaintext', () => {
    const sealed = encryptSecret('gateway-secret-value', key);
    expect(sealed).not.toContain('gateway-secret-value');
    expect(decryptSecret(sealed, key)).toBe('gateway-secret-value');
    expect(encryptSecret('same', key)).not.toBe(encryptSecret('same', key));
  });

  it('rejects a tampered ciphertext or a wrong key', () => {
    const sealed = encryptSecret('value', key);
    const parts = sealed.split('.');
    const data = Buffer.from(parts[3]!, 'base64url');
    data[0] = data[0]! ^ 1;
    parts[3] = data.toString('base64url');
    expect(() => decryptSecret(parts.join('.'), key)).toThrow();
    expect(() => decryptSecret(sealed, Buffer.alloc(32, 2))).toThrow();
    expect(() => decryptSecret('garbage', key)).toThrow(/Malformed/);
  });

  it('keyed hashes depend on the pepper', () => {
    expect(keyedHash('tk_abc', 'pepper-one-123456')).toBe(keyedHash('tk_abc', 'pepper-one-123456'));
    expect(keyedHash('tk_abc', 'pepper-one-123456')).not.toBe(keyedHash('tk_abc', 'pepper-two-123456'));
    expect(keyedHash('tk_abc', 'pepper-one-123456')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('compares in constant time, including different lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });

  it('makes base62 tokens with at least the requested entropy', () => {
    const token = randomBase62(32);
    expect(token).toMatch(/^[0-9A-Za-z]+$/);
    expect(token.length).toBeGreaterThanOrEqual(43);
    expect(randomBase62(32)).not.toBe(token);
  });
});

describe('uuidv7', () => {
  it('is a valid v7 UUID, ordered by time and within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => uuidv7(1_700_000_000_000));
    for (const id of ids) {
      expect(id).toMatch(UUID_PATTERN);
      expect(id[14]).toBe('7');
      expect(['8', '9', 'a', 'b']).toContain(id[19]);
    }
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(uuidv7(1_800_000_000_000) > ids[999]!).toBe(true);
  });
});
