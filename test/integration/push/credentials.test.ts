import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.js';
import {
  readProviderCredentials,
  resolveProviderCredentials,
  setProviderCredentials,
} from '../../../src/domain/provider-credentials.js';
import { uuidv7 } from '../../../src/core/ids.js';
import { apnsKey, serviceAccount } from '../../support/fakes/keys.js';
import { createProjectRow, pushServices } from './support.js';

const services = pushServices();
afterAll(() => services.close());

const pusher = { appId: '42', key: 'pusher-key', secret: 'pusher-secret-value', cluster: 'eu' };

describe('provider credentials at rest', () => {
  it('stores them encrypted, reads them back, and removes one provider with null', async () => {
    const projectId = await createProjectRow(services);
    const account = serviceAccount();
    const redacted = await setProviderCredentials(services, projectId, 'fcm', { serviceAccount: account });
    expect(redacted.fcm).toEqual({ projectId: account.project_id, clientEmail: account.client_email });
    await setProviderCredentials(services, projectId, 'pusher', pusher);

    const row = await services.db.system.project.findUniqueOrThrow({ where: { id: projectId } });
    expect(row.secretsEnc).toMatch(/^v1\./);
    for (const secret of ['PRIVATE KEY', pusher.secret, account.client_email])
      expect(row.secretsEnc).not.toContain(secret);

    expect(await readProviderCredentials(services, projectId)).toEqual({
      fcm: { serviceAccount: account },
      pusher: { ...pusher, useTLS: true },
    });
    await setProviderCredentials(services, projectId, 'fcm', null);
    expect(await readProviderCredentials(services, projectId)).toEqual({
      pusher: { ...pusher, useTLS: true },
    });
  });

  it('keeps both changes when two providers are set at the same time', async () => {
    const projectId = await createProjectRow(services);
    const key = apnsKey();
    await Promise.all([
      setProviderCredentials(services, projectId, 'apns', key),
      setProviderCredentials(services, projectId, 'pusher', pusher),
      setProviderCredentials(services, projectId, 'fcm', { serviceAccount: serviceAccount() }),
    ]);
    const stored = await readProviderCredentials(services, projectId);
    expect(Object.keys(stored).sort()).toEqual(['apns', 'fcm', 'pusher']);
    expect(stored.apns).toEqual(key);
  });

  it('refuses invalid credentials with the fields at fault, never their values', async () => {
    const projectId = await createProjectRow(services);
    const bad = { ...apnsKey(), keyP8: 'not-a-key-secret-material' };
    const err = await setProviderCredentials(services, projectId, 'apns', bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 400, code: 'invalid_credentials' });
    expect(JSON.stringify((err as AppError).details)).toContain('keyP8');
    expect(JSON.stringify((err as AppError).details)).not.toContain('secret-material');
    expect(await readProviderCredentials(services, projectId)).toEqual({});
  });

  it('falls back to the global FCM and APNs credentials', async () => {
    const projectId = await createProjectRow(services);
    const global = { fcm: { serviceAccount: serviceAccount('global') }, apns: apnsKey() };
    const deps = { ...services, config: { ...services.config, push: global } };
    expect(await resolveProviderCredentials(deps, projectId)).toEqual({ ...global, pusher: undefined });
    const own = { serviceAccount: serviceAccount('own') };
    await setProviderCredentials(deps, projectId, 'fcm', own);
    expect((await resolveProviderCredentials(deps, projectId)).fcm).toEqual(own);
  });

  it('answers 404 for a project that does not exist', async () => {
    await expect(readProviderCredentials(services, uuidv7())).rejects.toMatchObject({ status: 404 });
    await expect(setProviderCredentials(services, uuidv7(), 'pusher', pusher)).rejects.toMatchObject({
      status: 404,
    });
  });
});
