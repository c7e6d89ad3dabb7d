// Graceful shutdown: on SIGTERM/SIGINT run the closers once, in order, and exit; if they take
// longer than the deadline, exit non-zero anyway so an orchestrator is never left waiting.
import type { Logger } from './log.js';

export type Closer = { name: string; close: () => Promise<void> };

export async function runClosers(closers: Closer[], log: Logger): Promise<boolean> {
  let clean = true;
  for (const { name, close } of closers) {
    try {
      await close();
      log.debug({ part: name }, 'Closed');
    } catch (err) {
      clean = false;
      log.error({ err, part: name }, 'Failed to close cleanly');
    }
  }
  return clean;
}

export function handleShutdownSignals(options: {
  closers: () => Closer[];
  timeoutMs: number;
  log: Logger;
  exit?: (code: number) => void;
}): void {
  const { log, timeoutMs } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, timeoutMs }, 'Shutting down');
    const deadline = setTimeout(() => {
      log.error({ timeoutMs }, 'Shutdown deadline passed; exiting');
      exit(1);
    }, timeoutMs);
    deadline.unref();
    void runClosers(options.closers(), log).then((clean) => {
      clearTimeout(deadline);
      log.info('Stopped');
      exit(clean ? 0 : 1);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
