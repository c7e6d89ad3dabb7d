// The SigV4 verifier the S3 tests rely on, checked against AWS's own published example of a
// presigned URL (S3 API reference, "Authenticating Requests: Using Query Parameters").
import { describe, expect, it } from 'vitest';
import { presignedUrlFailure } from '../support/sigv4.js';

const AWS_EXAMPLE =
  'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
  '&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
  '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
  '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const signedAt = new Date('2013-05-24T00:00:00Z');

describe('presignedUrlFailure', () => {
  it("accepts AWS's example and refuses it changed, late or with another secret", () => {
    expect(presignedUrlFailure(AWS_EXAMPLE, credentials, signedAt)).toBeUndefined();
    expect(presignedUrlFailure(AWS_EXAMPLE.replace('test.txt', 'test.txv'), credentials, signedAt)).toBe(
      'Signature mismatch',
    );
    expect(presignedUrlFailure(AWS_EXAMPLE, { ...credentials, secretAccessKey: 'x' }, signedAt)).toBe(
      'Signature mismatch',
    );
    expect(presignedUrlFailure(AWS_EXAMPLE, credentials, new Date(signedAt.getTime() + 86_401_000))).toBe(
      'Request has expired',
    );
    expect(presignedUrlFailure(AWS_EXAMPLE, { ...credentials, accessKeyId: 'OTHER' }, signedAt)).toBe(
      'Unknown access key',
    );
  });
});
