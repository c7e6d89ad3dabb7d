// FCM for Android and web devices through firebase-admin: one Firebase app per project, built
// from its service account and rebuilt when that changes.
import { randomUUID } from 'node:crypto';
import type { Agent } from 'node:http';
import { cert, deleteApp, initializeApp, type Credential } from 'firebase-admin/app';
import { getMessaging, type Messaging } from 'firebase-admin/messaging';
import { credentialsFingerprint, type FcmCredentials } from '../../domain/provider-credentials.js';
import { chunk } from './chunk.js';
import { classifyFcmError } from './classify.js';
import { createClientCache } from './clients.js';
import type { PushPayload } from './payload.js';
import type { DeviceResult, PushDevice, PushSender } from './sender.js';

export type FcmSender = PushSender<FcmCredentials>;

export interface ServiceAccountKey {
  projectId: string;
  clientEmail: string;
  privateKey: string;
}

export interface FcmOptions {
  /** Carries every FCM request: a proxy, or a fake server in tests. */
  httpAgent?: Agent;
  /**
   * Turns a service account into an access-token source. Default: firebase-admin's cert(),
   * which fetches tokens from Google directly (it ignores httpAgent for a key given as an object).
   */
  credential?: (key: ServiceAccountKey) => Credential;
}

/** sendEach's limit. */
const MAX_MESSAGES = 500;

export function createFcmSender(options: FcmOptions = {}): FcmSender {
  const credentialOf = options.credential ?? ((key: ServiceAccountKey) => cert(key, options.httpAgent));
  const apps = createClientCache<Messaging>((messaging) => deleteApp(messaging.app));

  const messagingFor = (projectId: string, credentials: FcmCredentials): Messaging =>
    apps.get(projectId, credentialsFingerprint(credentials), () => {
      const { project_id, client_email, private_key } = credentials.serviceAccount;
      const app = initializeApp(
        {
          credential: credentialOf({
            projectId: project_id,
            clientEmail: client_email,
            privateKey: private_key,
          }),
          projectId: project_id,
          httpAgent: options.httpAgent,
        },
        // App names are global to firebase-admin; a replaced app is deleted asynchronously.
        `tocsin:${projectId}:${randomUUID()}`,
      );
      const messaging = getMessaging(app);
      // HTTP/1.1 honours httpAgent; the HTTP/2 transport dials fcm.googleapis.com itself.
      messaging.enableLegacyHttpTransport();
      return messaging;
    });

  async function sendBatch(messaging: Messaging, devices: PushDevice[], payload: PushPayload) {
    try {
      const { responses } = await messaging.sendEach(
        devices.map((d) => ({ ...payload.fcm, token: d.token })),
      );
      return devices.map((device, i): DeviceResult => {
        const response = responses[i]!;
        if (response.success) return { deviceId: device.id, outcome: 'delivered' };
        return { deviceId: device.id, ...classifyFcmError(response.error ?? {}) };
      });
    } catch (err) {
      // The whole call failed (e.g. a message the SDK refuses): every device shares the cause.
      const failure = classifyFcmError(err as { code?: string; message?: string });
      return devices.map((device): DeviceResult => ({ deviceId: device.id, ...failure }));
    }
  }

  return {
    async send(projectId, credentials, devices, payload) {
      if (devices.length === 0) return [];
      const messaging = messagingFor(projectId, credentials);
      const batches = chunk(devices, MAX_MESSAGES);
      return (await Promise.all(batches.map((batch) => sendBatch(messaging, batch, payload)))).flat();
    },
    close: () => apps.close(),
  };
}
