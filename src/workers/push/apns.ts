// APNs for iOS devices through @parse/node-apn with token auth (.p8 key, key id, team id): one
// provider — one HTTP/2 session — per project, rebuilt when its key or environment changes.
import apn from '@parse/node-apn';
import { credentialsFingerprint, type ApnsCredentials } from '../../domain/provider-credentials.js';
import { classifyApnsFailure } from './classify.js';
import { createClientCache } from './clients.js';
import type { PushPayload } from './payload.js';
import type { DeviceResult, PushDevice, PushSender } from './sender.js';

export type ApnsSender = PushSender<ApnsCredentials>;

/** Where to reach APNs instead of Apple's hosts (a relay, or a fake server in tests). */
export interface ApnsEndpoint {
  address: string;
  port: number;
  /** PEM certificate to trust for that endpoint. */
  ca?: string;
}

function providerOptions(
  credentials: ApnsCredentials,
  endpoint: ApnsEndpoint | undefined,
): apn.ProviderOptions {
  return {
    // A Buffer: node-apn would read a string that is not PEM as a file path.
    token: { key: Buffer.from(credentials.keyP8), keyId: credentials.keyId, teamId: credentials.teamId },
    production: credentials.production,
    // One immediate retry (on it node-apn also renews an expired provider token); backoff is the caller's.
    connectionRetryLimit: 1,
    ...(endpoint && { address: endpoint.address, port: endpoint.port }),
    ...(endpoint?.ca && { ca: [Buffer.from(endpoint.ca)] }),
  };
}

function notificationOf(payload: PushPayload, topic: string): apn.Notification {
  const note = new apn.Notification();
  note.rawPayload = payload.apns.payload;
  note.topic = topic;
  note.priority = payload.apns.priority;
  note.pushType = 'alert';
  if (payload.apns.collapseId) note.collapseId = payload.apns.collapseId;
  return note;
}

export function createApnsSender(options: { endpoint?: ApnsEndpoint } = {}): ApnsSender {
  const providers = createClientCache<apn.Provider>((provider) => provider.shutdown());

  return {
    async send(projectId, credentials, devices, payload) {
      if (devices.length === 0) return [];
      const provider = providers.get(projectId, credentialsFingerprint(credentials), () => {
        return new apn.Provider(providerOptions(credentials, options.endpoint));
      });
      const { sent, failed } = await provider.send(
        notificationOf(payload, credentials.bundleId),
        devices.map((d) => d.token),
      );
      const byToken = new Map<string, Omit<DeviceResult, 'deviceId'>>();
      for (const s of sent) byToken.set(s.device, { outcome: 'delivered' });
      for (const f of failed) byToken.set(f.device, classifyApnsFailure(f));
      return devices.map((device: PushDevice): DeviceResult => ({
        deviceId: device.id,
        ...(byToken.get(device.token) ?? { outcome: 'retry', error: 'APNs gave no answer' }),
      }));
    },
    close: () => providers.close(),
  };
}
