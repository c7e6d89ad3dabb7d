// A project's credentials for the delivery providers — an FCM service account, an APNs .p8 key,
// a hosted Pusher app — kept AES-GCM encrypted as one JSON document in Project.secretsEnc.
// FCM and APNs fall back to the global credentials from the configuration; Pusher does not (a
// shared Pusher app would put every tenant in one channel namespace).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { appleId, pemPrivateKey, serviceAccountSchema, type Config } from '../core/config.js';
import { decryptSecret, encryptSecret } from '../core/crypto.js';
import type { Db } from '../core/db.js';
import { badRequest, conflict, notFound } from '../core/errors.js';
import { assertSafeOutboundUrl } from '../core/ssrf.js';

export const fcmCredentialsSchema = z.object({ serviceAccount: serviceAccountSchema });

export const apnsCredentialsSchema = z.object({
  keyP8: pemPrivateKey,
  keyId: appleId,
  teamId: appleId,
  bundleId: z.string().min(1).max(255),
  /** Required: a wrong environment answers BadDeviceToken, which removes the devices. */
  production: z.boolean(),
});

// Pusher's app ids and keys (and those of servers speaking its API) are plain tokens; they are
// put into the request path and query, so nothing else may pass.
const pusherToken = (max: number) =>
  z.string().regex(new RegExp(`^[A-Za-z0-9_-]{1,${max}}$`), 'must be letters, digits, "-" or "_"');
const label = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const hostname = new RegExp(`^(?:${label}\\.)*${label}$|^\\[[0-9A-Fa-f:.]+\\]$`);

export const pusherCredentialsSchema = z
  .object({
    appId: pusherToken(64),
    key: pusherToken(128),
    secret: z.string().min(1).max(256),
    cluster: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/)
      .optional(),
    host: z
      .string()
      .max(255)
      .regex(hostname, 'must be a host name or IP address, no scheme or path')
      .optional(),
    port: z.number().int().min(1).max(65535).optional(),
    useTLS: z.boolean().default(true),
  })
  .refine((p) => p.cluster !== undefined || p.host !== undefined, 'cluster or host is required');

export const providerCredentialsSchema = z.object({
  fcm: fcmCredentialsSchema.optional(),
  apns: apnsCredentialsSchema.optional(),
  pusher: pusherCredentialsSchema.optional(),
});

export type FcmCredentials = z.infer<typeof fcmCredentialsSchema>;
export type ApnsCredentials = z.infer<typeof apnsCredentialsSchema>;
export type PusherCredentials = z.infer<typeof pusherCredentialsSchema>;
export type ProviderCredentials = z.infer<typeof providerCredentialsSchema>;
export type Provider = keyof ProviderCredentials;
export const PROVIDERS: readonly Provider[] = ['fcm', 'apns', 'pusher'];

type Deps = { db: Db; config: Config };

function open(sealed: string | null, config: Config): ProviderCredentials {
  if (sealed === null) return {};
  return providerCredentialsSchema.parse(JSON.parse(decryptSecret(sealed, config.secrets.encryptionKey)));
}

async function sealedOf(deps: Deps, projectId: string): Promise<string | null> {
  const row = await deps.db.system.project.findFirst({
    where: { id: projectId, deletedAt: null },
    select: { secretsEnc: true },
  });
  if (!row) throw notFound('Project');
  return row.secretsEnc;
}

/** The project's own credentials (no global fallback). */
export async function readProviderCredentials(deps: Deps, projectId: string): Promise<ProviderCredentials> {
  return open(await sealedOf(deps, projectId), deps.config);
}

/** What a sender uses: the project's own credentials, else the global FCM/APNs ones. */
export function withGlobalDefaults(own: ProviderCredentials, config: Config): ProviderCredentials {
  return { ...own, fcm: own.fcm ?? config.push.fcm, apns: own.apns ?? config.push.apns };
}

export async function resolveProviderCredentials(
  deps: Deps,
  projectId: string,
): Promise<ProviderCredentials> {
  return withGlobalDefaults(await readProviderCredentials(deps, projectId), deps.config);
}

const schemas = {
  fcm: fcmCredentialsSchema,
  apns: apnsCredentialsSchema,
  pusher: pusherCredentialsSchema,
} satisfies Record<Provider, z.ZodType>;

/**
 * Replaces one provider's credentials (`null` removes them) and returns the redacted view.
 * A compare-and-set on the sealed document keeps two admins editing different providers at
 * once from losing either change.
 */
export async function setProviderCredentials(
  deps: Deps,
  projectId: string,
  provider: Provider,
  value: unknown,
): Promise<RedactedCredentials> {
  let credentials: unknown = undefined;
  if (value !== null) {
    const parsed = schemas[provider].safeParse(value);
    // Issues name the fields, never their values (zod does not echo the input).
    if (!parsed.success)
      throw badRequest('invalid_credentials', `Invalid ${provider} credentials`, parsed.error.issues);
    credentials = parsed.data;
    if (provider === 'pusher') await assertSafePusherHost(deps.config, parsed.data as PusherCredentials);
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const sealed = await sealedOf(deps, projectId);
    const next = { ...open(sealed, deps.config), [provider]: credentials };
    const secretsEnc = encryptSecret(JSON.stringify(next), deps.config.secrets.encryptionKey);
    const { count } = await deps.db.system.project.updateMany({
      where: { id: projectId, secretsEnc: sealed },
      data: { secretsEnc },
    });
    if (count === 1) return redactCredentials(next);
  }
  throw conflict('concurrent_update', 'The credentials changed meanwhile; try again');
}

/** A tenant-chosen host gets the webhook rules (the sender checks again at each connection). */
async function assertSafePusherHost(
  config: Config,
  { host, port, useTLS }: PusherCredentials,
): Promise<void> {
  if (host === undefined) return; // api-<cluster>.pusher.com
  const url = `${useTLS ? 'https' : 'http'}://${host}${port === undefined ? '' : `:${port}`}/`;
  await assertSafeOutboundUrl(url, { allowPrivate: config.webhooks.allowPrivate });
}

export interface RedactedCredentials {
  fcm?: { projectId: string; clientEmail: string };
  apns?: { keyId: string; teamId: string; bundleId: string; production: boolean };
  pusher?: { appId: string; key: string; cluster?: string; host?: string; port?: number; useTLS: boolean };
}

/** Which credentials are set, without their secrets: what an admin may see. */
export function redactCredentials({ fcm, apns, pusher }: ProviderCredentials): RedactedCredentials {
  return {
    fcm: fcm && { projectId: fcm.serviceAccount.project_id, clientEmail: fcm.serviceAccount.client_email },
    apns: apns && {
      keyId: apns.keyId,
      teamId: apns.teamId,
      bundleId: apns.bundleId,
      production: apns.production,
    },
    pusher: pusher && {
      appId: pusher.appId,
      key: pusher.key,
      cluster: pusher.cluster,
      host: pusher.host,
      port: pusher.port,
      useTLS: pusher.useTLS,
    },
  };
}

/**
 * A short, stable digest of one provider's credentials: clients are rebuilt and health is reset
 * when it changes. A hash of high-entropy keys reveals nothing about them.
 */
export function credentialsFingerprint(credentials: object): string {
  return createHash('sha256').update(JSON.stringify(credentials)).digest('hex').slice(0, 16);
}
