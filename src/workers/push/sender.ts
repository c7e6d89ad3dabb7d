// What every push sender (FCM, APNs) offers: send one payload to some devices of a project with
// the given credentials, and say per device what happened.
import type { Outcome } from './classify.js';
import type { PushPayload } from './payload.js';

export interface PushDevice {
  id: string;
  token: string;
}

export interface DeviceResult {
  deviceId: string;
  outcome: Outcome;
  error?: string;
}

export interface PushSender<Credentials> {
  send(
    projectId: string,
    credentials: Credentials,
    devices: readonly PushDevice[],
    payload: PushPayload,
  ): Promise<DeviceResult[]>;
  /** Closes every client (apps, HTTP/2 sessions). */
  close(): Promise<void>;
}
