// Suppression digests at their edges, with the digests run by real worker processes: a worker
// killed with -9 while the digest waits still has it delivered once (by the next worker), a
// rule deleted since its matches were suppressed still gets its digest, and a period with no
// suppressed match sends none.
import { Queue, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../../src/core/ids.js';
import { bullConnection, QUEUE_NAMES } from '../../../src/core/queues.js';
import { createDigestScheduler } from '../../../src/workers/digests.js';
import { api, superAdminToken } from '../../support/api.js';
import { startHub, type TestHub } from '../../support/hub.js';
import { runTocsin, stopChildren, type TocsinProcess } from '../../support/process.js';
import { addUsers, createRule, eventually, pipelineProject, type PipelineProject } from './support.js';

let hub: TestHub;
let sa: string;
let queue: Queue;

beforeAll(async () => {
  hub = await startHub({}, ['api']); // ingest only: the worker processes run every digest
  sa = await superAdminToken(hub);
  const { config, keys } = hub.running.services;
  queue = new Queue(QUEUE_NAMES.digests, {
    connection: bullConnection(config.redis.url),
    prefix: keys.bullPrefix,
  });
});
afterAll(async () => {
  await stopChildren();
  await queue.close();
  await hub.close();
});

async function startWorker(): Promise<TocsinProcess> {
  const worker = runTocsin(['start', '--role', 'worker']);
  await worker.waitForOutput(/Tocsin is running/, 60_000);
  return worker;
}

/** The digest job of the project's rule, once it is in the state `accept` wants. */
async function digestJob(projectId: string, ruleId: string, accept: (state: string) => boolean) {
  let found: Job | undefined;
  await eventually(
    async () => {
      const jobs = await queue.getJobs(['delayed', 'waiting', 'active', 'completed', 'failed']);
      found = jobs.find((j) => j.data.projectId === projectId && j.data.ruleId === ruleId);
      return found ? await found.getState() : 'none';
    },
    accept,
    30_000,
  );
  return (await queue.getJob(found!.id!))!;
}

const notificationsOf = (project: PipelineProject, ruleId: string, kind: 'alert' | 'digest') =>
  hub.running.db.forProject(project.id).notification.findMany({
    where: { ruleId, kind },
    include: { receipts: { select: { userId: true } } },
  });

async function suppressedProject(windowSeconds: number) {
  const project = await pipelineProject(hub, sa, { rateLimits: { ingestPerSecond: 100_000 } });
  const users = await addUsers(hub, project.id, project.roles.member, 2);
  const name = `storm ${uuidv7()}`;
  const created = await createRule(hub, project, {
    name,
    condition: 'event.type == "storm"',
    targetRoles: [project.roles.member],
    suppression: { maxMatches: 1, windowSeconds },
  });
  const rule = { id: created.id, name };
  const ingest = (count: number) =>
    api(
      hub,
      'POST',
      '/api/v1/events/batch',
      { events: Array.from({ length: count }, (_, i) => ({ type: 'storm', payload: { i } })) },
      { apiKey: project.apiKey },
    );
  return { project, users, rule, ingest };
}

let worker: TocsinProcess | undefined;
/** The worker process the digests run in: started when none is running. */
async function runningWorker() {
  if (!worker || worker.child.exitCode !== null || worker.child.signalCode !== null)
    worker = await startWorker();
  return worker;
}

describe('digests', () => {
  it(
    'survive kill -9 of the worker holding them: the next worker delivers the digest once',
    { timeout: 150_000 },
    async () => {
      const first = await startWorker();
      // Long enough that the digest is still waiting when the worker dies.
      const { project, users, rule, ingest } = await suppressedProject(5);
      expect((await ingest(4)).status).toBe(202);
      await digestJob(project.id, rule.id, (state) => state === 'delayed');
      await eventually(
        () => notificationsOf(project, rule.id, 'alert'),
        (alerts) => alerts.length === 1,
      );
      first.child.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');

      worker = await startWorker();
      const job = await digestJob(project.id, rule.id, (state) => state === 'completed');
      expect(job.returnvalue).toBe(3);
      const digests = await notificationsOf(project, rule.id, 'digest');
      expect(digests).toHaveLength(1);
      expect(digests[0]!.title).toBe(`3 more '${rule.name}' alerts in the last 5 s`);
      expect(digests[0]!.receipts.map((r) => r.userId).sort()).toEqual([...users].sort());
    },
  );

  it('are sent for a rule deleted after its matches were suppressed', { timeout: 90_000 }, async () => {
    await runningWorker();
    const { project, users, rule, ingest } = await suppressedProject(2);
    expect((await ingest(3)).status).toBe(202);
    await digestJob(project.id, rule.id, (state) => state === 'delayed');
    const deleted = await api(hub, 'DELETE', `/api/v1/rules/${rule.id}`, undefined, {
      token: project.adminToken,
    });
    expect(deleted.status).toBe(204);
    const job = await digestJob(project.id, rule.id, (state) => state === 'completed');
    expect(job.returnvalue).toBe(2);
    const [digest] = await notificationsOf(project, rule.id, 'digest');
    expect(digest!.title).toBe(`2 more '${rule.name}' alerts in the last 2 s`);
    expect(digest!.receipts.map((r) => r.userId).sort()).toEqual([...users].sort());
  });

  it('are not sent for a period in which nothing was suppressed', { timeout: 90_000 }, async () => {
    await runningWorker();
    const { project, rule, ingest } = await suppressedProject(60);
    expect((await ingest(1)).status).toBe(202); // one match, within the limit
    await eventually(
      () => notificationsOf(project, rule.id, 'alert'),
      (alerts) => alerts.length === 1,
    );
    // A digest due for a period that counted no suppressed match (as a duplicate schedule of
    // an already claimed period would be).
    await createDigestScheduler(queue).schedule({
      projectId: project.id,
      ruleId: rule.id,
      periodId: uuidv7(),
      windowSeconds: 0,
    });
    const job = await digestJob(project.id, rule.id, (state) => state === 'completed');
    expect(job.returnvalue).toBe(0);
    expect(await notificationsOf(project, rule.id, 'digest')).toEqual([]);
  });
});
