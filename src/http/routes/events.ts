// /api/v1/events — ingest with the project's API key (one event, or a batch), and the read side
// for project users with events:read.
import { createRoute } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { payloadTooLarge } from '../../core/errors.js';
import type { DomainDeps } from '../../domain/deps.js';
import * as events from '../../domain/events.js';
import { authenticate, projectOf, requirePermission } from '../middleware/auth.js';
import { sendError } from '../middleware/errors.js';
import { rateLimit } from '../middleware/rate-limit.js';
import {
  createRouter,
  errorResponses,
  IdParam,
  jsonBody,
  jsonContent,
  pageOf,
  PageQuery,
  security,
  z,
} from '../openapi.js';

/** The largest single event (its JSON body); a batch is bounded by BODY_LIMIT_BYTES. */
export const MAX_EVENT_BYTES = 64 * 1024;
export const MAX_BATCH_EVENTS = 500;

const IncomingEvent = z
  .object({
    type: z.string().min(1).max(120).openapi({ example: 'transfer.failed' }),
    payload: z.record(z.string(), z.unknown()).openapi({ example: { amount: 12000, account: 'FR76…' } }),
    source: z.string().min(1).max(120).optional().openapi({ example: 'core-banking' }),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
    idempotencyKey: z.string().min(1).max(255).optional().openapi({
      description: 'Or the Idempotency-Key header: a repeat within 24 h returns the first id',
    }),
  })
  .openapi('IncomingEvent');

const Accepted = z.object({ id: z.string().openapi({ description: 'The event id (UUIDv7)' }) });

/** The longest `?wait=`: well inside the usual proxy and client timeouts. */
export const MAX_WAIT_SECONDS = 30;

const WaitQuery = z.object({
  wait: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_WAIT_SECONDS)
    .optional()
    .openapi({
      description:
        `Wait up to this many seconds (at most ${MAX_WAIT_SECONDS}) for the event to be processed: ` +
        'the answer is 200 with its status once rules ran and notifications are stored, ' +
        'or 202 with the status it still has at the deadline',
      example: 5,
    }),
});

const EventStatus = z.enum(['queued', 'received', 'processed', 'failed']).openapi({
  description:
    'queued: accepted, not yet processed (not listed yet); received: an attempt failed, it will be retried; ' +
    'processed; failed: given up after EVENT_MAX_ATTEMPTS, in the dead-letter stream',
});

const Waited = Accepted.extend({ status: EventStatus });

const RuleResult = z
  .object({
    ruleId: z.string(),
    suppressed: z.boolean(),
    digestDueAt: z.string().nullable().optional().openapi({ description: 'Only when suppressed (ISO 8601)' }),
  })
  .openapi('EventRuleResult', {
    example: {
      ruleId: '0193a0c4-7b1e-7c3d-9f00-000000000001',
      suppressed: true,
      digestDueAt: '2026-12-02T01:31:00.000Z',
    },
  });

const EventSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    payload: z.unknown(),
    source: z.string().nullable(),
    idempotencyKey: z.string().nullable(),
    occurredAt: z.date().nullable(),
    receivedAt: z.date(),
    processedAt: z.date().nullable(),
    status: EventStatus,
    matchedRules: z.array(z.string()),
    ruleResults: z.array(RuleResult).openapi({
      description:
        'One entry per matched rule. `suppressed: true` means its notification was not sent: the rule ' +
        "reached its suppression limit (the project's `suppression`, by default 10 matches per rule per " +
        "minute, or the rule's own) and the match is counted in one digest notification, due at " +
        '`digestDueAt` (null when unknown, e.g. for events processed before Tocsin recorded it).',
    }),
    attempts: z.number().int(),
    error: z.string().nullable(),
  })
  .openapi('Event');

const EventDetail = z
  .union([
    EventSchema.extend({
      notifications: z.array(
        z.object({
          id: z.string(),
          ruleId: z.string().nullable(),
          kind: z.enum(['alert', 'digest']),
          title: z.string(),
          createdAt: z.date(),
          recipients: z.number().int(),
        }),
      ),
    }),
    z.object({ id: z.string(), status: z.literal('queued') }),
  ])
  .openapi('EventDetail');

const EventQuery = PageQuery.extend({
  type: z.string().max(120).optional(),
  status: z.enum(['received', 'processed', 'failed']).optional(),
  from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'receivedAt ≥ from' }),
  to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'receivedAt ≤ to' }),
});

const IdempotencyHeader = z.object({
  'idempotency-key': z.string().min(1).max(255).optional(),
});

const tags = ['Events'];

export function eventRoutes(deps: DomainDeps) {
  const router = createRouter();
  const apiKey = authenticate(deps, 'apiKey');
  const reader = () => [authenticate(deps, 'user', 'superAdmin'), requirePermission('events:read')];
  const ingestErrors = errorResponses(400, 401, 413, 429);
  const eventLimit = bodyLimit({
    maxSize: MAX_EVENT_BYTES,
    onError: (c) =>
      sendError(c, 413, 'payload_too_large', `An event body may be at most ${MAX_EVENT_BYTES} bytes`),
  });

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: "Accept an event into the project's stream (202 once it is queued)",
      security: security.apiKey,
      middleware: [apiKey, rateLimit(deps, 'ingest'), eventLimit] as const,
      request: { body: jsonBody(IncomingEvent), headers: IdempotencyHeader, query: WaitQuery },
      responses: {
        200: jsonContent(Waited, 'With ?wait=: processed (or failed) within the wait'),
        202: jsonContent(
          Accepted.extend({ status: EventStatus.optional() }),
          'Queued (with ?wait=, not processed yet: the status says where it is); a repeated idempotency key gives the first id',
        ),
        ...ingestErrors,
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { wait } = c.req.valid('query');
      const idempotencyKey = c.req.valid('header')['idempotency-key'] ?? body.idempotencyKey;
      const projectId = projectOf(c);
      const [result] = await events.appendEvents(deps, projectId, [{ ...body, idempotencyKey }]);
      if (!result!.appended) c.header('Idempotent-Replayed', 'true');
      if (!wait) return c.json({ id: result!.id }, 202);
      const status = await events.waitForEvent(deps, projectId, result!.id, wait * 1000);
      const settled = status === 'processed' || status === 'failed';
      return settled ? c.json({ id: result!.id, status }, 200) : c.json({ id: result!.id, status }, 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/batch',
      tags,
      summary: `Accept up to ${MAX_BATCH_EVENTS} events in one request, each as POST /events would`,
      security: security.apiKey,
      // A batch costs one point per event (counted before validation, at most the batch limit).
      middleware: [
        apiKey,
        rateLimit(deps, 'ingest', { cost: (c) => c.req.json().then(batchSize, () => 1) }),
      ] as const,
      request: {
        body: jsonBody(z.object({ events: z.array(IncomingEvent).min(1).max(MAX_BATCH_EVENTS) })),
      },
      responses: {
        202: jsonContent(z.object({ ids: z.array(z.string()) }), 'The ids, in the order sent'),
        ...ingestErrors,
      },
    }),
    async (c) => {
      const batch = c.req.valid('json').events;
      const tooLarge = batch.findIndex((event) => Buffer.byteLength(JSON.stringify(event)) > MAX_EVENT_BYTES);
      if (tooLarge !== -1)
        throw payloadTooLarge(`events.${tooLarge} is larger than ${MAX_EVENT_BYTES} bytes`);
      const results = await events.appendEvents(deps, projectOf(c), batch);
      return c.json({ ids: results.map((r) => r.id) }, 202);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List processed events, newest first',
      security: security.bearerOrSuperAdmin,
      middleware: reader(),
      request: { query: EventQuery },
      responses: {
        200: jsonContent(pageOf(EventSchema), 'A page of events'),
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { from, to, ...query } = c.req.valid('query');
      const filters = {
        ...query,
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
      };
      return c.json(await events.listEvents(deps, projectOf(c), filters), 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'An event with its outcome: status, matched rules, notifications, error',
      security: security.bearerOrSuperAdmin,
      middleware: reader(),
      request: { params: IdParam },
      responses: { 200: jsonContent(EventDetail, 'The event'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(await events.getEvent(deps, projectOf(c), c.req.valid('param').id), 200),
  );

  return router;
}

function batchSize(body: unknown): number {
  const list = (body as { events?: unknown } | null)?.events;
  return Array.isArray(list) ? Math.min(list.length, MAX_BATCH_EVENTS) : 1;
}
