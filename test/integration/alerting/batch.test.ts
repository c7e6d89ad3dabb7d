// The escalation worker fires the due alerts of a project together (one transaction per chunk,
// a pass's policies and targets read once). Thirty alerts due at once, over two chunks, each fire
// their step exactly once; and when a chunk fails after its commit (here: the hand-over to
// delivery refuses once), its alerts are taken one by one, handed over again, and no step fires twice.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { uuidv7 } from '../../../src/core/ids.js';
import { timerKey, timerMember } from '../../../src/domain/alerting/timer.js';
import { createRecipientIndex } from '../../../src/domain/recipients.js';
import { startEscalation, type Escalation } from '../../../src/workers/escalation.js';
import type { Dispatched } from '../../../src/workers/notifications.js';
import { createTestProject, superAdminToken, type TestProject } from '../../support/api.js';
import { eventually } from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { createPolicy, person, userStep } from './support.js';

const ALERTS = 30;
const CHUNK = 25;

let hub: TestHub;
let project: TestProject;
let escalation: Escalation | undefined;

beforeAll(async () => {
  // No worker role: the only escalation worker is the one this test starts.
  hub = await startHub({}, ['api']);
  project = await createTestProject(hub, await superAdminToken(hub));
});
afterAll(async () => {
  await escalation?.close();
  await hub.close();
});

it('fires each of many due alerts once, in chunks, and retries a failed chunk alert by alert', async () => {
  const [ann, bob] = [await person(hub, project), await person(hub, project)];
  const policy = await createPolicy(hub, project, { steps: [userStep(ann.id), userStep(bob.id)] });
  const db = hub.running.db.forProject(project.id);
  const due = new Date();
  const ids = Array.from({ length: ALERTS }, () => uuidv7());
  await db.alert.createMany({
    data: ids.map((id, i) => ({
      id,
      projectId: project.id,
      policyId: policy.id,
      dedupKey: `batch-${i}`,
      openKey: id.replace(/-/g, '').padEnd(64, '0'),
      title: 'Transfer failed',
      body: 'batch',
      lastEventAt: due,
      nextStepAt: due,
    })),
  });
  const { redis, keys } = hub.running.services;
  await redis.zadd(timerKey(keys), ...ids.flatMap((id) => [due.getTime(), timerMember(project.id, id)]));

  const handedOver: Dispatched[][] = [];
  let refused = 0;
  escalation = startEscalation(
    {
      ...hub.running.services,
      recipients: createRecipientIndex(hub.running.services),
      dispatch: async (_projectId, notifications) => {
        if (refused === 0 && notifications.length > 1) {
          refused += 1;
          throw new Error('delivery queue unavailable');
        }
        handedOver.push(notifications);
      },
    },
    { pollMs: 20, chunkSize: CHUNK },
  );

  const notified = () => db.alertEntry.count({ where: { alertId: { in: ids }, type: 'notified' } });
  await eventually(async () => (await notified()) === ALERTS, 'step 1 of every alert');
  const pages = await db.notification.findMany({
    where: { alertId: { in: ids } },
    select: { id: true, alertId: true, alertStep: true, receipts: { select: { userId: true } } },
  });
  // Each alert paged Ann once, at step 1, and is now waiting for step 2.
  expect(pages.map((p) => p.alertId).sort()).toEqual([...ids].sort());
  expect(new Set(pages.map((p) => `${p.alertStep}:${p.receipts.map((r) => r.userId).join()}`))).toEqual(
    new Set([`1:${ann.id}`]),
  );
  const alerts = await db.alert.findMany({ where: { id: { in: ids } }, select: { nextStep: true } });
  expect(alerts.every((a) => a.nextStep === 1)).toBe(true);

  // The refused chunk was handed over again, alert by alert: every page reached delivery.
  expect(refused).toBe(1);
  await eventually(
    async () => new Set(handedOver.flat().map((n) => n.notificationId)).size === ALERTS,
    'every page handed over to delivery',
  );
  expect(new Set(handedOver.flat().map((n) => n.notificationId))).toEqual(new Set(pages.map((p) => p.id)));
  expect(handedOver.some((batch) => batch.length > 1)).toBe(true); // the other chunk went as one
});
