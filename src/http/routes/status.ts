// GET /api/v1/status — the cluster at a glance, for super admins (src/domain/status.ts).
import { createRoute } from '@hono/zod-openapi';
import type { Queue } from 'bullmq';
import type { DomainDeps } from '../../domain/deps.js';
import { PROVIDER_PROJECTS_MAX, readStatus, STREAMS_SHOWN, type StatusSources } from '../../domain/status.js';
import { readGatewayNodes } from '../../realtime/nodes.js';
import { openQueues, queueCounts, streamLags } from '../../workers/backlog.js';
import { createHealthReader } from '../../workers/push/health.js';
import { providerStatus } from '../../workers/push/providers.js';
import { authenticate } from '../middleware/auth.js';
import { createRouter, errorResponses, jsonContent, security, z } from '../openapi.js';

const partError = z.string().optional().openapi({ description: 'Why this part could not be read' });

const Reachability = z.object({
  ok: z.boolean(),
  latencyMs: z.number().nullable().openapi({ description: 'Round trip of a ping', example: 0.42 }),
  error: z.string().optional(),
});

const ProviderState = z.object({
  configured: z.boolean(),
  source: z.enum(['project', 'global']).optional(),
  healthy: z.boolean(),
  reason: z.string().optional(),
  since: z.string().optional(),
});

const StatusSchema = z
  .object({
    status: z.enum(['ok', 'degraded']).openapi({
      description: 'degraded when MySQL or Redis is unreachable or a part could not be read',
    }),
    checkedAt: z.string(),
    mysql: Reachability,
    redis: Reachability,
    queues: z.object({
      items: z.array(
        z.object({
          name: z.string().openapi({ example: 'notification-delivery' }),
          waiting: z.number().int(),
          prioritized: z.number().int(),
          delayed: z.number().int(),
          active: z.number().int(),
          failed: z.number().int(),
          completed: z.number().int(),
        }),
      ),
      error: partError,
    }),
    streams: z.object({
      registered: z.number().int().openapi({ description: 'Project streams the consumers read' }),
      top: z
        .array(
          z.object({
            projectId: z.string(),
            lag: z.number().int().openapi({ description: 'Entries not yet delivered to a consumer' }),
            pending: z.number().int().openapi({ description: 'Delivered, not yet acknowledged' }),
          }),
        )
        .openapi({ description: `The streams furthest behind (lag + pending), at most ${STREAMS_SHOWN}` }),
      error: partError,
    }),
    gateway: z.object({
      nodes: z.array(
        z.object({
          id: z.string(),
          alive: z.boolean().openapi({ description: 'False once its lease ran out (awaiting the reaper)' }),
          connections: z.number().int().nullable(),
          renewedAt: z.string().nullable().openapi({ description: 'Last lease renewal' }),
        }),
      ),
      error: partError,
    }),
    providers: z.object({
      projects: z.number().int().openapi({ description: 'Projects with push or Pusher credentials' }),
      items: z
        .array(
          z.object({
            projectId: z.string(),
            slug: z.string(),
            providers: z
              .object({ fcm: ProviderState, apns: ProviderState, pusher: ProviderState })
              .optional(),
            error: z.string().optional(),
          }),
        )
        .openapi({
          description: `At most ${PROVIDER_PROJECTS_MAX} projects, those with an unhealthy provider first`,
        }),
      error: partError,
    }),
  })
  .openapi('ClusterStatus');

export function statusRoutes(deps: DomainDeps) {
  const router = createRouter();
  router.use('*', authenticate(deps, 'superAdmin'));
  let queues: Queue[] | undefined; // opened on the first request, on the shared connection
  const health = createHealthReader(deps);
  const sources: StatusSources = {
    queueCounts: () => queueCounts((queues ??= openQueues(deps))),
    streamLags: () => streamLags(deps),
    gatewayNodes: () => readGatewayNodes(deps.redis, deps.keys),
    providerStatus: (projectId) => providerStatus(deps, health, projectId),
  };
  router.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['Operations'],
      summary: 'MySQL, Redis, queues, stream lag, gateway nodes and provider health (super admin)',
      security: security.superAdmin,
      responses: { 200: jsonContent(StatusSchema, 'The cluster status'), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await readStatus(deps, sources), 200),
  );
  return router;
}
