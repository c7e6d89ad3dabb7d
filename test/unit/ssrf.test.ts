import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSafeOutboundUrl, isPrivateAddress, outboundAgents } from '../../src/core/ssrf.js';

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
    '198.18.0.1', // benchmarking, 198.18/15
    '198.19.255.254',
    '198.19.255.255', // the last of 198.18/15
    '192.0.0.8', // IETF protocol assignments, 192.0.0/24
    '192.0.0.0',
    '192.0.0.255',
    '240.0.0.1', // reserved, 240/4
    '255.255.255.255',
    '100::1', // discard-only, 100::/64
    '2001:db8::1', // documentation, 2001:db8::/32
    'ff02::1', // multicast, ff00::/8
    'ff0e::1',
    'ff00::',
    'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    // IPv6 forms that carry an IPv4 address, as URLs spell them (the parser writes hex groups)
    '::ffff:7f00:1', // mapped
    '::7f00:1', // IPv4-compatible
    '::ffff:0:7f00:1', // SIIT
    '64:ff9b::7f00:1', // NAT64
    '64:ff9b::a9fe:a9fe', // NAT64 to 169.254.169.254
    '2002:7f00:1::1', // 6to4
    '2002:a00:1::', // 6to4 of 10.0.0.1
    '64:ff9b:1::1', // local-use NAT64
    '2001:0:4136:e378::1', // Teredo
    // the same, dotted: the IPv4 part is read with multi-digit octets in every position
    '64:ff9b::127.0.0.1',
    '64:ff9b::192.168.10.20',
    '::ffff:0:10.0.0.1',
    '::100.64.10.20',
    'fe80::1%eth0',
    'not-an-ip',
  ])('blocks %s', (address) => expect(isPrivateAddress(address)).toBe(true));

  it.each([
    '8.8.8.8',
    '172.32.0.1',
    '192.169.0.1',
    '198.20.0.1',
    '198.17.255.255', // just below 198.18/15
    '192.0.1.1',
    '191.255.255.255', // just below 192.0.0/24
    'feff::1', // just below ff00::/8 (fe80::/10 ends at febf)
    '223.255.255.255',
    '1.1.1.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
    '64:ff9b::8.8.8.8',
    '64:ff9b::93.184.216.34',
    '::ffff:0:93.184.216.34',
    // public addresses whose low 32 bits look like a private IPv4 address are judged as IPv6
    '2606:4700::ffff:0:7f00:1',
    '2606:ff9b::7f00:1',
  ])('allows %s', (address) => expect(isPrivateAddress(address)).toBe(false));
});

describe('assertSafeOutboundUrl', () => {
  const strict = (resolve: () => Promise<string[]>) => ({ allowPrivate: false, resolve });

  it('accepts public http(s) URLs', async () => {
    await expect(
      assertSafeOutboundUrl('https://hooks.example.com/x', strict(resolveTo(['93.184.216.34']))),
    ).resolves.toBeUndefined();
  });

  it('refuses IPv6 literals that carry a loopback address, as a URL spells them', async () => {
    for (const url of [
      'http://[::7f00:1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:0:7f00:1]/',
      'http://[64:ff9b::127.0.0.1]/',
      'http://[2002:7f00:1::1]/',
    ]) {
      await expect(assertSafeOutboundUrl(url, strict(resolveTo([])))).rejects.toMatchObject({
        code: 'url_not_allowed',
      });
    }
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

  it('judges an IP literal itself, never by what the resolver says', async () => {
    const never = async (): Promise<string[]> => {
      throw new Error('an IP literal is not resolved');
    };
    await expect(
      assertSafeOutboundUrl('http://[::1]/', strict(resolveTo(['93.184.216.34']))),
    ).rejects.toMatchObject({ code: 'url_not_allowed' });
    await expect(assertSafeOutboundUrl('http://8.8.8.8/', strict(never))).resolves.toBeUndefined();
    await expect(assertSafeOutboundUrl('http://[2606:4700::1111]/', strict(never))).resolves.toBeUndefined();
  });

  it('refuses a host that does not resolve, naming it', async () => {
    const fail = async (): Promise<string[]> => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    await expect(assertSafeOutboundUrl('https://nowhere.example/x', strict(fail))).rejects.toMatchObject({
      code: 'invalid_url',
      message: expect.stringContaining('nowhere.example'),
    });
  });

  it('resolves with the system resolver when none is given', async () => {
    await expect(
      assertSafeOutboundUrl(`http://localhost:9000/`, { allowPrivate: false }),
    ).rejects.toMatchObject({
      code: 'url_not_allowed',
      message: expect.stringContaining('WEBHOOK_ALLOW_PRIVATE'),
    });
  });

  it('refuses a user name or a password alone, and says why', async () => {
    for (const url of ['https://u@example.com', 'https://:p@example.com']) {
      await expect(assertSafeOutboundUrl(url, strict(resolveTo(['8.8.8.8'])))).rejects.toMatchObject({
        code: 'invalid_url',
        message: expect.stringContaining('credentials'),
      });
    }
    await expect(
      assertSafeOutboundUrl('ftp://example.com', strict(resolveTo(['8.8.8.8']))),
    ).rejects.toMatchObject({
      message: expect.stringContaining('http and https'),
    });
    await expect(assertSafeOutboundUrl('not a url', strict(resolveTo(['8.8.8.8'])))).rejects.toMatchObject({
      message: expect.stringContaining('not valid'),
    });
  });

  it('allows private targets only when configured to', async () => {
    await expect(
      assertSafeOutboundUrl('http://127.0.0.1:9000/hook', { allowPrivate: true }),
    ).resolves.toBeUndefined();
  });
});

describe('outboundAgents', () => {
  let server: http.Server;
  let port = 0;
  let requests = 0;
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      requests++;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = (url: string, allowPrivate: boolean) =>
    new Promise<number>((resolve, reject) => {
      const agent = outboundAgents({ allowPrivate })(new URL(url));
      http.get(url, { agent }, (res) => resolve(res.resume().statusCode!)).on('error', reject);
    });

  it('refuses a connection to a private address, by literal or by a name resolving to one', async () => {
    const before = requests;
    for (const host of ['127.0.0.1', 'localhost']) {
      await expect(get(`http://${host}:${port}/`, false)).rejects.toMatchObject({ code: 'url_not_allowed' });
    }
    expect(requests).toBe(before);
  });

  it('gives an https agent for https URLs and an http agent for http ones', () => {
    const agentFor = outboundAgents({ allowPrivate: false });
    expect(agentFor(new URL('https://example.com/'))).toBeInstanceOf(https.Agent);
    expect(agentFor(new URL('http://example.com/'))).not.toBeInstanceOf(https.Agent);
    expect(agentFor(new URL('http://example.com/'))).toBeInstanceOf(http.Agent);
  });

  it('names the refused address', async () => {
    await expect(get(`http://127.0.0.1:${port}/`, false)).rejects.toMatchObject({
      message: expect.stringContaining('127.0.0.1'),
    });
  });

  it('connects when private targets are allowed', async () => {
    expect(await get(`http://localhost:${port}/`, true)).toBe(200);
    expect(await get(`http://127.0.0.1:${port}/`, true)).toBe(200);
  });
});
