// Counts and times every request by its route pattern (bounded labels, never raw paths).
import type { MiddlewareHandler } from 'hono';
import type { Metrics } from '../../core/metrics.js';
import type { AppEnv } from './request-context.js';

export function requestMetrics(metrics: Metrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const labels = {
        method: c.req.method,
        route: c.req.routePath || 'unmatched',
        status: String(c.res.status),
      };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}
