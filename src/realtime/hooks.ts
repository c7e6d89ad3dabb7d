// Where later features plug into the gateway. Cluster-wide events (occupied, vacated, member
// added/removed) are reported once, by the node that saw the change in Redis — the reaper
// included — so webhooks can be sent from there without duplicates.
export interface ClientEventInfo {
  projectId: string;
  channel: string;
  event: string;
  data: string;
  socketId: string;
  userId?: string;
}

export interface GatewayHooks {
  channelOccupied?(projectId: string, channel: string): void;
  channelVacated?(projectId: string, channel: string): void;
  memberAdded?(projectId: string, channel: string, userId: string): void;
  memberRemoved?(projectId: string, channel: string, userId: string): void;
  clientEvent?(event: ClientEventInfo): void;
  /** A subscriber of a cache channel found no cached event (it was sent `pusher:cache_miss`). */
  cacheMiss?(projectId: string, channel: string): void;
  /**
   * A socket subscribed to its user channel (`private-user-{id}`); the events resolved are sent
   * to it on that channel right after `subscription_succeeded` (replay of missed notifications).
   * `since` is the `readAt` of this socket's previous replay (0: none): only what came after it.
   */
  userChannelSubscribed?(
    projectId: string,
    userId: string,
    since: number,
  ): Promise<{ events: Array<{ event: string; data: string }>; readAt: number }>;
  /**
   * A non-protocol event from a client (e.g. `tocsin:ack`): `unknown` rejects it, `overloaded`
   * closes the socket with 4301 (back off and reconnect).
   */
  customEvent?(
    projectId: string,
    socketId: string,
    userId: string | undefined,
    event: string,
    data: unknown,
  ): 'accepted' | 'unknown' | 'overloaded';
}
