import { describe, expect, it } from 'vitest';
import { assertSafeOutboundUrl, isPrivateAddress } from '../../src/core/ssrf.js';

const resolveTo = (addresses: string[]) => async () => addresses;

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'not-an-ip',
  ])('blocks %s', (address) => expect(isPrivateAddress(address)).toBe(true));

  it.each(['8.8.8.8', '172.32.0.1', '192.169.0.1', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => expect(isPrivateAddress(address)).toBe(false),
  );
});

describe('assertSafeOutboundUrl', () => {
  const strict = (resolve: () => Promise<string[]>) => ({ allowPrivate: false, resolve });

  it('accepts public http(s) URLs', async () => {
    await expect(
      assertSafeOutboundUrl('https://hooks.example.com/x', strict(resolveTo(['93.184.216.34']))),
    ).resolves.toBeUndefined();
  });

  it('refuses private targets, including a name that resolves to one and literal IPs', async () => {
    await expect(
      assertSafeOutboundUrl('https://internal.example/x', strict(resolveTo(['10.0.0.5']))),
    ).rejects.toMatchObject({
      code: 'url_not_allowed',
    });
    await expect(
      assertSafeOutboundUrl('https://mixed.example/x', strict(resolveTo(['93.184.216.34', '127.0.0.1']))),
    ).rejects.toMatchObject({
      code: 'url_not_allowed',
    });
    await expect(assertSafeOutboundUrl('http://[::1]:8080/', strict(resolveTo([])))).rejects.toMatchObject({
      code: 'url_not_allowed',
    });
    await expect(
      assertSafeOutboundUrl('http://169.254.169.254/latest', strict(resolveTo([]))),
    ).rejects.toMatchObject({
      code: 'url_not_allowed',
    });
  });

  it('refuses other schemes, credentials and garbage', async () => {
    for (const url of ['file:///etc/passwd', 'gopher://x', 'ftp://example.com']) {
      await expect(assertSafeOutboundUrl(url, strict(resolveTo(['8.8.8.8'])))).rejects.toMatchObject({
        code: 'invalid_url',
      });
    }
    await expect(
      assertSafeOutboundUrl('https://u:p@example.com', strict(resolveTo(['8.8.8.8']))),
    ).rejects.toMatchObject({ code: 'invalid_url' });
    await expect(assertSafeOutboundUrl('not a url', strict(resolveTo(['8.8.8.8'])))).rejects.toMatchObject({
      code: 'invalid_url',
    });
  });

  it('allows private targets only when configured to', async () => {
    await expect(
      assertSafeOutboundUrl('http://127.0.0.1:9000/hook', { allowPrivate: true }),
    ).resolves.toBeUndefined();
  });
});
