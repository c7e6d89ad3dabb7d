// /api/v1/audit — the project's audit trail: a cursor-paginated listing and a streamed CSV export.
import { createRoute } from '@hono/zod-openapi';
import { exportAuditCsv, listAudit } from '../../domain/audit-log.js';
import type { DomainDeps } from '../../domain/deps.js';
import { authenticate, projectOf, requirePermission } from '../middleware/auth.js';
import { createRouter, errorResponses, jsonContent, security, z, Uuid } from '../openapi.js';

const Filters = z.object({
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: 'Inclusive', example: '2026-01-01T00:00:00Z' }),
  to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Inclusive' }),
  userId: Uuid.optional().openapi({ description: 'The acting user or super admin' }),
  action: z
    .string()
    .max(64)
    .optional()
    .openapi({ description: 'An exact action (user.approve) or a prefix ending in ".*" (user.*)' }),
  resourceType: z.string().max(64).optional().openapi({ example: 'user' }),
});

const ListQuery = Filters.extend({
  cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const AuditEntrySchema = z
  .object({
    id: z.string(),
    createdAt: z.date(),
    actorType: z.string().openapi({ example: 'user' }),
    actorId: z.string().nullable(),
    action: z.string().openapi({ example: 'user.approve' }),
    resourceType: z.string().nullable(),
    resourceId: z.string().nullable(),
    requestId: z.string().nullable(),
    ip: z.string().nullable(),
    metadata: z.unknown().nullable(),
  })
  .openapi('AuditEntry');

const AuditPage = z
  .object({
    items: z.array(AuditEntrySchema),
    nextCursor: z.string().nullable().openapi({ description: 'null on the last page' }),
  })
  .openapi('AuditPage');

type FilterInput = z.infer<typeof Filters>;

const toFilters = (q: FilterInput) => ({
  from: q.from ? new Date(q.from) : undefined,
  to: q.to ? new Date(q.to) : undefined,
  userId: q.userId,
  action: q.action,
  resourceType: q.resourceType,
});

const tags = ['Audit'];

export function auditRoutes(deps: DomainDeps) {
  const router = createRouter();
  router.use('*', authenticate(deps, 'user', 'superAdmin'));
  const errors = errorResponses(400, 401, 403, 429);

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'Audit entries, newest first (cursor pagination)',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('audit:read')] as const,
      request: { query: ListQuery },
      responses: { 200: jsonContent(AuditPage, 'A page of entries'), ...errors },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const page = await listAudit(deps, projectOf(c), {
        ...toFilters(query),
        cursor: query.cursor,
        limit: query.limit,
      });
      return c.json(page, 200);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/export',
      tags,
      summary: 'Every matching entry as CSV (RFC 4180, formula-safe), streamed',
      description:
        'Columns: createdAt, id, actorType, actorId, action, resourceType, resourceId, requestId, ip, metadata (JSON). ' +
        'Cells a spreadsheet would read as a formula (starting with = + - @, tab or CR) get a leading single quote.',
      security: security.bearerOrSuperAdmin,
      middleware: [requirePermission('audit:read')] as const,
      request: { query: Filters },
      responses: {
        200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } },
        ...errors,
      },
    }),
    async (c) => {
      const projectId = projectOf(c);
      const stream = exportAuditCsv(deps, projectId, toFilters(c.req.valid('query')));
      const date = new Date().toISOString().slice(0, 10);
      return c.body(stream, 200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="audit-${projectId}-${date}.csv"`,
        'Cache-Control': 'no-store',
      });
    },
  );

  return router;
}
