/**
 * The contract between a database source and the pipeline: a pull-based stream of neutral events plus a way
 * to tell the database what is durable downstream. Sources know nothing of Avro or Kafka.
 */
import type { SourceEvent } from '../model/change.js';

export interface Source {
  readonly name: string;
  /** Yields events in commit order; the consumer pulls, so a slow consumer pauses reading (back-pressure). */
  events(signal: AbortSignal): AsyncIterable<SourceEvent>;
  /** Everything up to and including `position` is durable downstream: confirm it to the database. */
  confirm(position: string): Promise<void>;
  /**
   * Bytes of WAL or binlog the server has written beyond the last confirmed position, as last measured while
   * streaming (the server's position is read every SERVER_POSITION_POLL_MS); undefined until measured.
   */
  lagBytes(): number | undefined;
  close(): Promise<void>;
}

/**
 * What a source's connection is doing, told to the driver as it changes (every source is handed an
 * ActivityListener): `snapshotting` when the initial snapshot starts, `streaming` once the server sends the
 * replication stream (not when the first change arrives: an idle source is streaming too), `reconnecting` the
 * moment that connection is lost, whether the source reopens it itself or fails and is rebuilt by its driver.
 */
export type SourceActivity = 'snapshotting' | 'streaming' | 'reconnecting';

/** `detail` says why, for `reconnecting`: the error message. */
export type ActivityListener = (activity: SourceActivity, detail?: string) => void;

/** How often a streaming source reads the server's current WAL or binlog position, for lagBytes(). */
export const SERVER_POSITION_POLL_MS = 5_000;

/** How far the initial snapshot of one table got. `lastKey` is the JSON text of the last key emitted. */
export interface TableSnapshotProgress {
  readonly lastKey: string | null;
  readonly rows: number;
  readonly done: boolean;
}

/** The snapshot as a whole: the stream position it is consistent with, and whether it was confirmed complete. */
export interface SnapshotState {
  readonly consistentPoint: string;
  readonly completed: boolean;
}

/** Where a source keeps snapshot progress across restarts; the pipeline backs it with its checkpoint store. */
export interface SnapshotProgressStore {
  getSnapshot(source: string): Promise<SnapshotState | undefined>;
  saveSnapshot(source: string, state: SnapshotState): Promise<void>;
  getTable(source: string, table: string): Promise<TableSnapshotProgress | undefined>;
  saveTable(source: string, table: string, progress: TableSnapshotProgress): Promise<void>;
  /** Forget the snapshot and every table's progress, before a snapshot is redone. */
  clear(source: string): Promise<void>;
}

/** An in-memory store, for tests and for runs that do not need to survive a restart. */
export class MemorySnapshotProgressStore implements SnapshotProgressStore {
  private readonly snapshots = new Map<string, SnapshotState>();
  private readonly tables = new Map<string, Map<string, TableSnapshotProgress>>();

  async getSnapshot(source: string): Promise<SnapshotState | undefined> {
    return this.snapshots.get(source);
  }

  async saveSnapshot(source: string, state: SnapshotState): Promise<void> {
    this.snapshots.set(source, state);
  }

  async getTable(source: string, table: string): Promise<TableSnapshotProgress | undefined> {
    return this.tables.get(source)?.get(table);
  }

  async saveTable(source: string, table: string, progress: TableSnapshotProgress): Promise<void> {
    let perSource = this.tables.get(source);
    if (perSource === undefined) this.tables.set(source, (perSource = new Map()));
    perSource.set(table, progress);
  }

  async clear(source: string): Promise<void> {
    this.snapshots.delete(source);
    this.tables.delete(source);
  }
}
