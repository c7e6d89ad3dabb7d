// Real-shaped push credentials for tests: freshly generated keys, never real ones.
import { generateKeyPairSync } from 'node:crypto';

export const pkcs8Pem = (type: 'ec' | 'rsa'): string =>
  (type === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
  )
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();

export const serviceAccount = (projectId = 'fb-project') => ({
  project_id: projectId,
  client_email: `tocsin@${projectId}.iam.gserviceaccount.com`,
  private_key: pkcs8Pem('rsa'),
});

export const apnsKey = () => ({
  keyP8: pkcs8Pem('ec'),
  keyId: 'ABCDE12345',
  teamId: 'TEAM123456',
  bundleId: 'com.example.tocsin',
  production: false,
});
