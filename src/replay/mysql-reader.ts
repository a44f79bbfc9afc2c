/**
 * A consistent read of one MySQL/MariaDB table for a replay: START TRANSACTION WITH CONSISTENT SNAPSHOT and the
 * binlog position it is consistent with (MariaDB reports it without a lock; MySQL takes FLUSH TABLES WITH READ
 * LOCK for the instant it takes to start the transaction), then the table in key order. Nothing of the live
 * pipeline is touched.
 */
import type mysql from 'mysql2/promise';
import type { Logger } from '../ops/logger.js';
import { buildTableSchema, parseTableName, readCatalogTable, type MysqlTableConfig } from '../sources/mysql/catalog.js';
import { openQueryConnection, readServerInfo, type MysqlConnectionConfig } from '../sources/mysql/connection.js';
import { classifyMysqlError } from '../sources/mysql/errors.js';
import { beginConsistentSnapshot, readChunks, snapshotSource } from '../sources/mysql/snapshot.js';
import { toRow } from '../sources/mysql/types.js';
import type { KeyedRow, OpenSnapshot, SnapshotReader } from './snapshot-reader.js';

export interface MysqlReaderOptions {
  readonly connection: MysqlConnectionConfig;
  readonly table: MysqlTableConfig;
  /** The logical server name written into source.name (the topic prefix). */
  readonly serverName: string;
  readonly serverId: bigint;
  readonly chunkRows: number;
  readonly logger: Logger;
  readonly now: () => number;
}

export class MysqlSnapshotReader implements SnapshotReader {
  readonly kind = 'database' as const;

  constructor(private readonly options: MysqlReaderOptions) {}

  async open(afterKey: string | undefined): Promise<OpenSnapshot> {
    const connection = await openQueryConnection(this.options.connection);
    try {
      return await this.begin(connection, afterKey);
    } catch (error) {
      await connection.end().catch(() => connection.destroy());
      throw classifyMysqlError(error, `reading ${this.options.table.name} for the replay`);
    }
  }

  private async begin(connection: mysql.Connection, afterKey: string | undefined): Promise<OpenSnapshot> {
    const { table, serverName, serverId, chunkRows } = this.options;
    const schema = buildTableSchema(await readCatalogTable(connection, parseTableName(table.name)), table);
    const { flavor } = await readServerInfo(connection);
    const point = await beginConsistentSnapshot(connection, flavor);
    const keyed = schema.key.length > 0;
    const after = afterKey !== undefined && keyed ? decodeKey(afterKey) : null;
    const remainingRows = await countRows(connection, schema.id.database, schema.id.table, schema.key, after);
    const source = snapshotSource(schema, point, { flavor, serverName, serverId, tsMs: this.options.now() }, 'true');
    return {
      schema,
      position: { text: `${point.file}:${point.pos}${point.gtids ? ` (gtids ${point.gtids})` : ''}`, source },
      remainingRows,
      resumable: keyed,
      async *rows(signal: AbortSignal): AsyncGenerator<KeyedRow> {
        for await (const chunk of readChunks(connection, schema, chunkRows, after)) {
          if (signal.aborted) return;
          for (const raw of chunk.rows) {
            yield { row: toRow(schema.columns, raw), key: encodeKey(schema.key.map((k) => raw[k] as unknown)) };
          }
        }
      },
      async close(): Promise<void> {
        await connection.query('COMMIT').catch(() => undefined);
        await connection.end().catch(() => connection.destroy());
      },
    };
  }
}

/** Key values as JSON; binary keys as {"hex": …}, so that resuming binds the same bytes. */
export function encodeKey(values: readonly unknown[]): string {
  return JSON.stringify(values, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' ? { hex: Buffer.from((v as { data: number[] }).data).toString('hex') } : v,
  );
}

export function decodeKey(text: string): unknown[] {
  return (JSON.parse(text) as unknown[]).map((v) =>
    v !== null && typeof v === 'object' && typeof (v as { hex?: unknown }).hex === 'string' ? Buffer.from((v as { hex: string }).hex, 'hex') : v,
  );
}

async function countRows(connection: mysql.Connection, database: string, table: string, key: readonly string[], after: unknown[] | null): Promise<number> {
  const q = (name: string): string => `\`${name.replace(/`/g, '``')}\``;
  const where = after === null ? '' : ` WHERE (${key.map(q).join(', ')}) > (${key.map(() => '?').join(', ')})`;
  const [rows] = await connection.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${q(database)}.${q(table)}${where}`, after ?? []);
  return Number(rows[0]?.n ?? 0);
}
