import { describe, expect, it } from 'vitest';
import {
  classifyApnsFailure,
  classifyFcmError,
  classifyPusherError,
  classifiedCause,
} from '../../../src/workers/push/classify.js';

describe('classifyFcmError', () => {
  it.each([
    ['messaging/registration-token-not-registered', 'Requested entity was not found.', 'invalid_token'],
    ['messaging/invalid-registration-token', 'Invalid registration token', 'invalid_token'],
    [
      'messaging/invalid-argument',
      'The registration token is not a valid FCM registration token',
      'invalid_token',
    ],
    ['messaging/invalid-argument', 'Invalid value at message.android.ttl', 'rejected'],
    ['messaging/payload-size-limit-exceeded', 'too big', 'rejected'],
    ['messaging/server-unavailable', 'unavailable', 'retry'],
    ['messaging/message-rate-exceeded', 'Quota exceeded.', 'retry'],
    ['messaging/internal-error', 'internal', 'retry'],
    ['app/network-error', 'ECONNREFUSED', 'retry'],
    ['app/invalid-credential', 'failed to fetch a valid Google OAuth2 access token', 'provider_unhealthy'],
    [
      'messaging/third-party-auth-error',
      'Request had invalid authentication credentials.',
      'provider_unhealthy',
    ],
    ['messaging/mismatched-credential', 'SenderId mismatch', 'provider_unhealthy'],
    ['messaging/authentication-error', 'auth', 'provider_unhealthy'],
    ['messaging/something-new', 'future code', 'retry'],
  ])('%s (%s) → %s', (code, message, outcome) => {
    const failure = classifyFcmError({ code, message });
    expect(failure.outcome).toBe(outcome);
    expect(failure.error).toContain(code);
  });
});

describe('classifyApnsFailure', () => {
  it.each([
    [400, 'BadDeviceToken', 'invalid_token'],
    [410, 'Unregistered', 'invalid_token'],
    [400, 'DeviceTokenNotForTopic', 'invalid_token'],
    [429, 'TooManyRequests', 'retry'],
    [503, 'ServiceUnavailable', 'retry'],
    [500, 'InternalServerError', 'retry'],
    [403, 'InvalidProviderToken', 'provider_unhealthy'],
    [403, 'ExpiredProviderToken', 'provider_unhealthy'],
    [400, 'TopicDisallowed', 'provider_unhealthy'],
    [413, 'PayloadTooLarge', 'rejected'],
    [400, 'BadCollapseId', 'rejected'],
    [502, 'SomethingNew', 'retry'],
    [403, 'SomethingNew', 'provider_unhealthy'],
  ])('%s %s → %s', (status, reason, outcome) => {
    expect(classifyApnsFailure({ status, response: { reason } })).toEqual({
      outcome,
      error: `${status} ${reason}`,
    });
  });

  it('retries a connection error, which has no status', () => {
    expect(classifyApnsFailure({ error: new Error('connect ECONNREFUSED') })).toEqual({
      outcome: 'retry',
      error: 'connect ECONNREFUSED',
    });
  });
});

describe('classifyPusherError', () => {
  it.each([
    [401, 'Invalid signature', 'provider_unhealthy'],
    [403, 'App disabled', 'provider_unhealthy'],
    [404, 'Unknown app', 'provider_unhealthy'],
    [413, 'Payload too large', 'rejected'],
    [400, 'Bad request', 'rejected'],
    [429, 'Rate limited', 'retry'],
    [503, 'Unavailable', 'retry'],
  ])('%s → %s, keeping the status and never the body', (status, body, outcome) => {
    // The host is the tenant's choice: its answer's bytes are not ours to keep or show.
    expect(classifyPusherError({ status, body } as { status: number })).toEqual({
      outcome,
      error: `Pusher answered ${status}`,
    });
  });

  it('retries a network error by its code and never repeats the signed URL', () => {
    const url = 'https://api.pusherapp.com/apps/1/batch_events?auth_key=k&auth_signature=deadbeef';
    const err = Object.assign(new Error('Request failed with an error'), {
      url,
      error: Object.assign(new Error(`request to ${url} failed, reason: socket hang up`), {
        code: 'ECONNRESET',
      }),
    });
    const failure = classifyPusherError(err);
    expect(failure).toEqual({ outcome: 'retry', error: 'Pusher unreachable: ECONNRESET' });
    expect(JSON.stringify(classifyPusherError({ ...err, status: 401 }))).not.toContain('deadbeef');
  });

  it('calls a refused private host a configuration error', () => {
    const refused = Object.assign(new Error('127.0.0.1 is a private address'), { code: 'url_not_allowed' });
    expect(classifyPusherError({ error: refused })).toMatchObject({ outcome: 'provider_unhealthy' });
  });
});

describe('classifiedCause', () => {
  it("keeps each provider's code or status and drops the provider's own words", () => {
    const fcm = classifyFcmError({
      code: 'app/invalid-credential',
      message: 'Error fetching access token: invalid_grant (Invalid grant: account not found)',
    });
    expect(classifiedCause(fcm.error)).toBe('app/invalid-credential');
    expect(
      classifiedCause(
        classifyApnsFailure({ status: 403, response: { reason: 'InvalidProviderToken' } }).error,
      ),
    ).toBe('403 InvalidProviderToken');
    expect(classifiedCause(classifyPusherError({ status: 401 }).error)).toBe('Pusher answered 401');
  });
});
