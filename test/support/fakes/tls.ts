// A self-signed certificate made at test time with openssl, for fakes that must speak TLS
// as the real providers do. Clients trust it explicitly (`ca`), never by turning checks off.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  key: string;
  cert: string;
}

const cache = new Map<string, TestCertificate>();

/** A certificate valid for `hostnames` and 127.0.0.1 (made once per set of names per process). */
export function testCertificate(hostnames: readonly string[]): TestCertificate {
  const id = hostnames.join(',');
  const cached = cache.get(id);
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-cert-'));
  try {
    const san = [...hostnames.map((h) => `DNS:${h}`), 'IP:127.0.0.1'].join(',');
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
        ...['-days', '1', '-subj', `/CN=${hostnames[0] ?? 'localhost'}`, '-addext', `subjectAltName=${san}`],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ],
      { stdio: 'pipe' },
    );
    const certificate = {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
    cache.set(id, certificate);
    return certificate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
