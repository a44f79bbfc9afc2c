/**
 * Error classes shared by every module. `retriable` says whether trying the same thing again may succeed
 * (a dropped connection) or not (a wrong setting); `fix` tells the user what to change.
 */
export interface TributaryErrorOptions {
  readonly cause?: unknown;
  readonly retriable?: boolean;
  /** What the user should do about it, e.g. "set wal_level = logical in postgresql.conf and restart". */
  readonly fix?: string;
}

export class TributaryError extends Error {
  readonly retriable: boolean;
  readonly fix: string | undefined;

  constructor(message: string, options: TributaryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
    this.fix = options.fix;
  }

  /** The message followed by the fix, for users. */
  describe(): string {
    return this.fix === undefined ? this.message : `${this.message}\n  fix: ${this.fix}`;
  }
}

/** The configuration file is wrong; never retriable. */
export class ConfigError extends TributaryError {}

/** A source database is misconfigured or refuses us (settings, privileges, missing tables). */
export class SourceError extends TributaryError {}

/** A connection or request failed in a way that may pass (network, broker leader change). */
export class ConnectionError extends TributaryError {
  constructor(message: string, options: TributaryErrorOptions = {}) {
    super(message, { retriable: true, ...options });
  }
}

/** A broken internal invariant: a bug, reported loudly, never retried. */
export class InvariantError extends TributaryError {}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}
