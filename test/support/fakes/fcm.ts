// A fake FCM on 127.0.0.1 over TLS: Google's OAuth token endpoint (oauth2.googleapis.com/token)
// and FCM HTTP v1 `messages:send`. The token endpoint verifies a service account's JWT
// assertion (RS256, signed with a key this fake issued, for Google's token audience and the FCM
// scope, at most an hour long) and hands out an opaque access token, as Google does for
// firebase-admin's cert(). `messages:send` accepts those tokens — or, from `credential()`, a
// JWT signed with the account's key — then answers per device token as FCM does, and records
// every message it accepted.
//
// cert()'s token request ignores httpAgent for a service account given as an object: it goes
// through https.globalAgent, which a test points at `agent` to reach this fake.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import https from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Credential } from 'firebase-admin/app';
import { decodeJwt, importPKCS8, jwtVerify, SignJWT } from 'jose';
import { loopbackAgent } from './loopback-agent.js';
import { testCertificate } from './tls.js';

const AUDIENCE = 'https://fcm.googleapis.com/';
const TOKEN_URL = 'https://oauth2.googleapis.com/token';
const FCM_SCOPES = [
  'https://www.googleapis.com/auth/firebase.messaging',
  'https://www.googleapis.com/auth/cloud-platform',
];

/** How the fake answers for one device token. */
export type FcmAnswer = 'ok' | 'unregistered' | 'invalid-token' | 'unavailable' | 'quota' | 'unauthenticated';

export interface FcmServiceAccount {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  token_uri: string;
}

export interface FcmRequest {
  firebaseProject: string;
  clientEmail: string;
  /** How the bearer token was obtained: exchanged at the token endpoint, or self-signed. */
  via: 'exchanged' | 'signed';
  message: Record<string, any>;
}

/** One assertion the token endpoint accepted. */
export interface TokenExchange {
  clientEmail: string;
  scopes: string[];
  accessToken: string;
}

interface FcmError {
  code: number;
  status: string;
  message: string;
  fcm?: string;
}

const ERRORS: Record<Exclude<FcmAnswer, 'ok'>, FcmError> = {
  unregistered: {
    code: 404,
    status: 'NOT_FOUND',
    fcm: 'UNREGISTERED',
    message: 'Requested entity was not found.',
  },
  'invalid-token': {
    code: 400,
    status: 'INVALID_ARGUMENT',
    fcm: 'INVALID_ARGUMENT',
    message: 'The registration token is not a valid FCM registration token',
  },
  unavailable: {
    code: 503,
    status: 'UNAVAILABLE',
    fcm: 'UNAVAILABLE',
    message: 'The service is currently unavailable.',
  },
  quota: { code: 429, status: 'RESOURCE_EXHAUSTED', fcm: 'QUOTA_EXCEEDED', message: 'Quota exceeded.' },
  unauthenticated: {
    code: 401,
    status: 'UNAUTHENTICATED',
    message: 'Request had invalid authentication credentials.',
  },
};

export interface FakeFcm {
  /** Takes firebase-admin's requests to fcm.googleapis.com to this fake. */
  agent: https.Agent;
  requests: FcmRequest[];
  exchanges: TokenExchange[];
  /** Assertions the token endpoint refused, with why. */
  refusedExchanges: string[];
  /** A new service account of `firebaseProject` whose key this fake trusts. */
  serviceAccount(firebaseProject: string): FcmServiceAccount;
  /** A firebase-admin Credential that signs its access tokens with the account's key. */
  credential(account: { projectId: string; clientEmail: string; privateKey: string }): Credential;
  /** Refuses the account's tokens from now on, as Google does for a deleted key. */
  revoke(clientEmail: string): void;
  /** Trusts a revoked account again, as when its key is re-enabled. */
  restore(clientEmail: string): void;
  answer(deviceToken: string, answer: FcmAnswer): void;
  close(): Promise<void>;
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
}

function replyError(res: ServerResponse, { fcm, ...error }: FcmError) {
  const details = fcm
    ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: fcm }]
    : [];
  // Over 60 s the SDK hands the 503 back at once instead of retrying it itself for ~7 s.
  const headers: Record<string, string> = error.code === 503 ? { 'retry-after': '120' } : {};
  reply(res, error.code, { error: { ...error, details } }, headers);
}

export async function startFakeFcm(): Promise<FakeFcm> {
  const accounts = new Map<string, { projectId: string; publicKey: KeyObject; revoked: boolean }>();
  const answers = new Map<string, FcmAnswer>();
  const requests: FcmRequest[] = [];
  const exchanges: TokenExchange[] = [];
  const refusedExchanges: string[] = [];
  const issued = new Map<string, { clientEmail: string; expiresAt: number }>(); // access token → owner
  const tls = testCertificate(['fcm.googleapis.com', 'oauth2.googleapis.com']);

  /** The client email of a valid bearer token, and how it was obtained; or undefined. */
  async function authenticate(authorization: string) {
    const token = authorization.replace(/^Bearer /, '');
    const exchanged = issued.get(token);
    if (exchanged) {
      const account = accounts.get(exchanged.clientEmail);
      if (!account || account.revoked || exchanged.expiresAt < Date.now()) return undefined;
      return { email: exchanged.clientEmail, via: 'exchanged' as const };
    }
    try {
      const email = String(decodeJwt(token).iss);
      const account = accounts.get(email);
      if (!account || account.revoked) return undefined;
      await jwtVerify(token, account.publicKey, { audience: AUDIENCE, algorithms: ['RS256'] });
      return { email, via: 'signed' as const };
    } catch {
      return undefined;
    }
  }

  /** Google's JWT-bearer grant: verifies the assertion, answers as oauth2.googleapis.com does. */
  async function exchange(body: string, res: ServerResponse) {
    const form = new URLSearchParams(body);
    const refuse = (why: string) => {
      refusedExchanges.push(why);
      reply(res, 400, { error: 'invalid_grant', error_description: why });
    };
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return refuse('Unsupported grant_type');
    const assertion = form.get('assertion') ?? '';
    let clientEmail: string;
    let scopes: string[];
    try {
      clientEmail = String(decodeJwt(assertion).iss);
      const account = accounts.get(clientEmail);
      if (!account) return refuse('Invalid JWT Signature.');
      if (account.revoked) return refuse('Invalid grant: account not found');
      const { payload } = await jwtVerify(assertion, account.publicKey, {
        audience: TOKEN_URL,
        algorithms: ['RS256'],
        maxTokenAge: '1h',
      });
      if (
        typeof payload.exp !== 'number' ||
        typeof payload.iat !== 'number' ||
        payload.exp - payload.iat > 3600
      )
        return refuse('Invalid JWT: the token lives longer than an hour');
      scopes = String(payload.scope ?? '').split(' ');
    } catch (err) {
      return refuse(`Invalid JWT Signature. (${(err as Error).message})`);
    }
    if (!FCM_SCOPES.some((scope) => scopes.includes(scope))) return refuse('Invalid scope for FCM');
    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    issued.set(accessToken, { clientEmail, expiresAt: Date.now() + 3_600_000 });
    exchanges.push({ clientEmail, scopes, accessToken });
    reply(res, 200, { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' });
  }

  async function handle(firebaseProject: string, authorization: string, body: string, res: ServerResponse) {
    const caller = await authenticate(authorization);
    if (!caller) return replyError(res, ERRORS.unauthenticated);
    const clientEmail = caller.email;
    if (accounts.get(clientEmail)!.projectId !== firebaseProject) {
      return replyError(res, { code: 403, status: 'PERMISSION_DENIED', message: 'Permission denied.' });
    }
    const message = (JSON.parse(body) as { message: Record<string, any> }).message;
    requests.push({ firebaseProject, clientEmail, via: caller.via, message });
    const answer = answers.get(String(message.token)) ?? 'ok';
    if (answer !== 'ok') return replyError(res, ERRORS[answer]);
    reply(res, 200, { name: `projects/${firebaseProject}/messages/${randomBytes(8).toString('hex')}` });
  }

  const server = https.createServer(tls, (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.headers.host === 'oauth2.googleapis.com' && req.url === '/token')
        return void exchange(body, res);
      const send = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !send)
        return reply(res, 404, { error: { code: 404, status: 'NOT_FOUND' } });
      void handle(send[1]!, req.headers.authorization ?? '', body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = loopbackAgent((server.address() as AddressInfo).port, tls.cert);

  return {
    agent,
    requests,
    exchanges,
    refusedExchanges,
    serviceAccount(firebaseProject) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const clientEmail = `tocsin-${randomBytes(4).toString('hex')}@${firebaseProject}.iam.gserviceaccount.com`;
      accounts.set(clientEmail, { projectId: firebaseProject, publicKey, revoked: false });
      return {
        type: 'service_account',
        project_id: firebaseProject,
        private_key_id: randomBytes(20).toString('hex'),
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        client_email: clientEmail,
        client_id: String(Date.now()),
        token_uri: TOKEN_URL,
      };
    },
    credential(account) {
      return {
        async getAccessToken() {
          const key = await importPKCS8(account.privateKey, 'RS256');
          const accessToken = await new SignJWT({})
            .setProtectedHeader({ alg: 'RS256' })
            .setIssuer(account.clientEmail)
            .setAudience(AUDIENCE)
            .setIssuedAt()
            .setExpirationTime('1h')
            .sign(key);
          return { access_token: accessToken, expires_in: 3600 };
        },
      };
    },
    revoke(clientEmail) {
      const account = accounts.get(clientEmail);
      if (account) account.revoked = true;
    },
    restore(clientEmail) {
      const account = accounts.get(clientEmail);
      if (account) account.revoked = false;
    },
    answer(deviceToken, answer) {
      answers.set(deviceToken, answer);
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
