// What a provider's answer means for the delivery chain. One vocabulary for all providers:
//   delivered          — the provider accepted it
//   invalid_token      — this device token is dead: remove the device
//   retry              — transient (throttling, 5xx, network): try again with backoff
//   provider_unhealthy — our credentials or configuration are wrong: stop hammering the provider
//   rejected           — this message can never succeed as built (too large, bad field): do not retry
export type Outcome = 'delivered' | 'invalid_token' | 'retry' | 'provider_unhealthy' | 'rejected';

export interface Failure {
  outcome: Exclude<Outcome, 'delivered'>;
  /** For the receipt's lastError and logs; never holds a credential. */
  error: string;
}

const FCM: Record<string, Failure['outcome']> = {
  'messaging/registration-token-not-registered': 'invalid_token',
  'messaging/invalid-registration-token': 'invalid_token',
  'messaging/server-unavailable': 'retry',
  'messaging/internal-error': 'retry',
  'messaging/unknown-error': 'retry',
  'messaging/message-rate-exceeded': 'retry',
  'messaging/device-message-rate-exceeded': 'retry',
  'messaging/topics-message-rate-exceeded': 'retry',
  'app/network-error': 'retry',
  'app/network-timeout': 'retry',
  'messaging/authentication-error': 'provider_unhealthy',
  'messaging/third-party-auth-error': 'provider_unhealthy',
  'messaging/mismatched-credential': 'provider_unhealthy',
  'app/invalid-credential': 'provider_unhealthy',
  'messaging/payload-size-limit-exceeded': 'rejected',
  'messaging/invalid-payload': 'rejected',
  'messaging/invalid-data-payload-key': 'rejected',
  'messaging/invalid-options': 'rejected',
  'messaging/invalid-package-name': 'rejected',
};

// An error is the classified cause, then optionally ": " and the provider's own words.
const CAUSE_END = ': ';

/**
 * The classified cause of an error built here — FCM's code, APNs' status and reason, Pusher's
 * status — without the provider's message text, which may quote its response: what a tenant is told.
 */
export const classifiedCause = (error: string): string => error.split(CAUSE_END, 1)[0]!.slice(0, 100);

/** A firebase-admin error (FirebaseMessagingError / FirebaseAppError). */
export function classifyFcmError(err: { code?: string; message?: string }): Failure {
  const code = err.code ?? 'unknown';
  const error = `${code}${CAUSE_END}${err.message ?? ''}`.slice(0, 500);
  // FCM v1 answers INVALID_ARGUMENT both for a malformed token and for a malformed message.
  if (code === 'messaging/invalid-argument') {
    return { outcome: /registration token/i.test(err.message ?? '') ? 'invalid_token' : 'rejected', error };
  }
  // Unknown codes are retried: the job's attempt limit bounds them.
  return { outcome: FCM[code] ?? 'retry', error };
}

const APNS: Record<string, Failure['outcome']> = {
  BadDeviceToken: 'invalid_token',
  Unregistered: 'invalid_token',
  ExpiredToken: 'invalid_token',
  DeviceTokenNotForTopic: 'invalid_token',
  TooManyRequests: 'retry',
  TooManyProviderTokenUpdates: 'retry',
  InternalServerError: 'retry',
  ServiceUnavailable: 'retry',
  Shutdown: 'retry',
  InvalidProviderToken: 'provider_unhealthy',
  ExpiredProviderToken: 'provider_unhealthy',
  MissingProviderToken: 'provider_unhealthy',
  BadCertificate: 'provider_unhealthy',
  BadCertificateEnvironment: 'provider_unhealthy',
  Forbidden: 'provider_unhealthy',
  TopicDisallowed: 'provider_unhealthy',
  BadTopic: 'provider_unhealthy',
  MissingTopic: 'provider_unhealthy',
};

/** A node-apn failure: an HTTP status and Apple's reason, or a connection error without status. */
export function classifyApnsFailure(failure: {
  status?: number | string;
  response?: { reason?: string };
  error?: { message?: string };
}): Failure {
  const status = Number(failure.status);
  const reason = failure.response?.reason;
  if (reason && APNS[reason]) return { outcome: APNS[reason], error: `${status} ${reason}` };
  if (!Number.isInteger(status))
    return { outcome: 'retry', error: failure.error?.message ?? 'APNs unreachable' };
  return { outcome: byStatus(status), error: `${status} ${reason ?? ''}`.trim() };
}

/**
 * A `pusher` SDK RequestError. Its url carries the request signature and its body comes from a
 * host the tenant chose (it may not be Pusher at all): both are left out, only the status and
 * the network error's code are kept.
 */
export function classifyPusherError(err: { status?: number; error?: Error }): Failure {
  const code = (err.error as NodeJS.ErrnoException | undefined)?.code;
  if (err.status === undefined) {
    // Our own refusal of a private address: a configuration error, not a passing outage.
    if (code === 'url_not_allowed')
      return {
        outcome: 'provider_unhealthy',
        error: 'Pusher host is a private, loopback or reserved address',
      };
    return { outcome: 'retry', error: code ? `Pusher unreachable: ${code}` : 'Pusher unreachable' };
  }
  // 404: no such app on that host — a configuration error like a bad key.
  const outcome = err.status === 404 ? 'provider_unhealthy' : byStatus(err.status);
  return { outcome, error: `Pusher answered ${err.status}` };
}

/** HTTP status fallback when a provider gives no reason we know. */
function byStatus(status: number): Failure['outcome'] {
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  if (status === 401 || status === 403) return 'provider_unhealthy';
  return 'rejected';
}
