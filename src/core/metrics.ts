// Prometheus metrics, defined in one place. Labels are bounded: route patterns, status codes,
// project ids, channels and outcomes — never user ids. One registry per process (tests run
// several hubs in one process, so it is not a global).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { constantTimeEqual } from './crypto.js';
import { forbidden, unauthorized, type AppError } from './errors.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tocsin_' });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'tocsin_http_requests_total',
      help: 'HTTP requests by route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'tocsin_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    eventsIngested: new Counter({
      name: 'tocsin_events_ingested_total',
      help: 'Events accepted by ingest',
      labelNames: ['project'] as const,
      registers,
    }),
    eventsProcessed: new Counter({
      name: 'tocsin_events_processed_total',
      help: 'Events processed by the consumer, by outcome (processed, failed, dead_lettered)',
      labelNames: ['project', 'outcome'] as const,
      registers,
    }),
    receiptChanges: new Counter({
      name: 'tocsin_receipt_changes_total',
      help: 'Socket acknowledgements and replays written from the receipt streams, by outcome (processed, failed, dead_lettered)',
      labelNames: ['project', 'outcome'] as const,
      registers,
    }),
    eventsSuppressed: new Counter({
      name: 'tocsin_events_suppressed_total',
      help: 'Rule matches suppressed by the sliding window',
      labelNames: ['project'] as const,
      registers,
    }),
    ruleEvaluations: new Counter({
      name: 'tocsin_rule_evaluations_total',
      help: 'Rule conditions evaluated',
      labelNames: ['project'] as const,
      registers,
    }),
    notifications: new Counter({
      name: 'tocsin_notifications_total',
      help: 'Notification deliveries by channel and outcome',
      labelNames: ['project', 'channel', 'outcome'] as const,
      registers,
    }),
    deliveryLatency: new Histogram({
      name: 'tocsin_delivery_latency_seconds',
      help: 'From event received to notification delivered',
      labelNames: ['project', 'channel'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'tocsin_queue_depth',
      help: 'Jobs waiting or delayed per queue',
      labelNames: ['queue'] as const,
      registers,
    }),
    streamLag: new Gauge({
      name: 'tocsin_stream_lag',
      help: 'Entries in a project stream not yet processed by the consumer group',
      labelNames: ['project'] as const,
      registers,
    }),
    providerUnhealthy: new Gauge({
      name: 'tocsin_provider_unhealthy',
      help: 'Delivery providers marked unhealthy (bad credentials or configuration): 1 per project and provider',
      labelNames: ['project', 'provider'] as const,
      registers,
    }),
    auditBuffered: new Gauge({
      name: 'tocsin_audit_buffered_rows',
      help: 'Audit rows waiting to be written to MySQL',
      registers,
    }),
    auditDropped: new Counter({
      name: 'tocsin_audit_dropped_rows_total',
      help: 'Audit rows dropped because the buffer was full (MySQL away too long)',
      registers,
    }),
    gatewayConnections: new Gauge({
      name: 'tocsin_gateway_connections',
      help: 'Open WebSocket connections on this node',
      labelNames: ['project'] as const,
      registers,
    }),
    gatewaySubscriptions: new Gauge({
      name: 'tocsin_gateway_subscriptions',
      help: 'Channel subscriptions on this node',
      labelNames: ['project'] as const,
      registers,
    }),
    gatewayMessages: new Counter({
      name: 'tocsin_gateway_messages_total',
      help: 'WebSocket messages by direction (in, out)',
      labelNames: ['project', 'direction'] as const,
      registers,
    }),
    alertsUnrouted: new Counter({
      name: 'tocsin_alerts_unrouted_total',
      help: 'Alert steps and reminders that reached nobody (no active user in any target, or a schedule gap)',
      labelNames: ['project'] as const,
      registers,
    }),
    escalationLateness: new Histogram({
      name: 'tocsin_escalation_lateness_seconds',
      help: 'From when an escalation step was due to when it fired',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Whether a scrape may read the registry (`Authorization: Bearer <METRICS_TOKEN>`): null when
 * it may, else the error to answer. Shared by the API and the gateway port.
 */
export function scrapeRefusal(token: string | undefined, authorization: string | undefined): AppError | null {
  if (!token) return forbidden('metrics_disabled', 'Set METRICS_TOKEN to enable /metrics');
  const given = authorization?.replace(/^Bearer /, '') ?? '';
  if (!constantTimeEqual(given, token))
    return unauthorized('metrics_token_invalid', 'Send Authorization: Bearer <METRICS_TOKEN>');
  return null;
}
