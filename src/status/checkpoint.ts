/**
 * Reads positions and snapshot progress from the checkpoint file without writing to it, so `tributary status`
 * can run next to the daemon (and as another user) without taking locks or migrating anything. The queries
 * mirror CheckpointStore's `listPositions` and `listSnapshots`, whose open() would create and migrate the file.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { SourcePositions, TableSnapshotProgress } from '../checkpoint/store.js';
import { TributaryError } from '../model/errors.js';

export interface CheckpointContents {
  readonly positions: readonly SourcePositions[];
  /** Every snapshot progress row, by the source key it was stored under. */
  readonly snapshots: ReadonlyMap<string, readonly TableSnapshotProgress[]>;
}

interface PositionRow {
  source: string;
  position: string;
  updatedAt: number;
  confirmedPosition: string | null;
  confirmedAt: number | null;
}

type SnapshotRow = TableSnapshotProgress & { source: string };

/** Undefined when the file does not exist yet (the daemon never ran with this config). */
export function readCheckpoint(path: string): CheckpointContents | undefined {
  if (path === ':memory:' || !existsSync(path)) return undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const positions = db
      .prepare<[], PositionRow>(
        `SELECT source, position, updated_at AS updatedAt, confirmed_position AS confirmedPosition,
                confirmed_at AS confirmedAt FROM source_positions ORDER BY source`,
      )
      .all()
      .map((row) => ({
        source: row.source,
        stored: { position: row.position, updatedAt: row.updatedAt },
        confirmed:
          row.confirmedPosition === null || row.confirmedAt === null
            ? undefined
            : { position: row.confirmedPosition, updatedAt: row.confirmedAt },
      }));
    const snapshots = new Map<string, TableSnapshotProgress[]>();
    const rows = db
      .prepare<[], SnapshotRow>(
        `SELECT source, table_name AS "table", status, last_key AS lastKey, rows, position, started_at AS startedAt,
                finished_at AS finishedAt, updated_at AS updatedAt FROM snapshot_progress ORDER BY source, table_name`,
      )
      .all();
    for (const { source, ...progress } of rows) {
      const list = snapshots.get(source) ?? [];
      list.push(progress);
      snapshots.set(source, list);
    }
    return { positions, snapshots };
  } catch (error) {
    throw new TributaryError(`cannot read the checkpoint database ${path}: ${(error as Error).message}`, {
      cause: error,
      fix: 'check checkpoint.path in the config and that this user may read the file and its directory',
    });
  } finally {
    db?.close();
  }
}
