import { describe, expect, it } from 'vitest';
import { buildPushPayload, type PushInput } from '../../../src/workers/push/payload.js';

const input: PushInput = {
  notificationId: 'n-1',
  projectId: 'p-1',
  ruleId: 'r-1',
  eventType: 'transfer.failed',
  title: 'Transfer failed',
  body: 'Batch 42 was rejected',
  sound: { fileName: 'siren.caf', url: 'https://files.example/siren.caf?sig=abc' },
  badge: 7,
  priority: 0,
};

describe('buildPushPayload', () => {
  it('carries title, body, data, sound, badge and the rule as collapse and thread id', () => {
    const { fcm, apns } = buildPushPayload(input);
    const data = {
      notificationId: 'n-1',
      projectId: 'p-1',
      ruleId: 'r-1',
      eventType: 'transfer.failed',
      soundUrl: 'https://files.example/siren.caf?sig=abc',
    };
    expect(fcm).toEqual({
      notification: { title: 'Transfer failed', body: 'Batch 42 was rejected' },
      data,
      android: {
        priority: 'high',
        collapseKey: 'r-1',
        notification: { sound: 'siren.caf', tag: 'r-1', notificationCount: 7 },
      },
      webpush: {
        headers: { Urgency: 'high' },
        notification: { title: 'Transfer failed', body: 'Batch 42 was rejected', tag: 'r-1' },
      },
    });
    expect(apns).toEqual({
      payload: {
        ...data,
        aps: {
          alert: { title: 'Transfer failed', body: 'Batch 42 was rejected' },
          badge: 7,
          sound: 'siren.caf',
          'thread-id': 'r-1',
        },
      },
      priority: 10,
      collapseId: 'r-1',
    });
  });

  it('maps a negative rule priority to normal / 5 and the default 0 and above to high / 10', () => {
    for (const [priority, android, apns, urgency] of [
      [-1, 'normal', 5, 'normal'],
      [0, 'high', 10, 'high'],
      [5, 'high', 10, 'high'],
    ] as const) {
      const payload = buildPushPayload({ ...input, priority });
      expect(payload.fcm.android?.priority).toBe(android);
      expect(payload.fcm.webpush?.headers?.Urgency).toBe(urgency);
      expect(payload.apns.priority).toBe(apns);
    }
  });

  it('falls back to the default sound, and leaves absent data out rather than sending empty strings', () => {
    const { fcm, apns } = buildPushPayload({ ...input, sound: null, ruleId: null, eventType: null });
    expect(fcm.data).toEqual({ notificationId: 'n-1', projectId: 'p-1' });
    expect(Object.values(fcm.data!).every((v) => typeof v === 'string')).toBe(true);
    expect(fcm.android?.notification?.sound).toBe('default');
    expect(apns.payload.aps.sound).toBe('default');
    // Without a rule nothing collapses: each alert stays on screen.
    expect(JSON.parse(JSON.stringify(apns))).not.toHaveProperty('collapseId');
    expect(JSON.parse(JSON.stringify(apns.payload.aps))).not.toHaveProperty('thread-id');
    expect(JSON.parse(JSON.stringify(fcm.android))).not.toHaveProperty('collapseKey');
  });
});
