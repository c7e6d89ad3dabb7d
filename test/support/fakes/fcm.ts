// A fake FCM HTTP v1 `messages:send` endpoint on 127.0.0.1 over TLS. It checks the bearer token
// (an RS256 JWT signed with a service account key it issued), then answers per device token as
// FCM does, and records every message it accepted.
//
// Tokens come from `credential(serviceAccount)`, a fake firebase-admin Credential: cert()'s own
// token exchange ignores httpAgent for service-account objects, so it cannot reach a fake.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import https from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Credential } from 'firebase-admin/app';
import { decodeJwt, importPKCS8, jwtVerify, SignJWT } from 'jose';
import { loopbackAgent } from './loopback-agent.js';
import { testCertificate } from './tls.js';

const AUDIENCE = 'https://fcm.googleapis.com/';

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
  message: Record<string, any>;
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
  /** A new service account of `firebaseProject` whose key this fake trusts. */
  serviceAccount(firebaseProject: string): FcmServiceAccount;
  /** A firebase-admin Credential that signs its access tokens with the account's key. */
  credential(account: { projectId: string; clientEmail: string; privateKey: string }): Credential;
  /** Refuses the account's tokens from now on, as Google does for a deleted key. */
  revoke(clientEmail: string): void;
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
  const tls = testCertificate(['fcm.googleapis.com']);

  /** The client email of a valid bearer token, or undefined. */
  async function authenticate(authorization: string): Promise<string | undefined> {
    const token = authorization.replace(/^Bearer /, '');
    try {
      const email = String(decodeJwt(token).iss);
      const account = accounts.get(email);
      if (!account || account.revoked) return undefined;
      await jwtVerify(token, account.publicKey, { audience: AUDIENCE, algorithms: ['RS256'] });
      return email;
    } catch {
      return undefined;
    }
  }

  async function handle(firebaseProject: string, authorization: string, body: string, res: ServerResponse) {
    const clientEmail = await authenticate(authorization);
    if (!clientEmail) return replyError(res, ERRORS.unauthenticated);
    if (accounts.get(clientEmail)!.projectId !== firebaseProject) {
      return replyError(res, { code: 403, status: 'PERMISSION_DENIED', message: 'Permission denied.' });
    }
    const message = (JSON.parse(body) as { message: Record<string, any> }).message;
    requests.push({ firebaseProject, clientEmail, message });
    const answer = answers.get(String(message.token)) ?? 'ok';
    if (answer !== 'ok') return replyError(res, ERRORS[answer]);
    reply(res, 200, { name: `projects/${firebaseProject}/messages/${randomBytes(8).toString('hex')}` });
  }

  const server = https.createServer(tls, (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
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
        token_uri: 'https://oauth2.googleapis.com/token',
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
