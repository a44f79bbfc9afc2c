/**
 * Replay progress in the checkpoint store, as a snapshot-progress record under the source name
 * `replay:<table>:<topic>`: the key of the last row Kafka acknowledged, the rows acknowledged so far, the
 * source positions the replay represents and where it reads from (a key only means something to its reader). The pipeline writes it only after acknowledgement (its checkpoint
 * rule), so a rerun after kill -9 starts behind that key and repeats at most the batches still in flight.
 */
import type { CheckpointStore } from '../checkpoint/store.js';
import type { PositionStore } from '../pipeline/pipeline.js';

/** The source positions a replay's rows were read at: `first` by the first run, `current` by the latest. */
export interface ReplayPositions {
  readonly first: string;
  readonly current: string;
}

/** Where a replay reads its rows from. */
export type ReplayFrom = 'lake' | 'database';

export interface ReplayResume {
  /** Key of the last acknowledged row (a reader's KeyedRow.key). */
  readonly afterKey: string;
  readonly rows: number;
  readonly positions: ReplayPositions;
  readonly from: ReplayFrom;
}

/** What the progress record's position column holds. */
interface StoredPositions extends ReplayPositions {
  /** Absent in records of versions that could only replay from the database. */
  readonly from?: ReplayFrom;
}

/** An event position of a replay row: rows acknowledged once it is, and its key. */
export function rowPosition(rows: number, key: string, last: boolean): string {
  return `{"n":${rows},"k":${key}${last ? ',"last":true' : ''}}`;
}

export function parseRowPosition(position: string): { rows: number; key: string; last: boolean } {
  const parsed = JSON.parse(position) as { n: number; k: unknown; last?: boolean };
  return { rows: parsed.n, key: JSON.stringify(parsed.k), last: parsed.last === true };
}

export function replayProgressName(table: string, topic: string): string {
  return `replay:${table}:${topic}`;
}

export class ReplayCheckpoint implements PositionStore {
  private readonly source: string;
  /** The position column of this run's progress (StoredPositions as JSON). */
  private stored: string | null = null;

  constructor(
    private readonly store: CheckpointStore,
    private readonly table: string,
    topic: string,
  ) {
    this.source = replayProgressName(table, topic);
  }

  /** The unfinished replay to continue, or undefined when there is none (never run, or finished: start afresh). */
  resume(): ReplayResume | undefined {
    const progress = this.store.getSnapshot(this.source, this.table);
    if (progress === undefined || progress.status === 'done' || progress.lastKey === null || progress.position === null) return undefined;
    const { first, current, from } = JSON.parse(progress.position) as StoredPositions;
    return { afterKey: progress.lastKey, rows: progress.rows, positions: { first, current }, from: from ?? 'database' };
  }

  /** Records the positions of this run and where it reads; progress so far (rows, key) is kept. */
  begin(positions: ReplayPositions, from: ReplayFrom, resumed: ReplayResume | undefined): void {
    this.stored = JSON.stringify({ first: positions.first, current: positions.current, from } satisfies StoredPositions);
    this.store.saveSnapshotProgress(this.source, this.table, {
      lastKey: resumed?.afterKey ?? null,
      rows: resumed?.rows ?? 0,
      position: this.stored,
    });
  }

  /** Forgets an unfinished replay, so the next one starts from the first row. */
  reset(): void {
    this.store.resetSnapshot(this.source, this.table);
  }

  /** The pipeline's checkpoint: called with the position of the last acknowledged row. */
  savePosition(_pipeline: string, position: string): void {
    const { rows, key, last } = parseRowPosition(position);
    const update = { lastKey: key, rows, position: this.stored };
    if (last) this.store.completeSnapshot(this.source, this.table, update);
    else this.store.saveSnapshotProgress(this.source, this.table, update);
  }

  markConfirmed(): void {
    // Nothing to confirm to: a replay reads a snapshot, not a replication stream.
  }

  /** Marks the replay done without a row (an empty table or an empty remainder). */
  complete(rows: number): void {
    this.store.completeSnapshot(this.source, this.table, { rows, position: this.stored });
  }
}
