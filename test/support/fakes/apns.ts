// A fake APNs provider API: HTTP/2 over TLS on 127.0.0.1. It verifies the provider token as
// Apple does (an ES256 JWT whose `kid` names a key it issued and whose `iss` is that key's
// team; refused once older than an hour, and a key's token may change at most once per 20
// minutes), checks apns-push-type and the 4 KB payload limit, then answers per device token with
// Apple's statuses and reasons. It records every notification it accepted.
import { generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { testCertificate } from './tls.js';

/** How the fake answers for one device token. */
export type ApnsAnswer =
  'ok' | 'bad-token' | 'unregistered' | 'unavailable' | 'too-many' | 'invalid-provider-token';

const ANSWERS: Record<Exclude<ApnsAnswer, 'ok'>, { status: number; reason: string }> = {
  'bad-token': { status: 400, reason: 'BadDeviceToken' },
  unregistered: { status: 410, reason: 'Unregistered' },
  unavailable: { status: 503, reason: 'ServiceUnavailable' },
  'too-many': { status: 429, reason: 'TooManyRequests' },
  'invalid-provider-token': { status: 403, reason: 'InvalidProviderToken' },
};

export interface ApnsSigningKey {
  keyP8: string;
  keyId: string;
  teamId: string;
}

export interface ApnsRequest {
  deviceToken: string;
  keyId: string;
  headers: Record<string, string | undefined>;
  payload: Record<string, any>;
}

/** Apple's limits: a token lives an hour; a key's token is renewed at most once per 20 min. */
const TOKEN_MAX_AGE_SEC = 3600;
const TOKEN_MIN_RENEWAL_SEC = 20 * 60;
const PAYLOAD_MAX_BYTES = 4096;
const PUSH_TYPES = new Set([
  'alert',
  'background',
  'location',
  'voip',
  'complication',
  'fileprovider',
  'mdm',
  'liveactivity',
  'pushtotalk',
  'widgets',
  'controls',
]);

export interface FakeApns {
  address: string;
  port: number;
  /** The fake's self-signed certificate, for the client's `ca`. */
  ca: string;
  requests: ApnsRequest[];
  /** Every request that reached the fake, accepted or not (retries show here). */
  attempts: string[];
  /** Each provider token a key presented for the first time, with its `iat` (seconds). */
  tokens: Array<{ keyId: string; iat: number }>;
  /** A new .p8 key (PKCS8 PEM, P-256) this fake trusts. */
  signingKey(): ApnsSigningKey;
  /** Answers 403 InvalidProviderToken to the key's tokens from now on (a revoked key). */
  revoke(keyId: string): void;
  answer(deviceToken: string, answer: ApnsAnswer): void;
  close(): Promise<void>;
}

export async function startFakeApns(): Promise<FakeApns> {
  const keys = new Map<string, { teamId: string; publicKey: KeyObject; revoked: boolean }>();
  const answers = new Map<string, ApnsAnswer>();
  const requests: ApnsRequest[] = [];
  const attempts: string[] = [];
  const tokens: Array<{ keyId: string; iat: number }> = [];
  const tls = testCertificate(['api.sandbox.push.apple.com', 'api.push.apple.com']);

  const current = new Map<string, { token: string; iat: number }>(); // key id → its token

  /** The key id of a valid provider token, or Apple's refusal. */
  async function authenticate(
    authorization: string,
  ): Promise<{ keyId: string } | { status: number; reason: string }> {
    const token = authorization.replace(/^bearer /i, '');
    const invalid = { status: 403, reason: 'InvalidProviderToken' };
    let keyId: string;
    try {
      keyId = String(decodeProtectedHeader(token).kid);
      const key = keys.get(keyId);
      if (!key || key.revoked) return invalid;
      await jwtVerify(token, key.publicKey, { issuer: key.teamId, algorithms: ['ES256'] });
    } catch {
      return invalid;
    }
    const iat = Number(decodeJwt(token).iat);
    if (!Number.isInteger(iat)) return invalid;
    if (Date.now() / 1000 - iat > TOKEN_MAX_AGE_SEC) return { status: 403, reason: 'ExpiredProviderToken' };
    const last = current.get(keyId);
    if (last?.token !== token) {
      if (last && iat - last.iat < TOKEN_MIN_RENEWAL_SEC)
        return { status: 429, reason: 'TooManyProviderTokenUpdates' };
      current.set(keyId, { token, iat });
      tokens.push({ keyId, iat });
    }
    return { keyId };
  }

  const server = http2.createSecureServer(tls);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      void (async () => {
        const respond = (status: number, reason?: string) => {
          stream.respond({ ':status': status, 'apns-id': String(headers['apns-id'] ?? randomUUID()) });
          stream.end(
            reason ? JSON.stringify({ reason, ...(status === 410 ? { timestamp: Date.now() } : {}) }) : '',
          );
        };
        const deviceToken = /^\/3\/device\/([0-9A-Za-z]+)$/.exec(String(headers[':path']))?.[1];
        if (headers[':method'] !== 'POST' || !deviceToken) return respond(404, 'BadPath');
        attempts.push(deviceToken);
        const auth = await authenticate(String(headers.authorization ?? ''));
        if ('reason' in auth) return respond(auth.status, auth.reason);
        const { keyId } = auth;
        if (!headers['apns-topic']) return respond(400, 'MissingTopic');
        if (!PUSH_TYPES.has(String(headers['apns-push-type']))) return respond(400, 'InvalidPushType');
        if (Buffer.byteLength(body) > PAYLOAD_MAX_BYTES) return respond(413, 'PayloadTooLarge');
        const answer = answers.get(deviceToken) ?? 'ok';
        if (answer !== 'ok') return respond(ANSWERS[answer].status, ANSWERS[answer].reason);
        const picked = [
          'apns-topic',
          'apns-priority',
          'apns-push-type',
          'apns-collapse-id',
          'apns-expiration',
        ];
        requests.push({
          deviceToken,
          keyId,
          headers: Object.fromEntries(picked.map((name) => [name, headers[name] as string | undefined])),
          payload: JSON.parse(body) as Record<string, any>,
        });
        respond(200);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    address: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    ca: tls.cert,
    requests,
    attempts,
    tokens,
    signingKey() {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const keyId = randomBytes(5).toString('hex').toUpperCase();
      const teamId = randomBytes(5).toString('hex').toUpperCase();
      keys.set(keyId, { teamId, publicKey, revoked: false });
      return { keyP8: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), keyId, teamId };
    },
    revoke(keyId) {
      const key = keys.get(keyId);
      if (key) key.revoked = true;
    },
    answer(deviceToken, answer) {
      answers.set(deviceToken, answer);
    },
    async close() {
      for (const session of sessions) session.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
