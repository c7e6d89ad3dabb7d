// A pass run now and then again `intervalMs` after each one ends (never two at once); close()
// stops the timer and waits for a pass in progress. For the worker role's periodic checks.
export interface Periodic {
  close(): Promise<void>;
}

export function runEvery(
  intervalMs: number,
  pass: () => Promise<void>,
  onError: (err: Error) => void,
): Periodic {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  const schedule = () => {
    running = pass()
      .catch((err: unknown) => onError(err as Error))
      .finally(() => {
        if (!stopped) timer = setTimeout(schedule, intervalMs).unref();
      });
  };
  schedule();
  return {
    async close() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
