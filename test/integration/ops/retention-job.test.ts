// The scheduled retention job (src/workers/retention.ts): one BullMQ job scheduler however many
// workers start it, first run one interval after it is created, and each run deletes what the
// projects' retention settings no longer keep.
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../../src/core/db.js';
import { createLogger } from '../../../src/core/log.js';
import { QUEUE_NAMES } from '../../../src/core/queues.js';
import { createRedis, redisKeys } from '../../../src/core/redis.js';
import { createProjectDirectory } from '../../../src/domain/project-directory.js';
import {
  RETENTION_SCHEDULER_ID,
  startRetentionJob,
  type RetentionSummary,
} from '../../../src/workers/retention.js';
import { testConfig } from '../../support/env.js';
import { eventually } from '../../support/gateway.js';
import { KEPT, retainedCounts, seedRetentionProject } from '../../support/retention-seed.js';

const config = testConfig();
const log = createLogger({ level: 'silent' });
let db: Db;
let deps: Parameters<typeof startRetentionJob>[0];
const running: Array<{ close(): Promise<void> }> = [];
const queues: Queue[] = [];

beforeAll(() => {
  db = createDb(config.database);
  const redis = createRedis(config.redis.url, 'retention-job-test');
  // No settings change is announced here: the seed's last write is read once, fresh.
  const projects = createProjectDirectory({ db, bus: { on: () => () => undefined }, pepper: 'test' });
  deps = { db, log, redis, keys: redisKeys(config.redis.prefix), projects };
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((job) => job.close()));
  await Promise.all(queues.splice(0).map((queue) => queue.close()));
});
afterAll(async () => {
  deps.redis.disconnect();
  await db.close();
});

/** Seeds as the API would change settings: then the project's cached settings are dropped. */
async function seed() {
  const seeded = await seedRetentionProject(db, new Date());
  deps.projects.invalidate(seeded.projectId);
  return seeded;
}

let clusters = 0;
/** A BullMQ namespace of its own per test, as if each test were a separate cluster. */
function cluster(intervalMs: number) {
  const prefix = `${config.redis.prefix}retention-job-${clusters++}`;
  const queue = new Queue(QUEUE_NAMES.retention, { connection: deps.redis, prefix });
  queues.push(queue);
  return {
    queue,
    /** Starts the job as one more worker process would. */
    startWorker: (interval = intervalMs) => {
      const job = startRetentionJob(deps, { redisUrl: config.redis.url, prefix, intervalMs: interval });
      running.push(job);
      return job;
    },
  };
}

const schedulers = async (queue: Queue) => {
  // Upserted without being awaited by its caller: wait until it is there.
  await eventually(async () => (await queue.getJobSchedulersCount()) > 0, 'the scheduler exists');
  return queue.getJobSchedulers();
};

describe('scheduled retention job', () => {
  it('is one scheduler for the whole cluster, first due one interval after it is created', async () => {
    const intervalMs = 3_600_000;
    const { queue, startWorker } = cluster(intervalMs);
    const before = Date.now();
    startWorker();
    startWorker();
    const [scheduler, ...others] = await schedulers(queue);
    expect(others).toEqual([]);
    expect(scheduler).toMatchObject({ key: RETENTION_SCHEDULER_ID, every: intervalMs });
    expect(scheduler!.next).toBeGreaterThanOrEqual(before + intervalMs);
    // Nothing runs on start: the one job waits for its time.
    expect(await queue.getJobCounts('wait', 'active', 'completed', 'delayed')).toMatchObject({
      wait: 0,
      active: 0,
      completed: 0,
      delayed: 1,
    });
  });

  it('keeps its next run when a worker restarts, and moves it when the interval changes', async () => {
    const hour = 3_600_000;
    const { queue, startWorker } = cluster(hour);
    await startWorker().scheduled;
    const [first] = await queue.getJobSchedulers();
    await Promise.all(running.splice(0).map((job) => job.close())); // the worker stops…
    await startWorker().scheduled; // …and a new one starts with the same interval
    expect(await queue.getJobSchedulers()).toEqual([first]);
    await startWorker(2 * hour).scheduled;
    const [changed, ...others] = await queue.getJobSchedulers();
    expect(others).toEqual([]);
    expect(changed).toMatchObject({ key: RETENTION_SCHEDULER_ID, every: 2 * hour });
    expect(changed!.next).toBeGreaterThan(first!.next!);
  });

  it("deletes what is older than each project's retention settings, every interval", async () => {
    const { projectId } = await seed();
    const { queue, startWorker } = cluster(300);
    startWorker();
    await eventually(
      async () => JSON.stringify(await retainedCounts(db, projectId)) === JSON.stringify(KEPT),
      'the old rows are deleted',
      20_000,
    );
    // Each run's summary is kept with its job (other projects of this database may add to it).
    await eventually(async () => (await queue.getCompletedCount()) > 0, 'a run is recorded');
    const runs = (await queue.getJobs(['completed'])).map((job) => job.returnvalue as RetentionSummary);
    const deleted = (field: keyof RetentionSummary) => runs.reduce((sum, run) => sum + run[field], 0);
    expect(Math.min(...runs.map((run) => run.projects))).toBeGreaterThan(0);
    expect(deleted('events')).toBeGreaterThanOrEqual(2);
    expect(deleted('notifications')).toBeGreaterThanOrEqual(2);
    expect(deleted('receipts')).toBeGreaterThanOrEqual(2);
    expect(deleted('auditLogs')).toBeGreaterThanOrEqual(1);
    // It keeps running: rows that age past the cutoff later go in a later run.
    const { projectId: later } = await seed();
    await eventually(
      async () => JSON.stringify(await retainedCounts(db, later)) === JSON.stringify(KEPT),
      'the next run deletes them too',
      20_000,
    );
  });
});
