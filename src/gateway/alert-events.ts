// Alerts over the socket: `tocsin:ack` with `{ alertId }` takes the alert, `tocsin:resolve` with
// `{ alertId }` closes it (acknowledging a notification of an alert, `tocsin:ack` with `{ id }`,
// takes its alert too). Access rests on the user having been notified of the alert.
import { AppError } from '../core/errors.js';
import { UUID_PATTERN } from '../core/ids.js';
import { acknowledgeAlert, resolveAlert, socketPrincipal } from '../domain/alerting/alerts.js';
import type { DomainDeps } from '../domain/deps.js';

export const ALERT_EVENTS = { acknowledge: 'tocsin:ack', resolve: 'tocsin:resolve' } as const;

/** True when the frame was an alert event (handled in the background), false to let others try. */
export function handleAlertEvent(
  deps: DomainDeps,
  projectId: string,
  userId: string | undefined,
  event: string,
  data: unknown,
): boolean {
  const alertId = (data as { alertId?: unknown } | null)?.alertId;
  if (event !== ALERT_EVENTS.acknowledge && event !== ALERT_EVENTS.resolve) return false;
  if (!userId || typeof alertId !== 'string' || !UUID_PATTERN.test(alertId)) return false;
  const act = event === ALERT_EVENTS.resolve ? resolveAlert : acknowledgeAlert;
  act(deps, socketPrincipal(projectId, userId), projectId, alertId).catch((err: unknown) => {
    if (err instanceof AppError) deps.log.debug({ err: err.message }, `${event} over the socket refused`);
    else deps.log.warn({ err: (err as Error).message }, `${event} over the socket failed`);
  });
  return true;
}
