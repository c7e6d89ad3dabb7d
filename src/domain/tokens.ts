// Access tokens (short-lived JWTs) and refresh tokens (opaque, stored hashed, rotated on every
// use; reusing a rotated one revokes its whole family). Revocation before expiry: a per-token
// deny list (logout) and a per-user "revoked before" mark (suspension, password change).
import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import { keyedHash, randomToken } from '../core/crypto.js';
import { unauthorized } from '../core/errors.js';
import { uuidv7 } from '../core/ids.js';
import type { DomainDeps } from './deps.js';
import type { Permission } from './permissions.js';

const ISSUER = 'tocsin';

export interface AccessClaims {
  sub: string;
  /** Project of a user token; absent for super admins. */
  pid?: string;
  sa?: true;
  roles: string[];
  perms: Permission[];
  jti: string;
  exp: number;
  /** Issued-at in milliseconds: revocation marks are compared at this precision. */
  iatMs: number;
}

type TokenDeps = Pick<DomainDeps, 'config' | 'redis' | 'keys'>;

const secretOf = (deps: TokenDeps) => new TextEncoder().encode(deps.config.secrets.jwtSecret);

export async function issueAccessToken(
  deps: TokenDeps,
  subject: { sub: string; pid?: string; sa?: true; roles: string[]; perms: Permission[] },
): Promise<{ accessToken: string; expiresIn: number }> {
  const expiresIn = deps.config.auth.accessTokenTtlSeconds;
  const accessToken = await new SignJWT({ ...subject, iatMs: Date.now() })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setSubject(subject.sub)
    .setJti(uuidv7())
    .setIssuedAt()
    .setExpirationTime(`${expiresIn}s`)
    .sign(secretOf(deps));
  return { accessToken, expiresIn };
}

const deniedKey = (deps: TokenDeps, jti: string) => deps.keys.system('denied-jti', jti);
const revokedBeforeKey = (deps: TokenDeps, subject: string) => deps.keys.system('revoked-before', subject);

/** Verifies signature, expiry, the deny list and the subject's revocation mark. */
export async function verifyAccessToken(deps: TokenDeps, token: string): Promise<AccessClaims> {
  let claims: AccessClaims;
  try {
    const { payload } = await jwtVerify(token, secretOf(deps), { issuer: ISSUER, algorithms: ['HS256'] });
    claims = payload as unknown as AccessClaims;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired)
      throw unauthorized('token_expired', 'The access token has expired');
    throw unauthorized('token_invalid', 'The access token is not valid');
  }
  const [denied, revokedBefore] = await deps.redis.mget(
    deniedKey(deps, claims.jti),
    revokedBeforeKey(deps, claims.sub),
  );
  if (denied) throw unauthorized('token_revoked', 'The access token has been revoked');
  if (revokedBefore && claims.iatMs <= Number(revokedBefore)) {
    throw unauthorized('token_revoked', 'The access token has been revoked');
  }
  return claims;
}

/** Denies one access token until it would have expired anyway. */
export async function denyAccessToken(
  deps: TokenDeps,
  claims: Pick<AccessClaims, 'jti' | 'exp'>,
): Promise<void> {
  const ttl = Math.max(1, claims.exp - Math.floor(Date.now() / 1000));
  await deps.redis.set(deniedKey(deps, claims.jti), '1', 'EX', ttl);
}

/** Every access token of `subject` issued until now stops working. */
export async function revokeAccessTokensOf(deps: TokenDeps, subject: string): Promise<void> {
  await deps.redis.set(
    revokedBeforeKey(deps, subject),
    String(Date.now()),
    'EX',
    deps.config.auth.accessTokenTtlSeconds,
  );
}

export const hashRefreshToken = (deps: TokenDeps, token: string) =>
  keyedHash(token, deps.config.secrets.apiKeyPepper);

/** Starts or continues a refresh-token family; returns the opaque token, shown once. */
export async function createRefreshSession(
  deps: Pick<DomainDeps, 'config' | 'db' | 'redis' | 'keys'>,
  owner: {
    projectId?: string;
    userId?: string;
    adminId?: string;
    familyId?: string;
    ip?: string;
    userAgent?: string;
  },
): Promise<{ refreshToken: string; refreshExpiresIn: number }> {
  const refreshToken = randomToken(32);
  const refreshExpiresIn = deps.config.auth.refreshTokenTtlSeconds;
  await deps.db.system.session.create({
    data: {
      projectId: owner.projectId ?? null,
      userId: owner.userId ?? null,
      adminId: owner.adminId ?? null,
      familyId: owner.familyId ?? uuidv7(),
      tokenHash: hashRefreshToken(deps, refreshToken),
      expiresAt: new Date(Date.now() + refreshExpiresIn * 1000),
      ip: owner.ip?.slice(0, 45) ?? null,
      userAgent: owner.userAgent?.slice(0, 255) ?? null,
    },
  });
  return { refreshToken, refreshExpiresIn };
}
