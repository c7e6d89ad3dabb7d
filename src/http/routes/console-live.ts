// GET /api/v1/live — the console's live view: each event of the caller's project as the pipeline
// stores it (matched rules, notifications and their recipient counts), as server-sent events,
// fed from the bus (`events.settled`). For project admins only; tenant-scoped by the token.
// A stream ends when its access token expires, so a revoked session cannot keep watching:
// the console reconnects with a fresh token.
import { createRoute } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { AppError } from '../../core/errors.js';
import type { DomainDeps } from '../../domain/deps.js';
import * as events from '../../domain/events.js';
import type { Principal } from '../../domain/principal.js';
import { authenticate, projectOf, requirePermission } from '../middleware/auth.js';
import { createRouter, errorResponses, security, z } from '../openapi.js';

/** Open live streams per project on one API node. */
export const MAX_LIVE_STREAMS = 10;
const HEARTBEAT_MS = 15_000;
const BATCH = 50;

export function liveRoutes(deps: DomainDeps) {
  const router = createRouter();
  const open = new Map<string, number>();

  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['Events'],
      summary: 'Stream the project’s events as they are processed (server-sent events, project admins)',
      description:
        'Messages: `ready` once subscribed, then one `event` per stored event with the body of ' +
        'GET /events/{id}. Comments keep the connection alive. The stream ends when the access ' +
        `token expires; reconnect with a new one. At most ${MAX_LIVE_STREAMS} streams per project ` +
        'on one node (429 `live_streams_exhausted`).',
      security: security.bearerOrSuperAdmin,
      middleware: [
        authenticate(deps, 'user', 'superAdmin'),
        requirePermission('events:read', 'notifications:admin'),
      ] as const,
      responses: {
        200: {
          description: 'An event stream',
          content: { 'text/event-stream': { schema: z.string() } },
        },
        ...errorResponses(400, 401, 403, 429),
      },
    }),
    (c) => {
      const projectId = projectOf(c);
      const count = open.get(projectId) ?? 0;
      if (count >= MAX_LIVE_STREAMS) {
        throw new AppError(
          429,
          'live_streams_exhausted',
          `At most ${MAX_LIVE_STREAMS} live views of a project may be open on one node; close one`,
        );
      }
      open.set(projectId, count + 1);
      const principal = c.get('principal') as Extract<Principal, { kind: 'user' | 'superAdmin' }>;
      const expiresAt = principal.exp * 1000;
      c.header('Cache-Control', 'no-store');
      c.header('X-Accel-Buffering', 'no');
      return streamSSE(c, async (stream) => {
        const queue: string[] = [];
        let wake: (() => void) | undefined;
        const off = deps.bus.on('events.settled', (message) => {
          if (message.projectId !== projectId) return;
          queue.push(...message.eventIds);
          wake?.();
        });
        stream.onAbort(() => wake?.());
        try {
          await stream.writeSSE({ event: 'ready', data: JSON.stringify({ projectId }) });
          while (!stream.aborted && Date.now() < expiresAt) {
            if (queue.length === 0) {
              let timer: NodeJS.Timeout | undefined;
              await new Promise<void>((resolve) => {
                wake = resolve;
                timer = setTimeout(resolve, Math.min(HEARTBEAT_MS, Math.max(0, expiresAt - Date.now())));
              });
              clearTimeout(timer);
              wake = undefined;
              if (queue.length === 0 && !stream.aborted) await stream.write(': keep-alive\n\n');
              continue;
            }
            for (const id of queue.splice(0, BATCH)) {
              const detail = await events.getEvent(deps, projectId, id).catch(() => null);
              if (detail) await stream.writeSSE({ event: 'event', id, data: JSON.stringify(detail) });
            }
          }
        } finally {
          off();
          open.set(projectId, (open.get(projectId) ?? 1) - 1);
        }
      });
    },
  );

  return router;
}
