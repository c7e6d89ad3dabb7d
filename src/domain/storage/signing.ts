// Signed, expiring URLs for the local driver: HMAC-SHA256 over key and expiry with a key
// derived from the server's encryption key (so no extra secret to manage).
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../../core/crypto.js';

export type UrlSigner = ReturnType<typeof createUrlSigner>;

export type Verdict = 'ok' | 'expired' | 'invalid';

const EXPIRES = /^\d{1,12}$/;

export function createUrlSigner(serverSecret: Buffer) {
  const key = createHmac('sha256', serverSecret).update('tocsin/local-file-urls/v1').digest();
  const sign = (objectKey: string, expires: number) =>
    createHmac('sha256', key).update(`${objectKey}\n${expires}`).digest('hex');
  return {
    /** Query parameters for `objectKey`, valid until `expires` (unix seconds). */
    sign: (objectKey: string, expires: number) => ({
      expires: String(expires),
      signature: sign(objectKey, expires),
    }),
    verify(
      objectKey: string,
      expires: string | undefined,
      signature: string | undefined,
      now = Date.now(),
    ): Verdict {
      if (!expires || !signature || !EXPIRES.test(expires)) return 'invalid';
      // Check the signature before the expiry, so a forged URL never learns whether its time is right.
      if (!constantTimeEqual(sign(objectKey, Number(expires)), signature)) return 'invalid';
      return Number(expires) * 1000 < now ? 'expired' : 'ok';
    },
  };
}
