// Where uploaded files live: one small interface, two drivers. Keys are made by the server
// (never from user input) and always carry the project id.
import type { Config } from '../../core/config.js';
import { createLocalStorage, type LocalStorage } from './local.js';
import { createS3Storage, type S3Storage } from './s3.js';

export interface ObjectStorage {
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** Deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** A URL anyone holding it may GET until `ttlSeconds` have passed. */
  signedUrl(key: string, ttlSeconds: number): Promise<string>;
  close(): Promise<void>;
}

export type Storage = LocalStorage | S3Storage;

export function createStorage(config: Config): Storage {
  const { storage } = config;
  if (storage.driver === 's3') return createS3Storage(storage.s3!);
  return createLocalStorage({
    dir: storage.localDir,
    publicUrl: config.http.publicUrl,
    secret: config.secrets.encryptionKey,
  });
}
