/**
 * A background task on a timer, for the small side jobs of a streaming source (a heartbeat query, reading the
 * server's position): never two runs at once, a failure handed to `onError` and tried again at the next tick,
 * and the timer unref'd so it never keeps the process alive.
 */

export interface PeriodicOptions {
  /** Also run once right away rather than only after the first interval. */
  readonly immediately?: boolean;
}

/** Runs `task` every `intervalMs` until the returned function is called. */
export function runEvery(intervalMs: number, task: () => Promise<unknown>, onError: (error: unknown) => void, options: PeriodicOptions = {}): () => void {
  let running = false;
  let stopped = false;
  const tick = (): void => {
    if (running || stopped) return;
    running = true;
    task()
      .catch((error: unknown) => {
        if (!stopped) onError(error);
      })
      .finally(() => (running = false));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  if (options.immediately === true) tick();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
