// S3 (or any S3-compatible store): objects in one bucket, read through presigned GET URLs.
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Config } from '../../core/config.js';
import type { ObjectStorage } from './index.js';
import { assertSafeKey } from './keys.js';

export interface S3Storage extends ObjectStorage {
  kind: 's3';
}

export function createS3Storage(config: S3Config): S3Storage {
  const client = new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    credentials: config.credentials,
    // Path-style works with every S3-compatible server (MinIO, s3rver, R2) and needs no DNS per bucket.
    forcePathStyle: true,
    // The SDK's default CRC32 checksums are not understood by many S3-compatible servers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = config.bucket;
  return {
    kind: 's3',
    async put(key, body, contentType) {
      assertSafeKey(key);
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: contentType }));
    },
    async delete(key) {
      assertSafeKey(key);
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
    signedUrl(key, ttlSeconds) {
      assertSafeKey(key);
      return getSignedUrl(client, new GetObjectCommand({ Bucket, Key: key }), { expiresIn: ttlSeconds });
    },
    close: async () => client.destroy(),
  };
}
