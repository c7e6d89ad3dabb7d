// Our own verifier of AWS Signature Version 4 presigned URLs (query-string auth, as S3 checks
// them), written from AWS's specification with node:crypto only: s3rver checks a presigned URL's
// expiry and access key but not its signature, so the tests check that here.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ is %XX. */
const uriEncode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const MAX_EXPIRES_SEC = 7 * 24 * 3600;

/**
 * Why a presigned GET URL would be refused by S3 with `secretAccessKey` at `now`, or undefined
 * when it is valid: the algorithm, the credential scope, the expiry window and the signature.
 */
export function presignedUrlFailure(
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  now: Date = new Date(),
): string | undefined {
  const parsed = new URL(url);
  const q = parsed.searchParams;
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return 'X-Amz-Algorithm must be AWS4-HMAC-SHA256';
  const [accessKeyId, date, region, service, terminator, ...extra] = (q.get('X-Amz-Credential') ?? '').split(
    '/',
  );
  if (extra.length || terminator !== 'aws4_request' || !date || !region || !service)
    return 'X-Amz-Credential is not key/date/region/service/aws4_request';
  if (accessKeyId !== credentials.accessKeyId) return 'Unknown access key';
  const amzDate = q.get('X-Amz-Date') ?? '';
  const stamp = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!stamp || amzDate.slice(0, 8) !== date) return 'X-Amz-Date does not match the credential date';
  const signedAt = Date.UTC(+stamp[1]!, +stamp[2]! - 1, +stamp[3]!, +stamp[4]!, +stamp[5]!, +stamp[6]!);
  const expires = Number(q.get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_EXPIRES_SEC) return 'Bad X-Amz-Expires';
  if (now.getTime() < signedAt - 15 * 60_000) return 'Signed in the future';
  if (now.getTime() > signedAt + expires * 1000) return 'Request has expired';

  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  if (!signedHeaders.includes('host')) return 'host must be signed';
  // A browser or player sends no other header we could know the value of.
  if (signedHeaders.some((h) => h !== 'host')) return `Unexpected signed headers ${signedHeaders.join(';')}`;
  const query = [...q.entries()]
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  // S3 signs the path as sent (each segment already encoded once).
  const canonicalRequest = [
    'GET',
    parsed.pathname,
    query,
    `host:${parsed.host}\n`,
    'host',
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = [date, region, service, 'aws4_request'].join('/');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = [date, region, service, 'aws4_request'].reduce<Buffer | string>(
    (k, part) => hmac(k, part),
    `AWS4${credentials.secretAccessKey}`,
  );
  const expected = Buffer.from(createHmac('sha256', key).update(stringToSign).digest('hex'));
  const sent = Buffer.from(q.get('X-Amz-Signature') ?? '');
  return sent.length === expected.length && timingSafeEqual(sent, expected)
    ? undefined
    : 'Signature mismatch';
}
