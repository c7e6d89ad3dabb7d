// /api/v1/schedules — on-call schedules: layers of rotations in an IANA time zone, overrides,
// who is on call at an instant, and the gaps of the next two weeks. Project admins write; rule
// readers read.
import { createRoute } from '@hono/zod-openapi';
import * as schedules from '../../domain/alerting/schedules.js';
import type { DomainDeps } from '../../domain/deps.js';
import { authenticate, projectOf, requirePermission } from '../middleware/auth.js';
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

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;
const clock = (what: string) => z.string().regex(CLOCK, `${what} is a local time "HH:MM" (00:00–23:59)`);

const Layer = z
  .object({
    name: z.string().trim().min(1).max(64),
    users: z.array(z.uuid()).min(1, 'a layer needs at least one user').max(100),
    rotation: z.enum(['daily', 'weekly', 'custom']),
    lengthHours: z
      .number()
      .int()
      .min(1)
      .max(24 * 28)
      .optional()
      .openapi({ description: 'custom rotations: hours per shift (elapsed time, DST or not)' }),
    handoff: clock('handoff'),
    start: z.iso
      .date()
      .openapi({ description: "Local date of users[0]'s first shift", example: '2026-01-05' }),
    restrict: z
      .object({ from: clock('restrict.from'), to: clock('restrict.to') })
      .nullable()
      .optional()
      .openapi({ description: 'Only these local hours each day (may wrap past midnight: 20:00–08:00)' }),
  })
  .refine((l) => l.rotation !== 'custom' || l.lengthHours !== undefined, {
    message: 'a custom rotation needs lengthHours',
    path: ['lengthHours'],
  })
  .openapi('ScheduleLayer');

const scheduleFields = {
  name: z.string().trim().min(1).max(120),
  description: z.string().max(500).nullable().optional(),
  timeZone: z.string().min(1).max(64).openapi({ example: 'Europe/Berlin', description: 'IANA time zone' }),
  layers: z
    .array(Layer)
    .min(1)
    .max(10)
    .openapi({ description: 'Lowest first; a higher layer wins where it has someone' }),
};

const Span = z.object({ start: z.date(), end: z.date() });

const Override = z
  .object({
    id: z.string(),
    userId: z.string(),
    startsAt: z.date(),
    endsAt: z.date(),
    createdBy: z.string().nullable(),
    createdAt: z.date(),
  })
  .openapi('ScheduleOverride');

const ScheduleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    timeZone: z.string(),
    layers: z.array(Layer),
    overrides: z.array(Override).openapi({ description: 'Current and future overrides' }),
    gaps: z.array(Span).openapi({ description: 'Stretches of the next 14 days with nobody on call' }),
    createdAt: z.date(),
    updatedAt: z.date(),
  })
  .openapi('Schedule');

const CreateSchedule = z.object(scheduleFields).openapi('CreateSchedule');
const UpdateSchedule = z.object(scheduleFields).partial().openapi('UpdateSchedule');

const CreateOverride = z
  .object({ userId: z.uuid(), startsAt: z.coerce.date(), endsAt: z.coerce.date() })
  .openapi('CreateScheduleOverride');

const OnCallQuery = z.object({
  at: z.coerce.date().optional().openapi({ description: 'ISO 8601 instant (default: now)' }),
  hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(24)
    .openapi({ description: 'Shifts over this many hours from `at`' }),
});

const OnCallSchema = z
  .object({
    at: z.date(),
    userIds: z.array(z.string()),
    source: z.string().nullable().openapi({ description: 'The layer on call, "override", or null (a gap)' }),
    shifts: z.array(Span.extend({ userIds: z.array(z.string()), source: z.string().nullable() })),
  })
  .openapi('OnCall');

const CalendarQuery = z.object({
  from: z.coerce.date().optional().openapi({ description: 'ISO 8601 instant (default: now)' }),
  days: z.coerce
    .number()
    .int()
    .min(1)
    .max(90)
    .default(28)
    .openapi({ description: 'Shifts over this many days from `from` (1–90)' }),
});

const OverrideParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }),
  overrideId: z.uuid().openapi({ param: { name: 'overrideId', in: 'path' } }),
});

const tags = ['Schedules'];

export function scheduleRoutes(deps: DomainDeps) {
  const router = createRouter();
  router.use('*', authenticate(deps, 'user', 'superAdmin'));
  const errors = errorResponses(400, 401, 403, 404, 409);
  const read = requirePermission('rules:read');
  const write = requirePermission('projects:admin');

  router.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags,
      summary: 'Create an on-call schedule',
      security: security.bearerOrSuperAdmin,
      middleware: [write] as const,
      request: { body: jsonBody(CreateSchedule) },
      responses: { 201: jsonContent(ScheduleSchema, 'The schedule, with its gaps'), ...errors },
    }),
    async (c) =>
      c.json(
        await schedules.createSchedule(deps, c.get('principal'), projectOf(c), c.req.valid('json')),
        201,
      ),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'List schedules by name',
      security: security.bearerOrSuperAdmin,
      middleware: [read] as const,
      request: { query: PageQuery },
      responses: { 200: jsonContent(pageOf(ScheduleSchema), 'A page of schedules'), ...errors },
    }),
    async (c) => c.json(await schedules.listSchedules(deps, projectOf(c), c.req.valid('query')), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'Get a schedule with its overrides and the gaps of the next 14 days',
      security: security.bearerOrSuperAdmin,
      middleware: [read] as const,
      request: { params: IdParam },
      responses: { 200: jsonContent(ScheduleSchema, 'The schedule'), ...errors },
    }),
    async (c) => c.json(await schedules.getSchedule(deps, projectOf(c), c.req.valid('param').id), 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/on-call',
      tags,
      summary: 'Who is on call at an instant, and the shifts that follow',
      security: security.bearerOrSuperAdmin,
      middleware: [read] as const,
      request: { params: IdParam, query: OnCallQuery },
      responses: { 200: jsonContent(OnCallSchema, 'Who is on call'), ...errors },
    }),
    async (c) => {
      const { at, hours } = c.req.valid('query');
      return c.json(
        await schedules.onCall(deps, projectOf(c), c.req.valid('param').id, at ?? new Date(), hours),
        200,
      );
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/calendar.ics',
      tags,
      summary: 'The shifts as an iCalendar file',
      description:
        'One event per shift with someone on call (UTC times, stable UIDs: importing again updates ' +
        'the events). Gaps have no event; `GET /schedules/{id}` lists them.',
      security: security.bearerOrSuperAdmin,
      middleware: [read] as const,
      request: { params: IdParam, query: CalendarQuery },
      responses: {
        200: { description: 'iCalendar (RFC 5545)', content: { 'text/calendar': { schema: z.string() } } },
        ...errors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { from, days } = c.req.valid('query');
      const calendar = await schedules.calendarOf(deps, projectOf(c), id, from ?? new Date(), days);
      return c.body(calendar, 200, {
        'Content-Type': 'text/calendar; charset=utf-8',
        'Content-Disposition': `attachment; filename="on-call-${id}.ics"`,
        'Cache-Control': 'no-store',
      });
    },
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}',
      tags,
      summary: 'Change a schedule (only the fields sent)',
      security: security.bearerOrSuperAdmin,
      middleware: [write] as const,
      request: { params: IdParam, body: jsonBody(UpdateSchedule) },
      responses: { 200: jsonContent(ScheduleSchema, 'The schedule'), ...errors },
    }),
    async (c) =>
      c.json(
        await schedules.updateSchedule(
          deps,
          c.get('principal'),
          projectOf(c),
          c.req.valid('param').id,
          c.req.valid('json'),
        ),
        200,
      ),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags,
      summary: 'Delete a schedule (refused while a policy step or rule targets it)',
      security: security.bearerOrSuperAdmin,
      middleware: [write] as const,
      request: { params: IdParam },
      responses: { 204: { description: 'Deleted' }, ...errors },
    }),
    async (c) => {
      await schedules.deleteSchedule(deps, c.get('principal'), projectOf(c), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/overrides',
      tags,
      summary: 'Put one user on call for a bounded time, above every layer (at most 90 days)',
      security: security.bearerOrSuperAdmin,
      middleware: [write] as const,
      request: { params: IdParam, body: jsonBody(CreateOverride) },
      responses: { 201: jsonContent(Override, 'The override'), ...errors },
    }),
    async (c) =>
      c.json(
        await schedules.addOverride(
          deps,
          c.get('principal'),
          projectOf(c),
          c.req.valid('param').id,
          c.req.valid('json'),
        ),
        201,
      ),
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}/overrides/{overrideId}',
      tags,
      summary: 'Remove an override',
      security: security.bearerOrSuperAdmin,
      middleware: [write] as const,
      request: { params: OverrideParams },
      responses: { 204: { description: 'Removed' }, ...errors },
    }),
    async (c) => {
      const { id, overrideId } = c.req.valid('param');
      await schedules.deleteOverride(deps, c.get('principal'), projectOf(c), id, overrideId);
      return c.body(null, 204);
    },
  );

  return router;
}
