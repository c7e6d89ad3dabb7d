// One typed, validated configuration object built from the environment. Boot stops with one
// line naming the variable when a value is missing or wrong (see ConfigError).
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Development defaults: public knowledge, so production refuses them. */
export const DEV_SECRETS = {
  TOCSIN_ENCRYPTION_KEY: 'dG9jc2luLWRldmVsb3BtZW50LWtleS0zMi1ieXRlcyE=',
  TOCSIN_API_KEY_PEPPER: 'tocsin-development-pepper-change-me',
  TOCSIN_JWT_SECRET: 'tocsin-development-jwt-secret-change-me',
} as const;

// 0 lets the OS pick a free port (tests, side-by-side runs).
const port = z.coerce.number().int().min(0).max(65535);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

// Push credential shapes, shared by the global defaults below and by per-project credentials
// (src/domain/provider-credentials.ts).
export const pemPrivateKey = z
  .string()
  .regex(
    /^\s*-----BEGIN PRIVATE KEY-----[\s\S]+-----END PRIVATE KEY-----\s*$/,
    'must be a PKCS#8 PEM private key',
  );
/** Apple key and team ids. */
export const appleId = z.string().regex(/^[A-Z0-9]{10}$/, 'must be 10 upper-case letters or digits');
/** The fields of a Google service-account key file that firebase-admin needs. */
export const serviceAccountSchema = z.object({
  project_id: z.string().min(1),
  client_email: z.string().min(3),
  private_key: pemPrivateKey,
});
export type ServiceAccount = z.infer<typeof serviceAccountSchema>;

/** Every variable Tocsin reads (the README's configuration tables list exactly these). */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z
    .string()
    .regex(/^(mysql|mariadb):\/\//, 'must be a mysql:// URL')
    .default('mysql://root@127.0.0.1:3306/tocsin'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]*$/, 'letters, digits, ":", "_" and "-" only')
    .default('tocsin:'),
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  HTTP_PORT: port.default(3000),
  GATEWAY_PORT: port.default(6001),
  GATEWAY_ACTIVITY_TIMEOUT_SEC: z.coerce.number().int().min(10).max(3600).default(120),
  GATEWAY_PONG_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(30_000),
  GATEWAY_LEASE_MS: z.coerce.number().int().min(1000).max(600_000).default(10_000),
  GATEWAY_REPLAY_REPEAT_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  GATEWAY_SUBSCRIBES_PER_SECOND: z.coerce.number().int().min(1).max(100_000).default(200),
  GATEWAY_ACKS_PER_SECOND: z.coerce.number().int().min(1).max(100_000).default(100),
  GATEWAY_ACK_QUEUE: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  PUBLIC_API_URL: z.url().optional(),
  CORS_ORIGINS: z.string().default('*'),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(50 * 1024 * 1024)
    .default(1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  TOCSIN_ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded')
    .default(DEV_SECRETS.TOCSIN_ENCRYPTION_KEY),
  TOCSIN_API_KEY_PEPPER: z
    .string()
    .min(16, 'must be at least 16 characters')
    .default(DEV_SECRETS.TOCSIN_API_KEY_PEPPER),
  TOCSIN_JWT_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters')
    .default(DEV_SECRETS.TOCSIN_JWT_SECRET),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(300).max(31_536_000).default(2_592_000),
  /** bcrypt work factor; lower only in tests. */
  PASSWORD_HASH_COST: z.coerce.number().int().min(4).max(15).default(12),
  /** Push credentials for projects that have none of their own. */
  FCM_SERVICE_ACCOUNT_FILE: z.string().min(1).optional(),
  APNS_KEY_FILE: z.string().min(1).optional(),
  APNS_KEY_ID: appleId.optional(),
  APNS_TEAM_ID: appleId.optional(),
  APNS_BUNDLE_ID: z.string().min(1).max(255).optional(),
  /** No default: a wrong APNs environment answers BadDeviceToken, which removes the devices. */
  APNS_PRODUCTION: bool.optional(),
  TOCSIN_ADMIN_EMAIL: z.email().default('admin@tocsin.local'),
  TOCSIN_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  TOCSIN_PRINT_BANNER: bool.default(true),
  /** Let webhooks target private/loopback addresses (SSRF protection off): for tests and closed networks. */
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  /** Bearer token for GET /metrics; the endpoint is closed while unset. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_PORT: port.optional(),
  /** Times a stream entry is tried before it goes to the dead-letter stream. */
  EVENT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /** A pending entry idle this long is taken over from its (presumably dead) consumer. */
  EVENT_CLAIM_IDLE_MS: z.coerce.number().int().min(50).max(3_600_000).default(30_000),
  BUCKET_MONITOR_INTERVAL_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
  /** How often the retention job deletes data older than each project's retention settings. */
  RETENTION_INTERVAL_MS: z.coerce.number().int().min(1_000).max(2_592_000_000).default(86_400_000),
  STORAGE_DRIVER: z.enum(['local', 's3']).default('local'),
  STORAGE_LOCAL_DIR: z.string().min(1).default('./data/files'),
  S3_BUCKET: z.string().min(3).max(63).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ENDPOINT: z.url().optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Lifetime of signed file URLs; 7 days is the most S3 presigning allows. */
  SIGNED_URL_TTL_SECONDS: z.coerce.number().int().min(10).max(604_800).default(3600),
  SOUND_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(50 * 1024 * 1024)
    .default(1024 * 1024),
  SOUND_QUOTA_COUNT: z.coerce.number().int().min(1).max(10_000).default(50),
  SOUND_QUOTA_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(2 ** 40)
    .default(20 * 1024 * 1024),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  database: { url: string; poolSize: number };
  redis: { url: string; prefix: string };
  http: { host: string; port: number; publicUrl: string; corsOrigins: string[]; bodyLimitBytes: number };
  gateway: {
    port: number;
    /** Client silence before the server pings (sent to clients in the handshake). */
    activityTimeoutSec: number;
    /** How long a pinged client may take to answer before it is closed (4201). */
    pongTimeoutMs: number;
    /** Presence and online leases: how soon a dead node's members disappear. */
    leaseMs: number;
    /** A socket re-subscribing to its user channel within this time is replayed only what is new. */
    replayRepeatMs: number;
    /** Subscribe and unsubscribe frames per socket per second (4301 past it). */
    subscribesPerSecond: number;
    /** Acknowledgements (and other custom events) per socket per second (4301 past it). */
    acksPerSecond: number;
    /** Acknowledgements a process holds while Redis accepts them; past it the sender gets 4301. */
    ackQueue: number;
  };
  shutdownTimeoutMs: number;
  secrets: { encryptionKey: Buffer; apiKeyPepper: string; jwtSecret: string };
  auth: { accessTokenTtlSeconds: number; refreshTokenTtlSeconds: number; passwordHashCost: number };
  admin: { email: string; password: string | undefined };
  /** Global push credentials, used by projects that have none of their own. */
  push: { fcm?: { serviceAccount: ServiceAccount }; apns?: ApnsKey };
  printBanner: boolean;
  pipeline: { maxAttempts: number; claimIdleMs: number; bucketMonitorIntervalMs: number };
  retention: { intervalMs: number };
  storage: { driver: 'local' | 's3'; localDir: string; signedUrlTtlSeconds: number; s3?: S3Config };
  sounds: { maxBytes: number; quotaCount: number; quotaBytes: number };
  metricsToken: string | undefined;
  /** A port of its own for /metrics: how a worker-only process is scraped. */
  metricsPort: number | undefined;
  webhooks: { allowPrivate: boolean };
}

export interface S3Config {
  bucket: string;
  region: string;
  endpoint?: string;
  /** Without them the SDK's default chain (environment, instance role, …) is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface ApnsKey {
  keyP8: string;
  keyId: string;
  teamId: string;
  bundleId: string;
  production: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates `source` (default: process.env) into a Config, or throws a ConfigError whose message is one line. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as they do in most .env tooling.
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    const got =
      present[name] === undefined ? 'missing' : `got ${JSON.stringify(redactIfSecret(name, present[name]!))}`;
    throw new ConfigError(`Invalid configuration: ${name}: ${issue.message} (${got})`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production') {
    for (const [name, devValue] of Object.entries(DEV_SECRETS)) {
      if (e[name as keyof typeof DEV_SECRETS] === devValue) {
        throw new ConfigError(
          `Invalid configuration: ${name}: must be set in production (the default is public)`,
        );
      }
    }
  }
  return {
    env: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE },
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX },
    http: {
      host: e.HTTP_HOST,
      port: e.HTTP_PORT,
      publicUrl: e.PUBLIC_API_URL ?? `http://localhost:${e.HTTP_PORT}`,
      corsOrigins: e.CORS_ORIGINS.split(',')
        .map((o) => o.trim())
        .filter(Boolean),
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
    },
    gateway: {
      port: e.GATEWAY_PORT,
      activityTimeoutSec: e.GATEWAY_ACTIVITY_TIMEOUT_SEC,
      pongTimeoutMs: e.GATEWAY_PONG_TIMEOUT_MS,
      leaseMs: e.GATEWAY_LEASE_MS,
      replayRepeatMs: e.GATEWAY_REPLAY_REPEAT_MS,
      subscribesPerSecond: e.GATEWAY_SUBSCRIBES_PER_SECOND,
      acksPerSecond: e.GATEWAY_ACKS_PER_SECOND,
      ackQueue: e.GATEWAY_ACK_QUEUE,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    secrets: {
      encryptionKey: Buffer.from(e.TOCSIN_ENCRYPTION_KEY, 'base64'),
      apiKeyPepper: e.TOCSIN_API_KEY_PEPPER,
      jwtSecret: e.TOCSIN_JWT_SECRET,
    },
    auth: {
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
      passwordHashCost: e.PASSWORD_HASH_COST,
    },
    admin: { email: e.TOCSIN_ADMIN_EMAIL, password: e.TOCSIN_ADMIN_PASSWORD },
    push: { fcm: fcmDefault(e), apns: apnsDefault(e) },
    printBanner: e.TOCSIN_PRINT_BANNER,
    metricsToken: e.METRICS_TOKEN,
    metricsPort: e.METRICS_PORT,
    webhooks: { allowPrivate: e.WEBHOOK_ALLOW_PRIVATE },
    pipeline: {
      maxAttempts: e.EVENT_MAX_ATTEMPTS,
      claimIdleMs: e.EVENT_CLAIM_IDLE_MS,
      bucketMonitorIntervalMs: e.BUCKET_MONITOR_INTERVAL_MS,
    },
    retention: { intervalMs: e.RETENTION_INTERVAL_MS },
    storage: {
      driver: e.STORAGE_DRIVER,
      localDir: e.STORAGE_LOCAL_DIR,
      signedUrlTtlSeconds: e.SIGNED_URL_TTL_SECONDS,
      s3: s3Config(e),
    },
    sounds: { maxBytes: e.SOUND_MAX_BYTES, quotaCount: e.SOUND_QUOTA_COUNT, quotaBytes: e.SOUND_QUOTA_BYTES },
  };
}

function s3Config(e: Env): S3Config | undefined {
  if (e.STORAGE_DRIVER !== 's3') return undefined;
  if (!e.S3_BUCKET) {
    throw new ConfigError('Invalid configuration: S3_BUCKET: required when STORAGE_DRIVER=s3');
  }
  if (!e.S3_ACCESS_KEY_ID !== !e.S3_SECRET_ACCESS_KEY) {
    throw new ConfigError(
      'Invalid configuration: S3_ACCESS_KEY_ID: set together with S3_SECRET_ACCESS_KEY, or neither',
    );
  }
  return {
    bucket: e.S3_BUCKET,
    region: e.S3_REGION,
    endpoint: e.S3_ENDPOINT,
    credentials:
      e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY
        ? { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY }
        : undefined,
  };
}

function readConfigFile(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `Invalid configuration: ${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code})`,
    );
  }
}

function fcmDefault(e: Env): Config['push']['fcm'] {
  if (!e.FCM_SERVICE_ACCOUNT_FILE) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readConfigFile('FCM_SERVICE_ACCOUNT_FILE', e.FCM_SERVICE_ACCOUNT_FILE));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('Invalid configuration: FCM_SERVICE_ACCOUNT_FILE: not a JSON file');
  }
  const parsed = serviceAccountSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(
      `Invalid configuration: FCM_SERVICE_ACCOUNT_FILE: ${issue.path.join('.')}: ${issue.message}`,
    );
  }
  return { serviceAccount: parsed.data };
}

const APNS_VARIABLES = [
  'APNS_KEY_FILE',
  'APNS_KEY_ID',
  'APNS_TEAM_ID',
  'APNS_BUNDLE_ID',
  'APNS_PRODUCTION',
] as const;

/** All five APNS_* variables, or none. */
function apnsDefault(e: Env): ApnsKey | undefined {
  const missing = APNS_VARIABLES.filter((name) => e[name] === undefined);
  if (missing.length === APNS_VARIABLES.length) return undefined;
  if (missing.length) {
    throw new ConfigError(`Invalid configuration: ${missing[0]}: required with the other APNS_* variables`);
  }
  const keyP8 = readConfigFile('APNS_KEY_FILE', e.APNS_KEY_FILE!);
  if (!pemPrivateKey.safeParse(keyP8).success) {
    throw new ConfigError('Invalid configuration: APNS_KEY_FILE: not a .p8 key (PKCS#8 PEM)');
  }
  return {
    keyP8,
    keyId: e.APNS_KEY_ID!,
    teamId: e.APNS_TEAM_ID!,
    bundleId: e.APNS_BUNDLE_ID!,
    production: e.APNS_PRODUCTION!,
  };
}

function redactIfSecret(name: string, value: string): string {
  return /SECRET|PASSWORD|KEY|PEPPER|URL|TOKEN/.test(name) ? '[redacted]' : value;
}
