/**
 * Readiness: what each source is doing right now, as `/readyz` reports it. The daemon is ready only when every
 * source is connected and streaming; a snapshot in progress, a reconnect or a failure makes it unready, and the
 * report says which source and why. Sources report their own activity (see ActivityListener); the driver adds
 * `starting` before a source reports and `failed` after a permanent error.
 */
import { InvariantError } from '../model/errors.js';
import type { SourceActivity } from '../sources/source.js';

export type SourceState = 'starting' | SourceActivity | 'failed';

export const SOURCE_STATES: readonly SourceState[] = ['starting', 'snapshotting', 'streaming', 'reconnecting', 'failed'];

export interface SourceReadiness {
  readonly source: string;
  readonly state: SourceState;
  readonly ready: boolean;
  /** When the source entered this state, ms since epoch. */
  readonly since: number;
  /** Why, for reconnecting and failed: the error message. */
  readonly detail?: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly sources: readonly SourceReadiness[];
}

/** What a source (as its ActivityListener) or the code driving it calls to say what it is doing. */
export type StateReporter = (state: SourceState, detail?: string) => void;

export interface ReadinessTrackerOptions {
  readonly clock?: () => number;
  /** Called on every change of state, e.g. to mirror it into a metric. */
  readonly onChange?: (source: string, state: SourceState, previous: SourceState) => void;
}

export class ReadinessTracker {
  private readonly states = new Map<string, { state: SourceState; since: number; detail?: string }>();
  private readonly clock: () => number;

  /** Every source starts in `starting`; sources not listed here cannot report. */
  constructor(
    sources: readonly string[],
    private readonly options: ReadinessTrackerOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    for (const source of sources) this.states.set(source, { state: 'starting', since: this.clock() });
  }

  /** Records `state`; repeating the current state only updates `detail`, keeping `since`. */
  set(source: string, state: SourceState, detail?: string): void {
    const current = this.states.get(source);
    if (current === undefined) throw new InvariantError(`readiness: unknown source "${source}"`);
    if (current.state === state) {
      this.states.set(source, { ...current, detail });
      return;
    }
    this.states.set(source, { state, since: this.clock(), detail });
    this.options.onChange?.(source, state, current.state);
  }

  /** A reporter bound to one source, to hand to that source or its driver. */
  reporter(source: string): StateReporter {
    if (!this.states.has(source)) throw new InvariantError(`readiness: unknown source "${source}"`);
    return (state, detail) => this.set(source, state, detail);
  }

  state(source: string): SourceState | undefined {
    return this.states.get(source)?.state;
  }

  report(): ReadinessReport {
    const sources = [...this.states].map(([source, { state, since, detail }]) => ({
      source,
      state,
      ready: state === 'streaming',
      since,
      ...(detail === undefined ? {} : { detail }),
    }));
    return { ready: sources.length > 0 && sources.every((s) => s.ready), sources };
  }
}
