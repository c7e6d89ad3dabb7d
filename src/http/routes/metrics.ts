// GET /metrics for Prometheus, behind a bearer token (closed while METRICS_TOKEN is unset).
import { Hono } from 'hono';
import { scrapeRefusal, type Metrics } from '../../core/metrics.js';
import type { Logger } from '../../core/log.js';
import { errorHandler, notFoundHandler } from '../middleware/errors.js';
import { requestContext, type AppEnv } from '../middleware/request-context.js';

export function metricsRoutes(metrics: Metrics, token: string | undefined) {
  return new Hono<AppEnv>().get('/metrics', async (c) => {
    const refusal = scrapeRefusal(token, c.req.header('authorization'));
    if (refusal) throw refusal;
    return c.text(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType });
  });
}

/** /metrics alone, for METRICS_PORT (a process without the API, e.g. a worker). */
export function metricsApp(metrics: Metrics, token: string | undefined, log: Logger) {
  const app = new Hono<AppEnv>();
  app.use('*', requestContext());
  app.onError(errorHandler(log));
  app.notFound(notFoundHandler);
  return app.route('/', metricsRoutes(metrics, token));
}
