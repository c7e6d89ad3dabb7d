// The provider layer the delivery chain calls: it reads the project's credentials (own, else
// global), sends through FCM / APNs / hosted Pusher, classifies every answer, and keeps the
// provider health registry — skipping a provider known to be broken with these credentials.
// Nothing here retries or touches receipts and devices: the caller acts on the outcomes.
import type { Redis } from 'ioredis';
import type { Config } from '../../core/config.js';
import type { Db } from '../../core/db.js';
import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import type { RedisKeys } from '../../core/redis.js';
import {
  credentialsFingerprint,
  PROVIDERS,
  readProviderCredentials,
  resolveProviderCredentials,
  withGlobalDefaults,
  type Provider,
} from '../../domain/provider-credentials.js';
import { createApnsSender, type ApnsSender } from './apns.js';
import type { Failure, Outcome } from './classify.js';
import { createFcmSender, type FcmSender } from './fcm.js';
import { createProviderHealth, type HealthReader, type ProviderHealth } from './health.js';
import { buildPushPayload, type PushInput } from './payload.js';
import { createPusherSender, type EventResult, type PusherEvent, type PusherSender } from './pusher.js';
import type { DeviceResult, PushDevice, PushSender } from './sender.js';

export interface RecipientDevice extends PushDevice {
  platform: 'ios' | 'android' | 'web';
}

export interface ProviderStatus {
  configured: boolean;
  /** Whose credentials are used. */
  source?: 'project' | 'global';
  /** False while the current credentials are marked unhealthy. */
  healthy: boolean;
  reason?: string;
  since?: string;
}

export interface DeliveryProviders {
  /** One recipient's push to their devices (iOS over APNs, Android and web over FCM); results in device order. */
  sendToDevices(
    projectId: string,
    devices: readonly RecipientDevice[],
    input: PushInput,
  ): Promise<DeviceResult[]>;
  /** Events to hosted Pusher, in batches; results in event order. */
  triggerPusher(projectId: string, events: readonly PusherEvent[]): Promise<EventResult[]>;
  /** Per provider: configured, whose credentials, healthy or why not since when. */
  status(projectId: string): Promise<Record<Provider, ProviderStatus>>;
  close(): Promise<void>;
}

export interface ProviderDeps {
  db: Db;
  config: Config;
  redis: Redis;
  keys: RedisKeys;
  log: Logger;
  /** For the health episodes' events (see health.ts). */
  metrics: Metrics;
}

export interface ProviderClients {
  fcm: FcmSender;
  apns: ApnsSender;
  pusher: PusherSender;
  health: ProviderHealth;
}

type Result = { outcome: Outcome; error?: string };

/**
 * Per provider of a project: configured, whose credentials, healthy or why not since when. Needs
 * no senders, so processes without a worker role (the API's /api/v1/status) can ask too.
 */
export async function providerStatus(
  deps: Pick<ProviderDeps, 'db' | 'config'>,
  health: Pick<HealthReader, 'unhealthy'>,
  projectId: string,
): Promise<Record<Provider, ProviderStatus>> {
  const own = await readProviderCredentials(deps, projectId);
  const effective = withGlobalDefaults(own, deps.config);
  const marks = await health.unhealthy(projectId);
  const statusOf = (provider: Provider): ProviderStatus => {
    const credentials = effective[provider];
    if (!credentials) return { configured: false, healthy: true };
    const mark = marks[provider];
    const current = mark && mark.fingerprint === credentialsFingerprint(credentials);
    return {
      configured: true,
      source: own[provider] ? 'project' : 'global',
      healthy: !current,
      ...(current && { reason: mark.reason, since: mark.since }),
    };
  };
  return Object.fromEntries(PROVIDERS.map((p) => [p, statusOf(p)])) as Record<Provider, ProviderStatus>;
}

export function createDeliveryProviders(
  deps: ProviderDeps,
  clients: Partial<ProviderClients> = {},
): DeliveryProviders {
  const fcm = clients.fcm ?? createFcmSender();
  const apns = clients.apns ?? createApnsSender();
  const pusher = clients.pusher ?? createPusherSender({ allowPrivate: deps.config.webhooks.allowPrivate });
  const health = clients.health ?? createProviderHealth(deps);

  async function record(projectId: string, provider: Provider, fingerprint: string, results: Result[]) {
    // One success proves the credentials; a failure beside it is that device's own problem.
    if (results.some((r) => r.outcome === 'delivered')) return health.markHealthy(projectId, provider);
    const broken = results.find((r) => r.outcome === 'provider_unhealthy');
    if (!broken) return;
    deps.log.warn({ projectId, provider, reason: broken.error }, 'Delivery provider marked unhealthy');
    await health.markUnhealthy(projectId, provider, broken.error ?? 'unknown', fingerprint);
  }

  /** Calls one provider unless it is unconfigured or known broken, then records its health. */
  async function guarded<C extends object, R extends Result>(
    projectId: string,
    provider: Provider,
    credentials: C | undefined,
    allFailed: (failure: Failure) => R[],
    call: (credentials: C) => Promise<R[]>,
  ): Promise<R[]> {
    if (!credentials)
      return allFailed({ outcome: 'provider_unhealthy', error: `${provider} is not configured` });
    const fingerprint = credentialsFingerprint(credentials);
    const mark = await health.skip(projectId, provider, fingerprint);
    if (mark) {
      return allFailed({
        outcome: 'provider_unhealthy',
        error: `skipped: unhealthy since ${mark.since}: ${mark.reason}`,
      });
    }
    const results = await call(credentials);
    await record(projectId, provider, fingerprint, results);
    return results;
  }

  return {
    async sendToDevices(projectId, devices, input) {
      if (devices.length === 0) return [];
      const credentials = await resolveProviderCredentials(deps, projectId);
      const payload = buildPushPayload(input);
      const via = <C extends object>(
        provider: Provider,
        sender: PushSender<C>,
        c: C | undefined,
        group: RecipientDevice[],
      ): Promise<DeviceResult[]> =>
        group.length === 0
          ? Promise.resolve([])
          : guarded(
              projectId,
              provider,
              c,
              (failure) => group.map((d): DeviceResult => ({ deviceId: d.id, ...failure })),
              (own) => sender.send(projectId, own, group, payload),
            );
      const results = await Promise.all([
        via(
          'apns',
          apns,
          credentials.apns,
          devices.filter((d) => d.platform === 'ios'),
        ),
        via(
          'fcm',
          fcm,
          credentials.fcm,
          devices.filter((d) => d.platform !== 'ios'),
        ),
      ]);
      const byDevice = new Map(results.flat().map((r) => [r.deviceId, r]));
      return devices.map((d) => byDevice.get(d.id)!);
    },

    async triggerPusher(projectId, events) {
      if (events.length === 0) return [];
      const { pusher: credentials } = await resolveProviderCredentials(deps, projectId);
      return guarded(
        projectId,
        'pusher',
        credentials,
        (failure) => events.map((e): EventResult => ({ id: e.id, ...failure })),
        (c) => pusher.trigger(projectId, c, events),
      );
    },

    status: (projectId) => providerStatus(deps, health, projectId),

    async close() {
      await Promise.all([fcm.close(), apns.close(), pusher.close()]);
    },
  };
}
