// Steps survive the worker: a real `tocsin start --role worker` process fires step 1, is killed
// with SIGKILL between steps, and a new worker process fires step 2 exactly once (then schedules
// step 3), from the timer the dead one left in Redis and the state in MySQL.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { timerKey, timerMember } from '../../../src/domain/alerting/timer.js';
import { createTestProject, superAdminToken, type TestProject } from '../../support/api.js';
import { eventually } from '../../support/gateway.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { runTocsin, type TocsinProcess } from '../../support/process.js';
import { awaitAlert, awaitEntries, dueNow, entriesOf, person, postEvent, steppedRule } from './support.js';

let hub: TestHub;
let project: TestProject;
const workers: TocsinProcess[] = [];

async function startWorker() {
  const worker = runTocsin(['start', '--role', 'worker']);
  workers.push(worker);
  await worker.waitForOutput(/Tocsin is running/);
  return worker;
}

beforeAll(async () => {
  hub = await startHub({}, ['api']); // ingest only: every step is fired by the child processes
  project = await createTestProject(hub, await superAdminToken(hub));
});
afterAll(async () => {
  for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  await hub.close();
});

// Two worker processes start (several seconds each on a loaded machine).
it(
  'kill -9 of the worker between steps: the restarted worker fires the next step exactly once',
  { timeout: 120_000 },
  async () => {
    const [ann, bob, cy] = [
      await person(hub, project),
      await person(hub, project),
      await person(hub, project),
    ];
    const type = `kill.${Date.now()}`;
    const policy = await steppedRule(hub, project, type, [ann.id, bob.id, cy.id]);

    const first = await startWorker();
    await postEvent(hub, project, type, {});
    const alert = await awaitAlert(hub, project.id, { policyId: policy.id });
    await awaitEntries(hub, project.id, alert.id, 'notified', 1);
    const { redis, keys } = hub.running.services;
    const member = timerMember(project.id, alert.id);
    // Step 2 waits on the timer (a minute away) when the worker dies.
    await eventually(
      async () => Number(await redis.zscore(timerKey(keys), member)) > Date.now() + 30_000,
      'step 2 is on the timer',
    );
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    await dueNow(hub, project.id, alert.id); // the wait passes while no worker runs
    await startWorker();
    await awaitEntries(hub, project.id, alert.id, 'notified', 2);
    // Step 3 is scheduled: step 2 is done, and the restarted worker holds nothing more of it.
    await eventually(
      async () => Number(await redis.zscore(timerKey(keys), member)) > Date.now() + 30_000,
      'step 3 is on the timer',
    );

    expect((await entriesOf(hub, project.id, alert.id, 'notified')).map((e) => e.step)).toEqual([1, 2]);
    const pages = await hub.running.db.forProject(project.id).notification.findMany({
      where: { alertId: alert.id },
      include: { receipts: { select: { userId: true } } },
      orderBy: { createdAt: 'asc' },
    });
    expect(pages.map((n) => [n.alertStep, n.receipts.map((r) => r.userId)])).toEqual([
      [1, [ann.id]],
      [2, [bob.id]],
    ]);
  },
);
