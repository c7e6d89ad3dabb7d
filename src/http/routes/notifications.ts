// /api/v1/notifications — the caller's own inbox (user tokens), and the receipts of one
// notification for admins. Another user's or project's notification is a 404.
import { createRoute } from '@hono/zod-openapi';
import type { DomainDeps } from '../../domain/deps.js';
import * as inbox from '../../domain/notifications.js';
import { unreadCount } from '../../domain/unread.js';
import { authenticate, projectOf, requirePermission, userOf } from '../middleware/auth.js';
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
  Uuid,
} from '../openapi.js';

const flag = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .optional();

const InboxQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page' }),
  unread: flag,
  acknowledged: flag,
  from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'receivedAt ≥ from' }),
  to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'receivedAt ≤ to' }),
  ruleId: Uuid.optional(),
});

const InboxItem = z
  .object({
    id: z.string(),
    kind: z.enum(['alert', 'digest']),
    ruleId: z.string().nullable(),
    eventId: z.string().nullable(),
    title: z.string(),
    body: z.string(),
    data: z.unknown(),
    action: z.unknown(),
    priority: z.number().int(),
    sound: z
      .object({ id: z.string(), name: z.string(), fileName: z.string(), url: z.string() })
      .nullable()
      .openapi({ description: "The rule's sound, with a signed URL" }),
    createdAt: z.date(),
    receivedAt: z.date().openapi({ description: 'When it was created for you; the list is ordered by it' }),
    channel: z.enum(['gateway', 'pusher', 'fcm', 'apns']).nullable(),
    deliveredAt: z.date().nullable(),
    readAt: z.date().nullable(),
    acknowledgedAt: z.date().nullable(),
  })
  .openapi('InboxNotification');

const Receipt = z
  .object({
    user: z.object({ id: z.string(), email: z.string(), fullName: z.string() }),
    channel: z.enum(['gateway', 'pusher', 'fcm', 'apns']).nullable(),
    deliveredAt: z.date().nullable(),
    readAt: z.date().nullable(),
    acknowledgedAt: z.date().nullable(),
    hiddenAt: z.date().nullable(),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    failedAt: z.date().nullable(),
    createdAt: z.date(),
  })
  .openapi('NotificationReceipt');

const WebviewAction = z
  .object({
    action: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and "_.:-", 1 to 64 characters'),
    data: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: `At most ${inbox.WEBVIEW_DATA_MAX_BYTES} bytes as JSON` }),
  })
  .openapi('WebviewAction', { example: { action: 'confirm', data: { transferId: 't-42' } } });

const tags = ['Notifications'];

export function notificationRoutes(deps: DomainDeps) {
  const router = createRouter();
  const owner = authenticate(deps, 'user');
  const errors = errorResponses(400, 401, 403, 404);
  const caller = (c: Parameters<typeof userOf>[0]) => {
    const user = userOf(c);
    return [user.projectId, user.userId] as const;
  };

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags,
      summary: 'Your notifications, newest first (cursor pagination; hidden ones left out)',
      security: security.bearer,
      middleware: [owner] as const,
      request: { query: InboxQuery },
      responses: {
        200: jsonContent(
          z.object({ items: z.array(InboxItem), nextCursor: z.string().nullable() }),
          'A page; nextCursor is null on the last one',
        ),
        ...errors,
      },
    }),
    async (c) => {
      const { from, to, ...query } = c.req.valid('query');
      const filters = {
        ...query,
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
      };
      return c.json(await inbox.listInbox(deps, ...caller(c), filters), 200);
    },
  );

  // Before /{id}, which would otherwise take "unread-count" for an id.
  router.openapi(
    createRoute({
      method: 'get',
      path: '/unread-count',
      tags,
      summary: 'How many of your notifications are unread (a counter: no scan)',
      security: security.bearer,
      middleware: [owner] as const,
      responses: { 200: jsonContent(z.object({ count: z.number().int() }), 'Unread, not hidden'), ...errors },
    }),
    async (c) => c.json({ count: await unreadCount(deps, ...caller(c)) }, 200),
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}',
      tags,
      summary: 'One of your notifications; the first read marks it read',
      security: security.bearer,
      middleware: [owner] as const,
      request: { params: IdParam },
      responses: { 200: jsonContent(InboxItem, 'The notification'), ...errors },
    }),
    async (c) => c.json(await inbox.readNotification(deps, ...caller(c), c.req.valid('param').id), 200),
  );

  router.openapi(
    createRoute({
      method: 'put',
      path: '/{id}/acknowledge',
      tags,
      summary: 'Acknowledge (idempotent: the first time is kept); also marks it read',
      security: security.bearer,
      middleware: [owner] as const,
      request: { params: IdParam },
      responses: { 200: jsonContent(InboxItem, 'The acknowledged notification'), ...errors },
    }),
    async (c) =>
      c.json(await inbox.acknowledgeNotification(deps, ...caller(c), c.req.valid('param').id), 200),
  );

  router.openapi(
    createRoute({
      method: 'post',
      path: '/{id}/webview-action',
      tags,
      summary: "Record an action taken in the notification's web view (audited)",
      security: security.bearer,
      middleware: [owner] as const,
      request: { params: IdParam, body: jsonBody(WebviewAction) },
      responses: { 204: { description: 'Recorded' }, ...errors, ...errorResponses(413) },
    }),
    async (c) => {
      await inbox.recordWebviewAction(deps, userOf(c), c.req.valid('param').id, c.req.valid('json'));
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'delete',
      path: '/{id}',
      tags,
      summary: 'Hide a notification from your inbox (other recipients keep theirs)',
      security: security.bearer,
      middleware: [owner] as const,
      request: { params: IdParam },
      responses: { 204: { description: 'Hidden' }, ...errors },
    }),
    async (c) => {
      await inbox.hideNotification(deps, ...caller(c), c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: 'get',
      path: '/{id}/receipts',
      tags,
      summary: 'Who received a notification, read and acknowledged it, over which channel (admins)',
      security: security.bearerOrSuperAdmin,
      middleware: [
        authenticate(deps, 'user', 'superAdmin'),
        requirePermission('notifications:admin'),
      ] as const,
      request: { params: IdParam, query: PageQuery },
      responses: { 200: jsonContent(pageOf(Receipt), 'A page of receipts'), ...errors },
    }),
    async (c) =>
      c.json(
        await inbox.listReceipts(deps, projectOf(c), c.req.valid('param').id, c.req.valid('query')),
        200,
      ),
  );

  return router;
}
