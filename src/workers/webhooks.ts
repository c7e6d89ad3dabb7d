// Sends webhook batches to the project's webhookUrl exactly as Pusher does: a JSON body
// `{ time_ms, events }`, `X-Pusher-Key` and `X-Pusher-Signature` (HMAC-SHA256 of the body with
// the app secret, hex). Non-2xx answers are retried with backoff; the URL is re-checked
// against SSRF rules before every send (DNS can change after it was saved).
import { createHmac } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import { decryptSecret } from '../core/crypto.js';
import { bullConnection, QUEUE_NAMES } from '../core/queues.js';
import { assertSafeOutboundUrl } from '../core/ssrf.js';
import type { DomainDeps } from '../domain/deps.js';
import type { WebhookBatchJob } from '../realtime/webhooks.js';

const TIMEOUT_MS = 10_000;

export async function sendWebhookBatch(
  deps: DomainDeps,
  job: WebhookBatchJob,
): Promise<'sent' | 'no_webhook'> {
  const project = await deps.db.system.project.findFirst({
    where: { id: job.projectId, deletedAt: null },
    select: { webhookUrl: true, gatewayKey: true, gatewaySecretEnc: true },
  });
  if (!project?.webhookUrl) return 'no_webhook';
  await assertSafeOutboundUrl(project.webhookUrl, { allowPrivate: deps.config.webhooks.allowPrivate });
  const body = JSON.stringify({ time_ms: job.timeMs, events: job.events });
  const secret = decryptSecret(project.gatewaySecretEnc, deps.config.secrets.encryptionKey);
  const response = await fetch(project.webhookUrl, {
    method: 'POST',
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(TIMEOUT_MS),
    headers: {
      'Content-Type': 'application/json',
      'X-Pusher-Key': project.gatewayKey,
      'X-Pusher-Signature': createHmac('sha256', secret).update(body).digest('hex'),
    },
  });
  if (!response.ok) throw new Error(`Webhook answered ${response.status}`);
  return 'sent';
}

export function startWebhookWorker(deps: DomainDeps): { close(): Promise<void> } {
  const worker = new Worker(
    QUEUE_NAMES.webhooks,
    (job: Job<WebhookBatchJob>) => sendWebhookBatch(deps, job.data),
    {
      connection: bullConnection(deps.config.redis.url),
      prefix: deps.keys.bullPrefix,
      concurrency: 4,
    },
  );
  worker.on('failed', (job, err) =>
    deps.log.warn({ err: err.message, projectId: job?.data.projectId }, 'Webhook delivery failed'),
  );
  worker.on('error', (err) => deps.log.warn({ err: err.message }, 'Webhook worker error'));
  return { close: () => worker.close() };
}
