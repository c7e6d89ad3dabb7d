// Pusher HTTP API request checks against a fixed clock: the ±600 s edge exactly, and body_md5.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiRequestFailure } from '../../src/core/pusher/signatures.js';

const app = { key: 'app-key', secret: 'app-secret' };
const NOW = 1_800_000_000;

/** Signs by hand, per Pusher's spec, independently of the code under test. */
function signed(options: { timestamp?: number; body?: string; bodyMd5?: string | null } = {}) {
  const body = options.body ?? '';
  const params: Record<string, string> = {
    auth_key: app.key,
    auth_timestamp: String(options.timestamp ?? NOW),
    auth_version: '1.0',
  };
  if (options.bodyMd5 !== null && (body || options.bodyMd5 !== undefined)) {
    params.body_md5 = options.bodyMd5 ?? createHash('md5').update(body).digest('hex');
  }
  const query = new URLSearchParams(params);
  const sorted = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  query.set(
    'auth_signature',
    createHmac('sha256', app.secret).update(`POST\n/apps/1/events\n${sorted}`).digest('hex'),
  );
  return { method: 'POST', path: '/apps/1/events', query, body };
}

describe('apiRequestFailure', () => {
  it('accepts timestamps up to 600 s either side of the server clock and refuses 601', () => {
    for (const skew of [-600, 0, 600])
      expect(apiRequestFailure(app, signed({ timestamp: NOW + skew }), NOW)).toBeUndefined();
    for (const skew of [-601, 601]) {
      expect(apiRequestFailure(app, signed({ timestamp: NOW + skew }), NOW)).toMatch(/auth_timestamp/);
    }
  });

  it('requires body_md5 whenever there is a body, and checks it', () => {
    const body = JSON.stringify({ name: 'e', channel: 'c', data: '{}' });
    expect(apiRequestFailure(app, signed({ body }), NOW)).toBeUndefined();
    expect(apiRequestFailure(app, signed({ body, bodyMd5: null }), NOW)).toBe(
      'body_md5 does not match the body',
    );
    expect(apiRequestFailure(app, signed({ body, bodyMd5: 'f'.repeat(32) }), NOW)).toBe(
      'body_md5 does not match the body',
    );
    expect(apiRequestFailure(app, signed(), NOW)).toBeUndefined();
  });
});
