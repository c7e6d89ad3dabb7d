// Keeps every project's replays built (src/domain/replay.ts): at start and then periodically,
// each live project without its `replay-ready` mark is rebuilt from MySQL (one EXISTS per
// project otherwise). New projects and a Redis that lost its data heal within one period.
import type { DomainDeps } from '../domain/deps.js';
import { rebuildReplay } from '../domain/replay.js';

export function startReplayRebuilds(deps: DomainDeps, options: { intervalMs: number }) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const pass = async () => {
    const projects = await deps.db.system.project.findMany({
      where: { deletedAt: null },
      select: { id: true },
    });
    for (const { id } of projects) {
      if (stopped) return;
      if (await rebuildReplay(deps, id)) deps.log.info({ projectId: id }, 'Replays rebuilt from MySQL');
    }
  };
  const running = { current: Promise.resolve() };
  const schedule = () => {
    running.current = pass()
      .catch((err: unknown) => deps.log.warn({ err: (err as Error).message }, 'Replay rebuild failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(schedule, options.intervalMs).unref();
      });
  };
  schedule();
  return {
    async close() {
      stopped = true;
      clearTimeout(timer);
      await running.current;
    },
  };
}
