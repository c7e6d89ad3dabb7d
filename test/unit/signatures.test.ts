// Pusher signatures, checked against hand-made signatures and Pusher's documented example:
// channel and user auth strings, and HTTP API requests against a fixed clock (the ±600 s edge
// exactly, body_md5, every refusal).
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  apiRequestFailure,
  apiStringToSign,
  channelAuthString,
  signAuth,
  userAuthString,
  verifyAuth,
} from '../../src/core/pusher/signatures.js';

const app = { key: 'app-key', secret: 'app-secret' };
const NOW = 1_800_000_000;

/** Signs by hand, per Pusher's spec, independently of the code under test. */
function signed(
  options: {
    timestamp?: number | string;
    body?: string;
    bodyMd5?: string | null;
    /** Overrides (null drops the parameter), signed as sent. */
    params?: Record<string, string | null>;
    secret?: string;
  } = {},
) {
  const body = options.body ?? '';
  const params: Record<string, string> = {
    auth_key: app.key,
    auth_timestamp: String(options.timestamp ?? NOW),
    auth_version: '1.0',
  };
  if (options.bodyMd5 !== null && (body || options.bodyMd5 !== undefined)) {
    params.body_md5 = options.bodyMd5 ?? createHash('md5').update(body).digest('hex');
  }
  for (const [name, value] of Object.entries(options.params ?? {})) {
    if (value === null) delete params[name];
    else params[name] = value;
  }
  const query = new URLSearchParams(params);
  const sorted = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  query.set(
    'auth_signature',
    createHmac('sha256', options.secret ?? app.secret)
      .update(`POST\n/apps/1/events\n${sorted}`)
      .digest('hex'),
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

describe('apiRequestFailure refusals', () => {
  it('requires auth_key, auth_timestamp, auth_version and auth_signature', () => {
    for (const name of ['auth_key', 'auth_timestamp', 'auth_version']) {
      expect(apiRequestFailure(app, signed({ params: { [name]: null } }), NOW)).toMatch(/are required/);
    }
    const unsigned = signed();
    unsigned.query.delete('auth_signature');
    expect(apiRequestFailure(app, unsigned, NOW)).toMatch(/are required/);
  });

  it('accepts only auth_version 1.0', () => {
    expect(apiRequestFailure(app, signed({ params: { auth_version: '2.0' } }), NOW)).toBe(
      'auth_version must be 1.0',
    );
  });

  it("refuses an auth_key that is not the app's, however it is signed", () => {
    expect(apiRequestFailure(app, signed({ params: { auth_key: 'other-key' } }), NOW)).toBe(
      'Unknown auth_key',
    );
  });

  it('refuses a timestamp that is not a whole number of seconds', () => {
    for (const timestamp of [`${NOW}.5`, 'soon', '']) {
      expect(apiRequestFailure(app, signed({ timestamp }), NOW)).toMatch(/auth_timestamp/);
    }
  });

  it('checks body_md5 when one is sent with an empty body', () => {
    expect(apiRequestFailure(app, signed({ bodyMd5: 'f'.repeat(32) }), NOW)).toBe(
      'body_md5 does not match the body',
    );
    expect(apiRequestFailure(app, signed({ bodyMd5: bodyMd5Of('') }), NOW)).toBeUndefined();
  });

  it('refuses a signature made with another secret, or for other parameters', () => {
    expect(apiRequestFailure(app, signed({ secret: 'not-the-secret' }), NOW)).toBe('Invalid signature');
    const altered = signed();
    altered.query.set('extra', '1');
    expect(apiRequestFailure(app, altered, NOW)).toBe('Invalid signature');
    expect(apiRequestFailure(app, { ...signed(), path: '/apps/2/events' }, NOW)).toBe('Invalid signature');
  });
});

const bodyMd5Of = (body: string) => createHash('md5').update(body).digest('hex');

describe('apiStringToSign', () => {
  it('is the upper-cased method, the path and the query sorted by lower-cased name, without the signature', () => {
    const query = new URLSearchParams([
      ['b', '2'],
      ['AUTH_SIGNATURE', 'x'],
      ['C', '3'],
      ['a', '1'],
      ['auth_signature', 'y'],
    ]);
    expect(apiStringToSign({ method: 'post', path: '/apps/1/events', query })).toBe(
      'POST\n/apps/1/events\na=1&b=2&c=3',
    );
  });
});

describe('channel and user signatures', () => {
  // The example of Pusher's "Generating the authentication string" documentation.
  const pusherApp = { key: '278d425bdf160c739803', secret: '7ad3773142a6692b25b8' };

  it("signs as Pusher's documentation shows", () => {
    expect(signAuth(pusherApp, channelAuthString('1234.1234', 'private-foobar'))).toBe(
      '278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4',
    );
  });

  it('signs socket_id:channel, with :channel_data when there is some (even empty)', () => {
    expect(channelAuthString('1.2', 'private-a')).toBe('1.2:private-a');
    expect(channelAuthString('1.2', 'presence-a', '{"user_id":"u"}')).toBe('1.2:presence-a:{"user_id":"u"}');
    expect(channelAuthString('1.2', 'presence-a', '')).toBe('1.2:presence-a:');
    expect(userAuthString('1.2', '{"id":"u"}')).toBe('1.2::user::{"id":"u"}');
  });

  it('verifies only the exact auth string of this app for this signed string', () => {
    const signedString = channelAuthString('1.2', 'private-a');
    const hex = createHmac('sha256', app.secret).update(signedString).digest('hex');
    expect(verifyAuth(app, signedString, `${app.key}:${hex}`)).toBe(true);
    expect(verifyAuth(app, channelAuthString('1.3', 'private-a'), `${app.key}:${hex}`)).toBe(false);
    expect(verifyAuth({ ...app, secret: 'other' }, signedString, `${app.key}:${hex}`)).toBe(false);
    expect(verifyAuth(app, signedString, `other-key:${hex}`)).toBe(false);
    for (const auth of [undefined, null, 42, [`${app.key}:${hex}`]]) {
      expect(verifyAuth(app, signedString, auth)).toBe(false);
    }
  });
});
