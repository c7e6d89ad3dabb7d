// /api/v1/alerts — the project's alerts with their timelines. Rule readers list them; whoever
// was notified of an alert (or holds notifications:admin) reads, acknowledges and resolves it.
import { createRoute } from '@hono/zod-openapi';
import * as alerts from '../../domain/alerting/alerts.js';
import type { DomainDeps } from '../../domain/deps.js';
import { authenticate, projectOf, requirePermission } from '../middleware/auth.js';
import {
  createRouter,
  errorResponses,
  IdParam,
  jsonContent,
  pageOf,
  PageQuery,
  security,
  z,
} from '../openapi.js';

const STATUSES = ['triggered', 'acknowledged', 'resolved'] as const;

const AlertFields = {
  id: z.string(),
  ruleId: z.string().nullable(),
  policyId: z.string().nullable(),
  dedupKey: z.string(),
  status: z.enum(STATUSES),
  title: z.string(),
  body: z.string(),
  eventCount: z.number().int(),
  lastEventId: z.string().nullable(),
  lastEventAt: z.date(),
  nextStep: z.number().int().openapi({ description: 'The next policy step to fire (0-based)' }),
  cycle: z
    .number()
    .int()
    .openapi({ description: 'Which repeat of the policy (or reminder count once acknowledged)' }),
  nextStepAt: z
    .date()
    .nullable()
    .openapi({ description: 'When the next step or reminder is due; null when none is' }),
  acknowledgedAt: z.date().nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: z.date().nullable(),
  resolvedBy: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
};

const AlertSchema = z.object(AlertFields).openapi('Alert');

const TimelineEntry = z
  .object({
    type: z.string().openapi({
      description: 'triggered, event, notified, unrouted, delivered, acknowledged, reminded or resolved',
    }),
    at: z.date(),
    step: z.number().int().nullable().openapi({ description: 'The policy step (1-based)' }),
    eventId: z.string().nullable(),
    userId: z.string().nullable().openapi({ description: 'Who acted, or who was reached (delivered)' }),
    channel: z.string().nullable(),
    notificationId: z.string().nullable(),
    metadata: z.unknown(),
  })
  .openapi('AlertTimelineEntry');

const AlertWithTimeline = z
  .object({ ...AlertFields, timeline: z.array(TimelineEntry) })
  .openapi('AlertWithTimeline');

const AlertQuery = PageQuery.extend({ status: z.enum(STATUSES).optional() });

const tags = ['Alerts'];

export function alertRoutes(deps: DomainDeps) {
  const router = createRouter();
  router.use('*', authenticate(deps, 'user', 'superAdmin'));
  const errors = errorResponses(400, 401, 403, 404);

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List alerts, newest first',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('rules:read')] as const,
      request: { query: AlertQuery },
      responses: { 200: jsonContent(pageOf(AlertSchema), 'A page of alerts'), ...errors },
    }),
    async (c) => c.json(await alerts.listAlerts(deps, projectOf(c), c.req.valid('query')), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'Get an alert with its timeline (who was notified when, on which channel, who acted)',
      security: security.bearerOrSuperAdmin,
      request: { params: IdParam },
      responses: { 200: jsonContent(AlertWithTimeline, 'The alert'), ...errors },
    }),
    async (c) =>
      c.json(await alerts.readAlert(deps, c.get('principal'), projectOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}/acknowledge',
      tags,
      summary: 'Take the alert: stops every later step and pending push (idempotent)',
      security: security.bearerOrSuperAdmin,
      request: { params: IdParam },
      responses: { 200: jsonContent(AlertWithTimeline, 'The alert'), ...errors },
    }),
    async (c) =>
      c.json(
        await alerts.acknowledgeAlert(deps, c.get('principal'), projectOf(c), c.req.valid('param').id),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}/resolve',
      tags,
      summary: 'Close the alert (idempotent); a later event with its dedup key opens a new one',
      security: security.bearerOrSuperAdmin,
      request: { params: IdParam },
      responses: { 200: jsonContent(AlertWithTimeline, 'The alert'), ...errors },
    }),
    async (c) =>
      c.json(await alerts.resolveAlert(deps, c.get('principal'), projectOf(c), c.req.valid('param').id), 200),
  );

  return router;
}
