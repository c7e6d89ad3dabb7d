// Pusher's HMAC-SHA256 signatures: channel subscriptions (`socket_id:channel[:channel_data]`),
// user sign-in (`socket_id::user::user_data`) and HTTP API requests. Comparisons are constant time.
import { createHash, createHmac } from 'node:crypto';
import { constantTimeEqual } from '../crypto.js';

export interface AppCredentials {
  key: string;
  secret: string;
}

const hmacHex = (secret: string, data: string): string =>
  createHmac('sha256', secret).update(data, 'utf8').digest('hex');

export const channelAuthString = (socketId: string, channel: string, channelData?: string): string =>
  channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;

export const userAuthString = (socketId: string, userData: string): string =>
  `${socketId}::user::${userData}`;

/** The `auth` value a client presents: `key:hex(hmac(secret, signed))`. */
export const signAuth = (app: AppCredentials, signed: string): string =>
  `${app.key}:${hmacHex(app.secret, signed)}`;

export function verifyAuth(app: AppCredentials, signed: string, auth: unknown): boolean {
  if (typeof auth !== 'string') return false;
  return constantTimeEqual(auth, signAuth(app, signed));
}

export const API_TIMESTAMP_TOLERANCE_SEC = 600;

export interface SignedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
}

/** The string Pusher signs: method, path and the sorted query without the signature. */
export function apiStringToSign(request: Omit<SignedRequest, 'body'>): string {
  const pairs = [...request.query.entries()]
    .filter(([name]) => name.toLowerCase() !== 'auth_signature')
    .map(([name, value]) => [name.toLowerCase(), value] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`);
  return [request.method.toUpperCase(), request.path, pairs.join('&')].join('\n');
}

export const bodyMd5 = (body: string): string => createHash('md5').update(body, 'utf8').digest('hex');

/** Checks a signed HTTP API request as Pusher does; returns why it fails, or undefined. */
export function apiRequestFailure(
  app: AppCredentials,
  request: SignedRequest,
  nowSec: number,
): string | undefined {
  const q = request.query;
  const key = q.get('auth_key');
  const timestamp = q.get('auth_timestamp');
  const signature = q.get('auth_signature');
  if (!key || !timestamp || !signature || !q.get('auth_version')) {
    return 'auth_key, auth_timestamp, auth_version and auth_signature are required';
  }
  if (q.get('auth_version') !== '1.0') return 'auth_version must be 1.0';
  if (!constantTimeEqual(key, app.key)) return 'Unknown auth_key';
  const sent = Number(timestamp);
  if (!Number.isInteger(sent) || Math.abs(nowSec - sent) > API_TIMESTAMP_TOLERANCE_SEC) {
    return `auth_timestamp must be within ${API_TIMESTAMP_TOLERANCE_SEC} seconds of the server time`;
  }
  if (request.body.length > 0 || q.has('body_md5')) {
    if (!constantTimeEqual(q.get('body_md5') ?? '', bodyMd5(request.body))) {
      return 'body_md5 does not match the body';
    }
  }
  if (!constantTimeEqual(signature, hmacHex(app.secret, apiStringToSign(request)))) {
    return 'Invalid signature';
  }
  return undefined;
}
