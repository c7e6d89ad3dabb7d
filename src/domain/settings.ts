// A project's settings: one schema with defaults, so every part reads the same shape.
// Provider credentials are not here: they are secrets, kept encrypted in Project.secretsEnc.
import { z } from 'zod';

const positiveInt = (max: number) => z.number().int().min(1).max(max);

export const projectSettingsSchema = z.object({
  gateway: z
    .object({
      /** Pusher client events (`client-*`) between members of private/presence channels. */
      clientEvents: z.boolean().default(false),
      maxConnections: positiveInt(1_000_000).default(10_000),
      maxChannelsPerConnection: positiveInt(10_000).default(100),
      clientEventsPerSecond: positiveInt(1_000).default(10),
      /** `pusher_internal:subscription_count` to a channel's subscribers when its count moves. */
      subscriptionCount: z.boolean().default(false),
      /** At most one such event per channel per this many ms; later moves are sent at its end. */
      subscriptionCountIntervalMs: z.number().int().min(100).max(60_000).default(1_000),
      /** Watchlist online/offline events for signed-in users (off, as on Pusher, until enabled). */
      watchlistEvents: z.boolean().default(false),
      /** How long a cache channel keeps its last event (Pusher keeps it up to 30 minutes). */
      cacheTtlSeconds: positiveInt(1_800).default(1_800),
    })
    .prefault({}),
  rateLimits: z
    .object({
      /** Requests per minute per project on the REST API. */
      apiPerMinute: positiveInt(1_000_000).default(6_000),
      /** Requests per minute per user on the REST API. */
      userPerMinute: positiveInt(1_000_000).default(600),
      /** Events per second per project on ingest. */
      ingestPerSecond: positiveInt(1_000_000).default(1_000),
    })
    .prefault({}),
  suppression: z
    .object({
      maxMatches: positiveInt(1_000_000).default(10),
      windowSeconds: positiveInt(86_400).default(60),
    })
    .prefault({}),
  delivery: z
    .object({
      ackTimeoutMs: z.number().int().min(0).max(86_400_000).default(60_000),
      maxAttempts: positiveInt(50).default(5),
      useGateway: z.boolean().default(true),
      usePusher: z.boolean().default(true),
      usePush: z.boolean().default(true),
    })
    .prefault({}),
  retention: z
    .object({
      eventsDays: positiveInt(3650).default(30),
      notificationsDays: positiveInt(3650).default(90),
      auditDays: positiveInt(3650).default(365),
    })
    .prefault({}),
});

export type ProjectSettings = z.infer<typeof projectSettingsSchema>;

/** Settings as stored may predate newer keys: read them through the schema for defaults. */
export function readSettings(stored: unknown): ProjectSettings {
  const parsed = projectSettingsSchema.safeParse(stored ?? {});
  return parsed.success ? parsed.data : projectSettingsSchema.parse({});
}

/** Zod options: an unknown key is one the super admin sets; the message names what is allowed. */
export const superAdminSets = (allowed: string) => ({
  error: (issue: { code?: string; keys?: string[] }) =>
    issue.code === 'unrecognized_keys'
      ? `${issue.keys?.join(', ')}: set by the super admin; a project admin may change ${allowed}`
      : undefined,
});

const adminSection = <T extends Record<string, z.ZodType>>(shape: T) =>
  z
    .strictObject(shape, superAdminSets(Object.keys(shape).join(', ')))
    .partial()
    .optional();

/** The sections a project admin may change, as refusals name them. */
export const PROJECT_ADMIN_SECTIONS = 'gateway.clientEvents, suppression, and delivery except maxAttempts';

const { gateway, suppression, delivery } = projectSettingsSchema.shape;

/**
 * The settings a project admin may change (PUT /api/v1/project): how their own alerts behave,
 * with the same bounds as above. The rest — gateway capacity, rate limits, retention and
 * delivery.maxAttempts — spend the hub's capacity or storage, so only a super admin sets them
 * (PUT /api/v1/projects/{id}). Every field is optional (sections are merged); a field outside the
 * list is refused, not silently dropped.
 */
export const projectAdminSettingsSchema = z.strictObject(
  {
    gateway: adminSection({ clientEvents: gateway.unwrap().shape.clientEvents.unwrap() }),
    suppression: adminSection({
      maxMatches: suppression.unwrap().shape.maxMatches.unwrap(),
      windowSeconds: suppression.unwrap().shape.windowSeconds.unwrap(),
    }),
    delivery: adminSection({
      ackTimeoutMs: delivery.unwrap().shape.ackTimeoutMs.unwrap(),
      useGateway: delivery.unwrap().shape.useGateway.unwrap(),
      usePusher: delivery.unwrap().shape.usePusher.unwrap(),
      usePush: delivery.unwrap().shape.usePush.unwrap(),
    }),
  },
  superAdminSets(PROJECT_ADMIN_SECTIONS),
);
