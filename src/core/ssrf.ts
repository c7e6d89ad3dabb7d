// SSRF protection for URLs the hub calls on a tenant's behalf (webhooks): only http(s), and
// only public addresses unless private targets are explicitly allowed by configuration.
// Checked when a URL is saved and again, after DNS resolution, before each call.
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { badRequest } from './errors.js';

const BLOCKED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

const BLOCKED_V6: Array<[string, number]> = [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
];

const blockList = new net.BlockList();
for (const [address, prefix] of BLOCKED_V4) blockList.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of BLOCKED_V6) blockList.addSubnet(address, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return blockList.check(mapped, 'ipv4');
  const family = net.isIP(address);
  if (family === 0) return true;
  return blockList.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Throws a 400 unless `url` is http(s) and every address its host resolves to is allowed. */
export async function assertSafeOutboundUrl(
  url: string,
  options: { allowPrivate: boolean; resolve?: (host: string) => Promise<string[]> },
): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest('invalid_url', 'The URL is not valid');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw badRequest('invalid_url', 'Only http and https URLs are allowed');
  }
  if (parsed.username || parsed.password)
    throw badRequest('invalid_url', 'URLs with credentials are not allowed');
  if (options.allowPrivate) return;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const resolve =
    options.resolve ??
    (async (name: string) => (await lookup(name, { all: true, verbatim: true })).map((a) => a.address));
  let addresses: string[];
  try {
    addresses = net.isIP(host) ? [host] : await resolve(host);
  } catch {
    throw badRequest('invalid_url', `The host "${host}" does not resolve`);
  }
  if (!addresses.length || addresses.some(isPrivateAddress)) {
    throw badRequest(
      'url_not_allowed',
      'The URL points to a private, loopback or reserved address; set WEBHOOK_ALLOW_PRIVATE=true to allow such targets (closed networks, local development)',
    );
  }
}
