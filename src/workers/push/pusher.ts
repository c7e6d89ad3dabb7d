// Hosted Pusher (or any server speaking its HTTP API) through the `pusher` SDK: one client per
// project, rebuilt when its credentials change; events go out in batch triggers.
import Pusher from 'pusher';
import { outboundAgents } from '../../core/ssrf.js';
import { credentialsFingerprint, type PusherCredentials } from '../../domain/provider-credentials.js';
import { chunk } from './chunk.js';
import { classifyPusherError, type Outcome } from './classify.js';
import { createClientCache } from './clients.js';

export interface PusherEvent {
  /** The caller's key for this event (e.g. a receipt id), echoed in its result. */
  id: string;
  channel: string;
  name: string;
  /** Sent as is when a string, else as JSON. */
  data: unknown;
}

export interface EventResult {
  id: string;
  outcome: Outcome;
  error?: string;
}

export interface PusherSender {
  trigger(
    projectId: string,
    credentials: PusherCredentials,
    events: readonly PusherEvent[],
  ): Promise<EventResult[]>;
  close(): Promise<void>;
}

/** Pusher's limit of events per batch trigger. */
const MAX_BATCH = 10;
/** Pusher's limit on one event's data: it refuses (413) a whole batch holding a larger one. */
const MAX_DATA_BYTES = 10 * 1024;

/** What the SDK sends as `data` (on the channels we use, which are not end-to-end encrypted). */
const wireData = (data: unknown) => (typeof data === 'string' ? data : JSON.stringify(data));

function clientOptions(c: PusherCredentials, timeoutMs: number, agent: unknown): Pusher.Options {
  // node-fetch under the SDK takes a function of the URL as agent (the typings say Agent).
  const base = {
    appId: c.appId,
    key: c.key,
    secret: c.secret,
    useTLS: c.useTLS,
    timeout: timeoutMs,
    agent: agent as Pusher.Options['agent'],
  };
  if (c.host !== undefined)
    return { ...base, host: c.host, port: c.port === undefined ? undefined : String(c.port) };
  return { ...base, cluster: c.cluster! };
}

/**
 * `allowPrivate` is WEBHOOK_ALLOW_PRIVATE: the host is the tenant's choice, so unless private
 * targets are allowed every connection (redirects followed by the SDK included) must reach a
 * public address — checked at connect time, as DNS can change after the host was saved.
 */
export function createPusherSender(options: { allowPrivate: boolean; timeoutMs?: number }): PusherSender {
  // Clients hold no connection of their own: nothing to close.
  const clients = createClientCache<Pusher>(() => undefined);
  const agent = outboundAgents({ allowPrivate: options.allowPrivate });

  async function triggerBatch(client: Pusher, events: PusherEvent[]): Promise<EventResult[]> {
    try {
      await client.triggerBatch(events.map(({ channel, name, data }) => ({ channel, name, data })));
      return events.map(({ id }) => ({ id, outcome: 'delivered' }));
    } catch (err) {
      // A batch is one request: it succeeds or fails whole.
      const failure = classifyPusherError(err as Pusher.RequestError);
      return events.map(({ id }) => ({ id, ...failure }));
    }
  }

  return {
    async trigger(projectId, credentials, events) {
      if (events.length === 0) return [];
      const client = clients.get(projectId, credentialsFingerprint(credentials), () => {
        return new Pusher(clientOptions(credentials, options.timeoutMs ?? 5_000, agent));
      });
      // An event over the limit is refused here, so it does not take its batch down with it.
      const fits = (e: PusherEvent) => Buffer.byteLength(wireData(e.data)) <= MAX_DATA_BYTES;
      const batches = chunk(events.filter(fits), MAX_BATCH);
      const sent = (await Promise.all(batches.map((batch) => triggerBatch(client, batch)))).flat();
      const byId = new Map(sent.map((r) => [r.id, r]));
      return events.map(
        (e): EventResult =>
          byId.get(e.id) ?? {
            id: e.id,
            outcome: 'rejected',
            error: `Event data over Pusher's limit of ${MAX_DATA_BYTES} bytes`,
          },
      );
    },
    close: () => clients.close(),
  };
}
