/**
 * `--from lake`: a replay read from the table's published lake snapshot (the version the metadata pointer names;
 * a compaction in progress stays invisible until it publishes) instead of the database, which it never touches.
 * Rows come in the lake's bucket-then-key order (key order for integer keys); a resume key is the bucket and key
 * of the last acknowledged row. The source block carries the position the snapshot is as of: the last change the
 * compactor applied.
 */
import type { MysqlSourceInfo, PostgresSourceInfo, Value } from '../model/change.js';
import type { Config } from '../config/index.js';
import { wrappedTimeColumns, wrappedTimesProblem } from '../lake/columns.js';
import { currentSchema, currentSnapshot, type SourcePosition } from '../lake/metadata.js';
import { SnapshotScan, type ScanPosition } from '../lake/snapshot-scan.js';
import type { TableId } from '../model/schema.js';
import type { Logger } from '../ops/logger.js';
import { Lsn } from '../sources/postgres/position.js';
import { LakeReplayError, lakeTableSchema } from './lake-schema.js';
import { publishedMetadata, tableDirectory, USE_DATABASE } from './lake-table.js';
import { columnReader } from './lake-values.js';
import type { KeyedRow, OpenSnapshot, SnapshotPosition, SnapshotReader } from './snapshot-reader.js';
import type { ReplayTarget } from './target.js';

export interface LakeReaderOptions {
  readonly config: Config;
  readonly target: ReplayTarget;
  readonly logger: Logger;
  /** DuckDB's memory limit while sorting a bucket (default 64MB); beyond it DuckDB spills to a temp directory. */
  readonly memoryLimit?: string;
}

export class LakeSnapshotReader implements SnapshotReader {
  readonly kind = 'lake' as const;

  constructor(private readonly options: LakeReaderOptions) {}

  async open(afterKey: string | undefined): Promise<OpenSnapshot> {
    const { config, target, logger } = this.options;
    const table = target.table.name;
    const dir = tableDirectory(config, target, logger);
    const metadata = await publishedMetadata(dir, table);
    if (metadata === undefined) {
      throw new LakeReplayError(`table ${table} has no lake snapshot in ${dir.root}`, {
        fix: `make one with tributary compact -c FILE --table ${table} --once (or lake.compact.enabled in the daemon), ${USE_DATABASE}`,
      });
    }
    const snapshot = currentSnapshot(metadata);
    const wrapped = wrappedTimeColumns(currentSchema(metadata).fields, metadata.source.connector);
    if (wrapped.length > 0) {
      throw new LakeReplayError(wrappedTimesProblem(table, metadata.source.connector, wrapped), {
        fix: `re-compact the table: delete ${dir.root} and run tributary compact -c FILE --table ${table} --once, ${USE_DATABASE}`,
      });
    }
    const id: TableId =
      target.source.kind === 'postgres'
        ? { database: target.source.connection.database, schema: metadata.namespace, table: metadata.table }
        : { database: metadata.namespace, table: metadata.table };
    const schema = lakeTableSchema(currentSchema(metadata), id, target.liveTopic, target.source.kind === 'postgres' ? 'postgresql' : 'mysql', table);
    const position = snapshotPosition(snapshot.source, target, id);
    const after = afterKey === undefined ? undefined : parseResumeKey(afterKey, table);
    const scan = await SnapshotScan.open(dir.root, metadata, { memoryLimit: this.options.memoryLimit ?? '64MB', threads: 2 });
    let remainingRows: number;
    try {
      remainingRows = await scan.count(after);
    } catch (error) {
      await scan.close();
      throw error;
    }
    logger.info({ snapshotId: snapshot.snapshotId, madeAt: snapshot.madeAt, rows: snapshot.rows, kafka: snapshot.kafka.offsets }, `reading lake snapshot ${snapshot.snapshotId} of ${table}`);

    const columns = schema.columns.map((c) => ({ name: c.name, ...columnReader(c, table) }));
    const select = columns.map((c) => c.select);
    return {
      schema,
      position,
      remainingRows,
      resumable: true,
      async *rows(signal: AbortSignal): AsyncGenerator<KeyedRow> {
        for await (const scanned of scan.rows(select, after, signal)) {
          const row: Record<string, Value> = {};
          for (let index = 0; index < columns.length; index++) {
            const value = scanned.values[index] ?? null;
            const column = columns[index]!;
            row[column.name] = value === null ? null : column.read(value);
          }
          yield { row, key: JSON.stringify([scanned.position.bucket, ...scanned.position.key]) };
        }
      },
      close: () => scan.close(),
    };
  }
}

/** The source block of every row: the position of the last change the snapshot holds. */
function snapshotPosition(position: SourcePosition | null, target: ReplayTarget, id: TableId): SnapshotPosition {
  const table = target.table.name;
  const expected = target.source.kind === 'postgres' ? 'postgresql' : 'mysql or mariadb';
  const common = { name: target.source.topicPrefix, snapshot: 'true' as const, table: id.table };
  if (position?.connector === 'postgresql' && target.source.kind === 'postgres' && position.lsn !== null) {
    const lsn = BigInt(position.lsn);
    const source: PostgresSourceInfo = {
      ...common,
      connector: 'postgresql',
      tsMs: position.tsMs,
      db: id.database,
      schema: id.schema ?? '',
      sequence: null,
      txId: null,
      lsn,
      xmin: null,
    };
    return { text: Lsn.of(lsn).toString(), source };
  }
  if (position !== null && position.connector !== 'postgresql' && target.source.kind === 'mysql') {
    const source: MysqlSourceInfo = {
      ...common,
      // The live events' connector (mysql or mariadb), which the compactor recorded with their position.
      connector: position.connector,
      tsMs: position.tsMs,
      db: id.database,
      serverId: BigInt(position.serverId),
      gtid: position.gtid,
      file: position.file,
      pos: BigInt(position.pos),
      row: position.row,
      thread: null,
      query: null,
    };
    return { text: `${position.file}:${position.pos}${position.gtid === null ? '' : ` (gtid ${position.gtid})`}`, source };
  }
  throw new LakeReplayError(`the lake snapshot of ${table} records no ${expected} source position (found ${JSON.stringify(position)})`, {
    fix: `the lake directory belongs to another source: check lake.path and the source names, ${USE_DATABASE}`,
  });
}

function parseResumeKey(text: string, table: string): ScanPosition {
  const parsed = JSON.parse(text) as unknown;
  if (Array.isArray(parsed) && typeof parsed[0] === 'number' && parsed.slice(1).every((k) => typeof k === 'string')) {
    return { bucket: parsed[0], key: parsed.slice(1) as string[] };
  }
  throw new LakeReplayError(`the saved progress of the lake replay of ${table} holds the key ${text}, which is not a lake position`, {
    fix: 'the checkpoint is damaged: replay to a new topic, or delete the replay progress row from the checkpoint file',
  });
}
