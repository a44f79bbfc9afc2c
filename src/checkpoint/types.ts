/** The shapes CheckpointStore takes and returns (registry shapes are in registry-storage.ts). */

/** Milliseconds since the epoch. */
export type Clock = () => number;

export interface CheckpointStoreOptions {
  /** Where the `NNN_description.sql` files are; defaults to the package's `migrations/`. */
  readonly migrationsDir?: string;
  /** Source of every stored timestamp; defaults to `Date.now`. */
  readonly clock?: Clock;
}

export interface StoredPosition {
  /** The opaque serialized position, as the source wrote it. */
  readonly position: string;
  /** When it was stored, ms since epoch. */
  readonly updatedAt: number;
}

export interface SourcePositions {
  readonly source: string;
  /** Where to resume: every event before it reached Kafka. */
  readonly stored: StoredPosition;
  /** What was last acknowledged to the source database, if anything. */
  readonly confirmed: StoredPosition | undefined;
}

export type SnapshotStatus = 'running' | 'done';

export interface SnapshotProgress {
  readonly status: SnapshotStatus;
  /** JSON of the key of the last row emitted, or null before the first row. */
  readonly lastKey: string | null;
  /** Rows emitted so far (a total, not a delta). */
  readonly rows: number;
  /** The consistent point the snapshot reads at, or null if the source has none. */
  readonly position: string | null;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly updatedAt: number;
}

export interface TableSnapshotProgress extends SnapshotProgress {
  readonly table: string;
}

export interface SnapshotProgressUpdate {
  readonly lastKey: string | null;
  readonly rows: number;
  readonly position: string | null;
}

export interface SnapshotCompletion {
  readonly rows: number;
  /** Defaults to the stored value. */
  readonly lastKey?: string | null;
  /** Defaults to the stored value. */
  readonly position?: string | null;
}

export interface TableSchemaVersion {
  /** 1, 2, 3… per (source, table). */
  readonly version: number;
  readonly schemaJson: string;
  /** The source position from which this schema applies. */
  readonly position: string;
  readonly recordedAt: number;
}
