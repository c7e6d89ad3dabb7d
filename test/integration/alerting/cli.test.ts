// `tocsin schedule who` as an operator runs it: a real child process against the database.
import { expect, it } from 'vitest';
import { createDb } from '../../../src/core/db.js';
import { uuidv7 } from '../../../src/core/ids.js';
import { uniqueSlug } from '../../support/api.js';
import { testConfig } from '../../support/env.js';
import { runTocsin } from '../../support/process.js';

async function run(args: string[]) {
  const proc = runTocsin(args, { LOG_LEVEL: 'warn' });
  const { code } = await proc.exited;
  return { code, output: proc.output() };
}

it(
  'says who is on call in each schedule at --at, and refuses a bad instant',
  { timeout: 120_000 },
  async () => {
    const slug = uniqueSlug('who');
    expect((await run(['project', 'create', '--name', 'Who', '--slug', slug])).code).toBe(0);
    const db = createDb(testConfig().database);
    try {
      const { id: projectId } = await db.system.project.findUniqueOrThrow({ where: { slug } });
      const scoped = db.forProject(projectId);
      const [ann, bob] = [uuidv7(), uuidv7()];
      for (const id of [ann, bob]) {
        await scoped.user.create({
          data: { id, projectId, email: `${id}@who.test`, fullName: id, status: 'active' },
        });
      }
      await scoped.schedule.create({
        data: {
          id: uuidv7(),
          projectId,
          name: 'payments-primary',
          timeZone: 'America/New_York',
          layers: [
            { name: 'day', users: [ann, bob], rotation: 'daily', handoff: '09:00', start: '2026-03-01' },
          ],
        },
      });
      const before = await run(['schedule', 'who', '--project', slug, '--at', '2026-03-08T12:59:00Z']);
      expect(before.code).toBe(0);
      expect(before.output).toMatch(new RegExp(`payments-primary\\s+America/New_York\\s+${ann}@who.test`));
      expect(before.output).toContain('2026-03-08T13:00:00.000Z'); // until the hand-off (09:00 EDT)
      const after = await run(['schedule', 'who', '--project', slug, '--at', '2026-03-08T13:00:00Z']);
      expect(after.output).toContain(`${bob}@who.test`);
      const bad = await run(['schedule', 'who', '--project', slug, '--at', 'tomorrow']);
      expect(bad.code).toBe(64);
      expect(bad.output).toContain('--at is an ISO 8601 instant');
    } finally {
      await db.close();
    }
  },
);
