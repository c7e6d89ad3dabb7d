// GET /metrics on the gateway port: a gateway-only process has no API server, so Prometheus
// scrapes the process's registry here, behind the same METRICS_TOKEN check as the API's.
import { STATUS_CODES } from 'node:http';
import { scrapeRefusal, type Metrics } from '../core/metrics.js';
import type { HttpRequest, HttpResponse } from './uws.js';

function writeError(res: HttpResponse, status: number, code: string, message: string): void {
  res.cork(() => {
    res.writeStatus(`${status} ${STATUS_CODES[status]}`).writeHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ error: { code, message } }));
  });
}

export function metricsHandler(metrics: Pick<Metrics, 'registry'>, token: string | undefined) {
  return (res: HttpResponse, req: HttpRequest): void => {
    // A uWS request is gone after the handler returns: read the header before any await.
    const refusal = scrapeRefusal(token, req.getHeader('authorization'));
    if (refusal) return writeError(res, refusal.status, refusal.code, refusal.message);
    let aborted = false;
    res.onAborted(() => void (aborted = true));
    metrics.registry.metrics().then(
      (text) => {
        if (aborted) return;
        res.cork(() => res.writeHeader('Content-Type', metrics.registry.contentType).end(text));
      },
      () => {
        if (!aborted) writeError(res, 500, 'internal_error', 'Could not collect the metrics');
      },
    );
  };
}
