// Alerts over the socket: `tocsin:ack` with `{ alertId }` takes the alert, `tocsin:resolve` with
// `{ alertId }` closes it (acknowledging a notification of an alert, `tocsin:ack` with `{ id }`,
// takes its alert too). Accepted into the project's receipt stream like acknowledgements and
// applied by the worker role, where access rests on the user having been notified of the alert.
import { UUID_PATTERN } from '../core/ids.js';
import type { AlertAction } from '../domain/receipt-stream.js';

export const ALERT_EVENTS = { acknowledge: 'tocsin:ack', resolve: 'tocsin:resolve' } as const;

/** The alert action a frame asks for, or undefined when it is not one (others may take it). */
export function alertActionOf(
  event: string,
  data: unknown,
): { action: AlertAction; alertId: string } | undefined {
  const alertId = (data as { alertId?: unknown } | null)?.alertId;
  if (event !== ALERT_EVENTS.acknowledge && event !== ALERT_EVENTS.resolve) return undefined;
  if (typeof alertId !== 'string' || !UUID_PATTERN.test(alertId)) return undefined;
  return {
    action: event === ALERT_EVENTS.resolve ? 'resolve' : 'acknowledge',
    alertId: alertId.toLowerCase(),
  };
}
