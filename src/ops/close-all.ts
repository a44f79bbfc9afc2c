import type { Logger } from './logger.js';

export type Closer = () => Promise<void> | void;

/**
 * Runs closers last-registered first (what was opened last depends on what was opened before it), logging
 * rather than throwing a failure so that one failing close does not leave the rest open.
 */
export async function closeAll(closers: readonly Closer[], logger: Logger): Promise<void> {
  for (const close of [...closers].reverse()) {
    await Promise.resolve()
      .then(close)
      .catch((error: unknown) => logger.warn({ err: error }, 'error while closing'));
  }
}
