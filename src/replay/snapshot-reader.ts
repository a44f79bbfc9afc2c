/**
 * What a replay reads from: one table's rows in key order at one source position, from a consistent database
 * read or a lake snapshot. A reader knows nothing of Kafka, checkpoints or rates; it can start after a key, so
 * an interrupted replay continues instead of starting over.
 */
import type { Row, SourceInfo } from '../model/change.js';
import type { TableSchema } from '../model/schema.js';

/** The source position a snapshot represents, for logs, progress records and the source block. */
export interface SnapshotPosition {
  /** Human-readable and comparable with the live stream's positions: an LSN `0/16B3748`, or `mysql-bin.000003:4567`. */
  readonly text: string;
  /** The source block every row of this snapshot carries (`snapshot` is set per row). */
  readonly source: SourceInfo;
}

export interface OpenSnapshot {
  readonly schema: TableSchema;
  readonly position: SnapshotPosition;
  /** Rows still to read (after the resume key), for progress and ETA; undefined when unknown. */
  readonly remainingRows: number | undefined;
  /** Whether rows come in a stable key order, so that resuming after a key is exact (false for keyless tables). */
  readonly resumable: boolean;
  /** Rows in key order, each with its key as JSON text (what `after` takes to resume behind it). */
  rows(signal: AbortSignal): AsyncIterable<KeyedRow>;
  close(): Promise<void>;
}

export interface KeyedRow {
  readonly row: Row;
  /** JSON of the row's key, opaque to everything but the reader that produced it. */
  readonly key: string;
}

export interface SnapshotReader {
  /** Where the rows come from, for logs and errors: `database` or `lake`. */
  readonly kind: 'database' | 'lake';
  /** Opens a consistent read; with `afterKey` (a KeyedRow.key from an earlier run) it starts behind that row. */
  open(afterKey: string | undefined): Promise<OpenSnapshot>;
}
