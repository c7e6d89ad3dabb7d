// The people's side of the end-to-end bench: one pusher-js client (the Node build, configured as
// docs/integration.md tells users) per approved user, subscribed to its `private-user-{id}`
// channel through the real auth endpoint, acknowledging every notification with `tocsin:ack`.
// The ledger records every event POSTed and every notification received, and reconciles them:
// each (event, recipient) pair must arrive, deduplicated by notification id as clients are told
// to; duplicates, doubled notifications, other tenants' and other roles' notifications are counted.
import PusherModule from 'pusher-js';
import { EVENT_TYPES, type BenchProject, type BenchUser, type RoleName } from './e2e-setup.js';

// The Node build is CommonJS (`module.exports = Pusher`) while its typings declare an ES default.
const Pusher = PusherModule as unknown as typeof PusherModule.default;
type PusherClient = InstanceType<typeof Pusher>;

export const now = () => performance.timeOrigin + performance.now();

/** What the bench puts in every event's payload; rules copy it into the notification's `data`. */
export interface BenchPayload {
  phase: string;
  seq: number;
  sentAt: number;
  project: string;
}

export interface SentEvent {
  seq: number;
  phase: string;
  project: BenchProject;
  role: RoleName;
  sentAt: number;
  status: 'pending' | 'accepted' | 'rejected';
  /** When the 202 came back. */
  answeredAt?: number;
}

export interface Client {
  project: BenchProject;
  user: BenchUser;
  gateway: string;
  pusher: PusherClient;
  /** First receipt per event seq: the notification id, when it was stored and when it arrived. */
  got: Map<number, { id: string; createdAt: number; at: number }>;
  /** Times each notification id arrived (> 1: a duplicate, dropped by the client). */
  seen: Map<string, number>;
  subscribed: boolean;
  subscriptions: number;
  /** When the current subscription succeeded (replay follows it). */
  subscribedAt: number;
  disconnects: number;
  /** Notifications stored before the current subscription and first received after it. */
  caughtUp: number;
  /** Connection states and subscriptions, with their times (epoch ms), for the details file. */
  history: Array<[number, string]>;
}

export interface PhaseCounters {
  /** Notifications received again (same id): at-least-once, dropped by the client. */
  duplicates: number;
  /** A second, different notification for the same (event, user): the pipeline doubled it. */
  doubled: number;
  /** Another project's event reached this client. */
  crossTenant: number;
  /** A notification for a role the user does not hold. */
  misrouted: number;
  /** Created before the client's latest (re)subscription and first received after it. */
  caughtUp: number;
  /** Receipts of events the bench never sent (should not happen). */
  unknown: number;
  latencies: number[];
  firstAt: number;
  lastAt: number;
}

const emptyCounters = (): PhaseCounters => ({
  duplicates: 0,
  doubled: 0,
  crossTenant: 0,
  misrouted: 0,
  caughtUp: 0,
  unknown: 0,
  latencies: [],
  firstAt: Infinity,
  lastAt: 0,
});

interface NotificationItem {
  id: string;
  createdAt?: string;
  data?: { eventType?: string; payload?: Partial<BenchPayload> };
}

export class Ledger {
  readonly events = new Map<number, SentEvent>();
  readonly phases = new Map<string, PhaseCounters>();
  readonly clients: Client[] = [];
  /** The run in progress: duplicates count where they arrive (a replay re-sends older runs' too). */
  current = 'set-up';

  counters(phase: string): PhaseCounters {
    let counters = this.phases.get(phase);
    if (!counters) this.phases.set(phase, (counters = emptyCounters()));
    return counters;
  }

  /** One notification as a client received it. */
  record(client: Client, item: NotificationItem, at: number): void {
    const payload = item.data?.payload;
    const seq = payload?.seq;
    const event = typeof seq === 'number' ? this.events.get(seq) : undefined;
    const counters = this.counters(event?.phase ?? payload?.phase ?? 'unknown');
    const times = (client.seen.get(item.id) ?? 0) + 1;
    client.seen.set(item.id, times);
    if (times > 1) {
      this.counters(this.current).duplicates++;
      return;
    }
    if (!event || typeof seq !== 'number') {
      counters.unknown++;
      return;
    }
    if (payload?.project !== client.project.slug || event.project !== client.project) counters.crossTenant++;
    if (!client.user.roles.includes(event.role) || item.data?.eventType !== EVENT_TYPES[event.role])
      counters.misrouted++;
    const first = client.got.get(seq);
    if (first) {
      if (first.id !== item.id) counters.doubled++;
      return;
    }
    const createdAt = item.createdAt ? Date.parse(item.createdAt) : NaN;
    client.got.set(seq, { id: item.id, createdAt, at });
    counters.latencies.push(at - event.sentAt);
    counters.firstAt = Math.min(counters.firstAt, at);
    counters.lastAt = Math.max(counters.lastAt, at);
    if (client.subscriptions > 1 && createdAt < client.subscribedAt) {
      counters.caughtUp++;
      client.caughtUp++;
    }
  }

  /** Who must receive `event`: every user of its project holding its role. */
  recipients(event: SentEvent): Client[] {
    return this.clients.filter((c) => c.project === event.project && c.user.roles.includes(event.role));
  }

  /** (event, recipient) pairs of the phase's accepted events, and how many arrived. */
  expected(phase: string, sentBefore = Infinity): { expected: number; received: number; missing: number } {
    let expected = 0;
    let received = 0;
    for (const event of this.events.values()) {
      if (event.phase !== phase || event.status !== 'accepted' || event.sentAt > sentBefore) continue;
      for (const client of this.recipients(event)) {
        expected++;
        if (client.got.has(event.seq)) received++;
      }
    }
    return { expected, received, missing: expected - received };
  }
}

/** Connects and subscribes one user's client; resolves once its user channel is subscribed. */
export function connectClient(
  ledger: Ledger,
  options: {
    project: BenchProject;
    user: BenchUser;
    gateway: { name: string; port: number };
    apiUrl: string;
  },
): Promise<Client> {
  const { project, user, gateway, apiUrl } = options;
  const pusher = new Pusher(project.gatewayKey, {
    cluster: 'tocsin', // required by pusher-js, unused with wsHost
    wsHost: '127.0.0.1',
    wsPort: gateway.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      endpoint: `${apiUrl}/api/v1/users/me/pusher-auth`,
      transport: 'ajax',
      headers: { Authorization: `Bearer ${user.token}` },
    },
  });
  const client: Client = {
    project,
    user,
    gateway: gateway.name,
    pusher,
    got: new Map(),
    seen: new Map(),
    subscribed: false,
    subscriptions: 0,
    subscribedAt: 0,
    disconnects: 0,
    caughtUp: 0,
    history: [],
  };
  ledger.clients.push(client);
  pusher.connection.bind('state_change', (change: { previous: string; current: string }) => {
    client.history.push([Date.now(), change.current]);
    if (change.previous === 'connected' && change.current !== 'connected') {
      client.subscribed = false;
      client.disconnects++;
    }
  });
  const channel = pusher.subscribe(`private-user-${user.id}`);
  channel.bind('notification', (item: NotificationItem) => {
    ledger.record(client, item, now());
    // Acknowledge what was shown, duplicates too: an ack lost with a dead node comes back as a replay.
    pusher.send_event('tocsin:ack', { id: item.id });
  });
  // A replay cut at its limit: read the rest from the inbox, as docs/integration.md tells clients.
  channel.bind('tocsin:replay_truncated', () => {
    readUnacknowledged(apiUrl, user.token, (item) => {
      ledger.record(client, item, now());
      pusher.send_event('tocsin:ack', { id: item.id });
    }).catch((err: unknown) => client.history.push([Date.now(), `inbox read failed: ${String(err)}`]));
  });
  return new Promise((resolve, reject) => {
    channel.bind('pusher:subscription_succeeded', () => {
      client.subscribed = true;
      client.subscriptions++;
      client.subscribedAt = Date.now();
      client.history.push([client.subscribedAt, 'subscribed']);
      resolve(client);
    });
    channel.bind('pusher:subscription_error', (error: unknown) => {
      reject(new Error(`${user.email}: subscription refused ${JSON.stringify(error)}`));
    });
  });
}

/** Every unacknowledged notification of the user's inbox, page after page. */
async function readUnacknowledged(apiUrl: string, token: string, onItem: (item: NotificationItem) => void) {
  let cursor: string | null = null;
  do {
    const query: string = `acknowledged=false&limit=200${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await fetch(`${apiUrl}/api/v1/notifications?${query}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!res.ok) throw new Error(`inbox answered ${res.status}`);
    const page = (await res.json()) as { items: NotificationItem[]; nextCursor: string | null };
    page.items.forEach(onItem);
    cursor = page.nextCursor;
  } while (cursor);
}
