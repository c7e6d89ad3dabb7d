// Keeps every project's replays built (src/domain/replay.ts): at start and then periodically,
// each live project without its `replay-ready` mark is rebuilt from MySQL (one EXISTS per
// project otherwise). New projects and a Redis that lost its data heal within one period.
import type { DomainDeps } from '../domain/deps.js';
import { rebuildReplay } from '../domain/replay.js';
import { runEvery, type Periodic } from './every.js';

export function startReplayRebuilds(deps: DomainDeps, options: { intervalMs: number }): Periodic {
  let stopped = false;
  const periodic = runEvery(
    options.intervalMs,
    async () => {
      const projects = await deps.db.system.project.findMany({
        where: { deletedAt: null },
        select: { id: true },
      });
      for (const { id } of projects) {
        if (stopped) return;
        if (await rebuildReplay(deps, id)) deps.log.info({ projectId: id }, 'Replays rebuilt from MySQL');
      }
    },
    (err) => deps.log.warn({ err: err.message }, 'Replay rebuild failed'),
  );
  return {
    async close() {
      stopped = true;
      await periodic.close();
    },
  };
}
