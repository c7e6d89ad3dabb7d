// SSRF protection for targets the hub calls on a tenant's behalf (webhooks, a hosted-Pusher
// host): only http(s), and only public addresses unless private targets are explicitly allowed
// by configuration (WEBHOOK_ALLOW_PRIVATE). Checked when a target is saved and again, after DNS
// resolution, before each call.
import dns from 'node:dns';
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
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
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo: its IPv4 addresses are obfuscated, so the whole prefix goes
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
];

const blockList = new net.BlockList();
for (const [address, prefix] of BLOCKED_V4) blockList.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of BLOCKED_V6) blockList.addSubnet(address, prefix, 'ipv6');

/** The eight 16-bit groups of an IPv6 address (one `net.isIP` calls 6). */
function hextets(address: string): number[] {
  let text = address.split('%')[0]!; // a zone id says nothing about the address
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const groups = (part: string | undefined) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const [head, tail] = text.split('::');
  if (tail === undefined) return groups(head);
  const [h, t] = [groups(head), groups(tail)];
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

/**
 * The IPv4 address an IPv6 address carries and is routed to: IPv4-compatible (::a.b.c.d),
 * mapped (::ffff:a.b.c.d), SIIT-translated (::ffff:0:a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4
 * (2002:aabb:ccdd::). Such an address is judged as that IPv4 address.
 */
function embeddedIPv4(h: number[]): string | undefined {
  const zero = (from: number, to: number) => h.slice(from, to).every((x) => x === 0);
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (zero(0, 5) && (h[5] === 0 || h[5] === 0xffff)) return v4(h[6]!, h[7]!);
  if (zero(0, 4) && h[4] === 0xffff && h[5] === 0) return v4(h[6]!, h[7]!);
  if (h[0] === 0x64 && h[1] === 0xff9b && zero(2, 6)) return v4(h[6]!, h[7]!);
  if (h[0] === 0x2002) return v4(h[1]!, h[2]!);
  return undefined;
}

export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return true;
  if (family === 4) return blockList.check(address, 'ipv4');
  const carried = embeddedIPv4(hextets(address));
  return (carried !== undefined && blockList.check(carried, 'ipv4')) || blockList.check(address, 'ipv6');
}

function refusal(host: string): Error {
  return Object.assign(new Error(`${host} is a private, loopback or reserved address`), {
    code: 'url_not_allowed',
  });
}

// dns.lookup, refusing a name any of whose addresses is private. It runs at connect time, so a
// name re-pointed after it was checked (DNS rebinding) is refused too.
const publicOnlyLookup: net.LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    const answer = callback as (
      err: Error | null,
      address: string | dns.LookupAddress[],
      family?: number,
    ) => void;
    if (err) return answer(err, '');
    if (!addresses.length || addresses.some((a) => isPrivateAddress(a.address)))
      return answer(refusal(hostname), '');
    if (options.all) return answer(null, addresses);
    answer(null, addresses[0]!.address, addresses[0]!.family);
  });
};

type Connect = (
  options: net.NetConnectOpts & { host?: string },
  callback: (err: Error | null, socket?: net.Socket) => void,
) => net.Socket | undefined;

/**
 * HTTP(S) agents for clients we cannot tell where not to go (an SDK that follows redirects):
 * every connection, redirected ones included, is refused unless its address is public. Pass
 * the returned function as node-fetch's `agent`.
 */
export function outboundAgents(options: { allowPrivate: boolean }): (url: URL) => http.Agent {
  const guard = <A extends http.Agent>(agent: A): A => {
    if (options.allowPrivate) return agent;
    const connect = (agent as unknown as { createConnection: Connect }).createConnection.bind(agent);
    // Override on the instance: the typings do not expose createConnection as overridable.
    Object.assign(agent, {
      createConnection: ((connectOptions, callback) => {
        // An IP literal is connected to without a lookup: judge it here.
        const host = (connectOptions.host ?? '').replace(/^\[|\]$/g, '');
        if (net.isIP(host) && isPrivateAddress(host)) {
          process.nextTick(callback, refusal(host));
          return undefined;
        }
        return connect({ ...connectOptions, lookup: publicOnlyLookup }, callback);
      }) satisfies Connect,
    });
    return agent;
  };
  const agents = { http: guard(new http.Agent()), https: guard(new https.Agent()) };
  return (url) => (url.protocol === 'http:' ? agents.http : agents.https);
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
      'The target is a private, loopback or reserved address: use a public host, or set WEBHOOK_ALLOW_PRIVATE=true to allow such targets (closed networks, local development)',
    );
  }
}
