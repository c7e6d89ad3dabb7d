// The API application: shared middleware, then the route groups. Built from its dependencies
// so tests can make one against a per-worker database and Redis prefix.
import { bodyLimit } from 'hono/body-limit';
import { except } from 'hono/combine';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { bodyTooLarge } from '../core/errors.js';
import type { DomainDeps } from '../domain/deps.js';
import { errorHandler, notFoundHandler, sendError } from './middleware/errors.js';
import { requestContext } from './middleware/request-context.js';
import { requestMetrics } from './middleware/metrics.js';
import { createRouter, mountDocs, OPENAPI_PATH } from './openapi.js';
import { docsRoutes } from './routes/docs.js';
import { authRoutes } from './routes/auth.js';
import { metricsRoutes } from './routes/metrics.js';
import { healthRoutes, type ReadinessCheck } from './routes/health.js';
import { projectRoutes } from './routes/projects.js';
import { ownProjectRoutes } from './routes/project.js';
import { pusherAuthRoutes } from './routes/pusher-auth.js';
import { providerRoutes } from './routes/providers.js';
import { fileRoutes } from './routes/files.js';
import { notificationRoutes } from './routes/notifications.js';
import { SOUNDS_PATH, soundRoutes } from './routes/sounds.js';
import { ruleRoutes } from './routes/rules.js';
import { alertRoutes } from './routes/alerts.js';
import { escalationPolicyRoutes } from './routes/escalation-policies.js';
import { scheduleRoutes } from './routes/schedules.js';
import { eventRoutes } from './routes/events.js';
import { bucketRoutes } from './routes/buckets.js';
import { heartbeatRoutes } from './routes/heartbeats.js';
import { auditMutations } from './middleware/audit-mutations.js';
import { checkedBodies } from './middleware/bodies.js';
import { rateLimit } from './middleware/rate-limit.js';
import { auditRoutes } from './routes/audit.js';
import { roleRoutes } from './routes/roles.js';
import { statusRoutes } from './routes/status.js';
import { userRoutes } from './routes/users.js';
import { createGatewayApi } from '../realtime/api.js';
import { createPusherHttpApi } from '../realtime/http-api.js';
import { describePusherApi, PUSHER_API_TAG, pusherRoutes } from './routes/pusher.js';
import { CONSOLE_AUTH_PATH, consoleAuthRoutes } from './routes/console-auth.js';
import { consoleRoutes } from './routes/console.js';
import { liveRoutes } from './routes/console-live.js';

export interface ApiDeps extends DomainDeps {
  readiness: Record<string, ReadinessCheck>;
}

export function createApiApp(deps: ApiDeps) {
  const { config, log } = deps;
  const app = createRouter();
  app.use('*', requestContext());
  app.use('*', requestMetrics(deps.metrics));
  // Not overwriting: /files and /docs set their own resource and content policies.
  app.use('*', secureHeaders({ overwrite: false }));
  app.use(
    '*',
    cors({
      origin: config.http.corsOrigins.includes('*') ? '*' : config.http.corsOrigins,
      allowHeaders: [
        'Content-Type',
        'Authorization',
        'X-API-Key',
        'X-Project-Id',
        'Idempotency-Key',
        'X-Request-Id',
      ],
      exposeHeaders: [
        'X-Request-Id',
        'Retry-After',
        'RateLimit-Limit',
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'Idempotent-Replayed',
      ],
      maxAge: 600,
    }),
  );
  app.use(
    '*',
    // Sound uploads have their own, larger limit (routes/sounds.ts).
    except(
      SOUNDS_PATH,
      bodyLimit({
        maxSize: config.http.bodyLimitBytes,
        onError: (c) => {
          const refused = bodyTooLarge(config.http.bodyLimitBytes);
          return sendError(c, refused.status, refused.code, refused.message);
        },
      }),
    ),
  );
  // The limiter runs first: a refused request is neither handled nor audited.
  app.use('/api/v1/*', rateLimit(deps, 'api'));
  app.use('/api/v1/*', auditMutations(deps));
  // After the audit middleware, so a refused body is audited too; sounds check their own uploads.
  app.use('*', except(SOUNDS_PATH, checkedBodies()));
  app.onError(errorHandler(log));
  app.notFound(notFoundHandler);
  app.route('/', healthRoutes(deps.readiness));
  app.route('/', metricsRoutes(deps.metrics, config.metricsToken));
  app.route(CONSOLE_AUTH_PATH, consoleAuthRoutes(deps));
  app.route('/api/v1/auth', authRoutes(deps));
  app.route('/api/v1/projects', projectRoutes(deps));
  app.route('/api/v1/project', ownProjectRoutes(deps));
  app.route(SOUNDS_PATH, soundRoutes(deps));
  app.route('/api/v1/notifications', notificationRoutes(deps));
  app.route('/', fileRoutes(deps));
  app.route('/api/v1/rules', ruleRoutes(deps));
  app.route('/api/v1/alerts', alertRoutes(deps));
  app.route('/api/v1/escalation-policies', escalationPolicyRoutes(deps));
  app.route('/api/v1/schedules', scheduleRoutes(deps));
  app.route('/api/v1/events', eventRoutes(deps));
  app.route('/api/v1/transfer-buckets', bucketRoutes(deps));
  app.route('/api/v1/heartbeats', heartbeatRoutes(deps));
  app.route('/api/v1/users', userRoutes(deps));
  app.route('/api/v1/users/me', pusherAuthRoutes(deps));
  app.route('/api/v1/roles', roleRoutes(deps));
  app.route('/api/v1/providers', providerRoutes(deps));
  app.route('/api/v1/audit', auditRoutes(deps));
  app.route('/api/v1/status', statusRoutes(deps));
  app.route('/api/v1/live', liveRoutes(deps));
  app.route('/', consoleRoutes(config));
  app.route('/', pusherRoutes(createPusherHttpApi({ gateway: createGatewayApi(deps), log })));
  describePusherApi(app.openAPIRegistry);
  mountDocs(app, config.http.publicUrl, [PUSHER_API_TAG]);
  app.route('/', docsRoutes(OPENAPI_PATH));
  return app;
}

export type ApiApp = ReturnType<typeof createApiApp>;
