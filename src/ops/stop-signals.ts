/**
 * SIGTERM and SIGINT for the long-running commands (`run`, `replay`): the first one aborts `stop`, so the command
 * stops reading, drains what is in flight and writes its checkpoint; a second one, or the shutdown timeout,
 * exits at once. Returns the function that removes the handlers.
 */
import type { Logger } from './logger.js';

export interface StopSignalOptions {
  readonly logger: Logger;
  /** How long the drain may take before the process exits without it. */
  readonly shutdownTimeoutMs: number;
  /** Logged on the first signal, e.g. 'stopping: draining in-flight events'. */
  readonly message: string;
}

export function handleStopSignals(stop: AbortController, { logger, shutdownTimeoutMs, message }: StopSignalOptions): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(130);
    }
    logger.info({ signal, shutdownTimeoutMs }, message);
    stop.abort(new Error(`stopped by ${signal}`));
    setTimeout(() => {
      logger.error({ shutdownTimeoutMs }, 'shutdown took too long: exiting without a final checkpoint');
      process.exit(1);
    }, shutdownTimeoutMs).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
