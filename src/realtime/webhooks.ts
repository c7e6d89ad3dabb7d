// Pusher-compatible webhooks, gateway side: channel and member events are collected per
// project for a moment and handed to the `webhooks` queue as one batch, so a burst of joins
// becomes one signed request; the worker sends and retries it (src/workers/webhooks.ts).
import type { Queue } from 'bullmq';
import type { Logger } from '../core/log.js';
import type { GatewayHooks } from './hooks.js';

export interface WebhookEvent {
  name:
    | 'channel_occupied'
    | 'channel_vacated'
    | 'member_added'
    | 'member_removed'
    | 'client_event'
    | 'cache_miss';
  channel: string;
  user_id?: string;
  event?: string;
  data?: string;
  socket_id?: string;
}

export interface WebhookBatchJob {
  projectId: string;
  timeMs: number;
  events: WebhookEvent[];
}

export const WEBHOOK_FLUSH_MS = 250;

export function webhookHooks(
  queue: Queue,
  log: Logger,
): Required<
  Pick<
    GatewayHooks,
    'channelOccupied' | 'channelVacated' | 'memberAdded' | 'memberRemoved' | 'clientEvent' | 'cacheMiss'
  >
> & {
  flush(): Promise<void>;
} {
  let pending = new Map<string, WebhookEvent[]>();
  let timer: NodeJS.Timeout | undefined;

  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    const batches = pending;
    pending = new Map();
    await Promise.all(
      [...batches].map(([projectId, events]) =>
        queue
          .add('batch', { projectId, timeMs: Date.now(), events } satisfies WebhookBatchJob, {
            attempts: 8,
            backoff: { type: 'exponential', delay: 1_000 },
            removeOnComplete: 1_000,
            removeOnFail: 5_000,
          })
          .catch((err: Error) => log.error({ err: err.message, projectId }, 'Webhook batch not queued')),
      ),
    );
  };
  const add = (projectId: string, event: WebhookEvent) => {
    const list = pending.get(projectId) ?? [];
    list.push(event);
    pending.set(projectId, list);
    timer ??= setTimeout(() => void flush(), WEBHOOK_FLUSH_MS);
  };

  return {
    channelOccupied: (projectId, channel) => add(projectId, { name: 'channel_occupied', channel }),
    channelVacated: (projectId, channel) => add(projectId, { name: 'channel_vacated', channel }),
    memberAdded: (projectId, channel, userId) =>
      add(projectId, { name: 'member_added', channel, user_id: userId }),
    memberRemoved: (projectId, channel, userId) =>
      add(projectId, { name: 'member_removed', channel, user_id: userId }),
    clientEvent: (e) =>
      add(e.projectId, {
        name: 'client_event',
        channel: e.channel,
        event: e.event,
        data: e.data,
        socket_id: e.socketId,
        ...(e.userId ? { user_id: e.userId } : {}),
      }),
    cacheMiss: (projectId, channel) => add(projectId, { name: 'cache_miss', channel }),
    flush,
  };
}
