/**
 * The initial snapshot: every captured table read inside one consistent-snapshot transaction, in key-ordered
 * chunks, as op 'r' events, together with the binlog position the transaction saw. Streaming from that position
 * afterwards neither misses nor repeats a change.
 *
 * MariaDB reports the snapshot's binlog position in the Binlog_snapshot_file/Binlog_snapshot_position status
 * variables, so no global lock is needed; MySQL has no such thing and takes FLUSH TABLES WITH READ LOCK for the
 * moment it takes to start the transaction and read SHOW MASTER STATUS.
 */
import type mysql from 'mysql2/promise';
import type { Logger } from '../../ops/logger.js';
import type { ChangeEvent, MysqlSourceInfo, SourceEvent } from '../../model/change.js';
import type { TableSchema } from '../../model/schema.js';
import { SourceError } from '../../model/errors.js';
import type { SnapshotProgressStore } from '../source.js';
import { openQueryConnection, type MysqlConnectionConfig, type QueryConnection } from './connection.js';
import type { Flavor } from './errors.js';
import { buildTableSchema, parseTableName, readCatalogTable, type MysqlTableConfig } from './catalog.js';
import { serializeCheckpoint, type MysqlCheckpoint } from './position.js';
import { toRow } from './types.js';

export interface SnapshotOptions {
  readonly connection: MysqlConnectionConfig;
  readonly flavor: Flavor;
  /** The source's name: checkpoints and snapshot progress are kept under it. */
  readonly sourceName: string;
  /** The logical server name written into `source.name` (the topic prefix). */
  readonly serverName: string;
  readonly serverId: bigint;
  readonly tables: readonly MysqlTableConfig[];
  readonly chunkRows: number;
  readonly progress: SnapshotProgressStore;
  readonly clock: () => number;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/**
 * Yields the snapshot's events (the final row marked snapshot 'last'; a heartbeat instead when every table is
 * empty) and returns the checkpoint to stream from.
 */
export async function* readSnapshot(options: SnapshotOptions): AsyncGenerator<SourceEvent, MysqlCheckpoint> {
  const connection = await openQueryConnection(options.connection);
  try {
    const point = await beginConsistentSnapshot(connection, options.flavor);
    const streamFrom: MysqlCheckpoint = { ...point, skip: 0 };
    const duringSnapshot = serializeCheckpoint({ ...streamFrom, snapshot: true });
    await options.progress.clear(options.sourceName);
    await options.progress.saveSnapshot(options.sourceName, { consistentPoint: serializeCheckpoint(streamFrom), completed: false });
    options.logger.info({ file: point.file, pos: point.pos, gtids: point.gtids }, 'snapshot started');

    let pending: ChangeEvent | null = null;
    for (const tableConfig of options.tables) {
      const schema = buildTableSchema(await readCatalogTable(connection, parseTableName(tableConfig.name)), tableConfig);
      let rows = 0;
      for await (const chunk of readChunks(connection, schema, options.chunkRows)) {
        if (options.signal.aborted) throw options.signal.reason;
        for (const raw of chunk.rows) {
          if (pending !== null) yield pending;
          pending = snapshotEvent(schema, raw, point, options, 'true', duringSnapshot);
        }
        rows += chunk.rows.length;
        await options.progress.saveTable(options.sourceName, tableConfig.name, { lastKey: chunk.lastKey, rows, done: false });
      }
      await options.progress.saveTable(options.sourceName, tableConfig.name, { lastKey: null, rows, done: true });
      options.logger.info({ table: tableConfig.name, rows }, 'snapshot of table done');
    }
    await connection.query('COMMIT');
    const streamPosition = serializeCheckpoint(streamFrom);
    if (pending !== null) {
      yield { ...pending, source: { ...(pending.source as MysqlSourceInfo), snapshot: 'last' }, position: streamPosition };
    } else {
      yield { type: 'heartbeat', position: streamPosition };
    }
    return streamFrom;
  } finally {
    await connection.end().catch(() => connection.destroy());
  }
}

export interface ConsistentPoint {
  readonly file: string;
  readonly pos: number;
  readonly gtids: string | null;
}

/** Starts the consistent-snapshot transaction on `connection` and returns the binlog position it is consistent with. */
export async function beginConsistentSnapshot(connection: QueryConnection, flavor: Flavor): Promise<ConsistentPoint> {
  await connection.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  if (flavor === 'mariadb') {
    await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    const [status] = await connection.query<mysql.RowDataPacket[]>("SHOW STATUS LIKE 'binlog_snapshot_%'");
    const value = (name: string): string | undefined =>
      status.find((r) => String(r.Variable_name).toLowerCase() === name)?.Value as string | undefined;
    const file = value('binlog_snapshot_file');
    const pos = value('binlog_snapshot_position');
    if (file === undefined || file === '' || pos === undefined) {
      throw new SourceError('MariaDB reported no Binlog_snapshot_file/Binlog_snapshot_position for the snapshot', {
        fix: 'enable the binary log (log_bin in my.cnf) and restart the server',
      });
    }
    const [gtidRows] = await connection.query<mysql.RowDataPacket[]>('SELECT BINLOG_GTID_POS(?, ?) AS g', [file, Number(pos)]);
    return { file, pos: Number(pos), gtids: String(gtidRows[0]?.g ?? '') };
  }
  await connection.query('FLUSH TABLES WITH READ LOCK');
  try {
    await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    const row = rows[0];
    if (row === undefined) {
      throw new SourceError('SHOW MASTER STATUS returned nothing: the binary log is off', {
        fix: 'enable the binary log (log_bin in my.cnf) and restart the server',
      });
    }
    return { file: String(row.File), pos: Number(row.Position), gtids: String(row.Executed_Gtid_Set ?? '').replace(/\s/g, '') };
  } finally {
    await connection.query('UNLOCK TABLES');
  }
}

function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

interface Chunk {
  readonly rows: readonly mysql.RowDataPacket[];
  /** JSON text of the last row's key, for progress records. */
  readonly lastKey: string | null;
}

/**
 * Key-ordered chunks of `chunkRows` rows, each starting after the previous chunk's last key (keyset paging); the
 * first starts after the key values `start` when given (a replay resuming).
 */
export async function* readChunks(
  connection: QueryConnection,
  schema: TableSchema,
  chunkRows: number,
  start: unknown[] | null = null,
): AsyncGenerator<Chunk> {
  const table = `${quoteIdentifier(schema.id.database)}.${quoteIdentifier(schema.id.table)}`;
  // FLOAT prints with six significant digits; as DOUBLE it is exact, and reads as the binlog's float32 does.
  const columns = schema.columns
    .map((c) => (c.type.kind === 'float32' ? `CAST(${quoteIdentifier(c.name)} AS DOUBLE) AS ${quoteIdentifier(c.name)}` : quoteIdentifier(c.name)))
    .join(', ');
  const key = schema.key.map(quoteIdentifier);
  if (key.length === 0) {
    // Without a key there is no order to page by; within the snapshot transaction, offsets are stable.
    for (let offset = 0; ; offset += chunkRows) {
      const [rows] = await connection.query<mysql.RowDataPacket[]>(`SELECT ${columns} FROM ${table} LIMIT ? OFFSET ?`, [chunkRows, offset]);
      if (rows.length > 0) yield { rows, lastKey: null };
      if (rows.length < chunkRows) return;
    }
  }
  const order = key.join(', ');
  let after: unknown[] | null = start;
  while (true) {
    const where: string = after === null ? '' : `WHERE (${order}) > (${key.map(() => '?').join(', ')})`;
    const [rows]: [mysql.RowDataPacket[], unknown] = await connection.query<mysql.RowDataPacket[]>(
      `SELECT ${columns} FROM ${table} ${where} ORDER BY ${order} LIMIT ?`,
      [...(after ?? []), chunkRows],
    );
    const last = rows.at(-1);
    if (last !== undefined) {
      after = schema.key.map((k) => last[k]);
      yield { rows, lastKey: JSON.stringify(after, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)) };
    }
    if (rows.length < chunkRows) return;
  }
}

function snapshotEvent(
  schema: TableSchema,
  raw: mysql.RowDataPacket,
  point: ConsistentPoint,
  options: SnapshotOptions,
  snapshot: 'true' | 'last',
  position: string,
): ChangeEvent {
  const source = snapshotSource(schema, point, { ...options, tsMs: options.clock() }, snapshot);
  return { type: 'change', op: 'r', schema, before: null, after: toRow(schema.columns, raw), source, transaction: null, position };
}

/** The source block of a row read at a consistent point (the initial snapshot, or a replay). */
export function snapshotSource(
  schema: TableSchema,
  point: ConsistentPoint,
  origin: { readonly flavor: Flavor; readonly serverName: string; readonly serverId: bigint; readonly tsMs: number },
  snapshot: 'true' | 'last',
): MysqlSourceInfo {
  return {
    connector: origin.flavor,
    name: origin.serverName,
    tsMs: origin.tsMs,
    snapshot,
    db: schema.id.database,
    table: schema.id.table,
    serverId: origin.serverId,
    gtid: null,
    file: point.file,
    pos: BigInt(point.pos),
    row: 0,
    thread: null,
    query: null,
  };
}
