/**
 * A consistent read of one PostgreSQL table for a replay. A TEMPORARY logical slot created with an exported
 * snapshot gives the LSN the read is consistent with; the read transaction imports that snapshot, after which
 * the replication connection (and with it the slot) goes away at once, so the replay neither holds WAL nor
 * touches the live pipeline's slot and publication.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { PostgresSourceInfo, Row, Value } from '../model/change.js';
import type { Logger } from '../ops/logger.js';
import { PgCatalog, type TableConfig } from '../sources/postgres/catalog.js';
import { connect, ident, literal, type PgConnectionOptions } from '../sources/postgres/connection.js';
import { translatePgError } from '../sources/postgres/errors.js';
import { checkServer, createSlot } from '../sources/postgres/setup.js';
import { keysetPages } from '../sources/postgres/snapshot.js';
import type { KeyedRow, OpenSnapshot, SnapshotReader } from './snapshot-reader.js';

export interface PostgresReaderOptions {
  readonly connection: PgConnectionOptions;
  readonly table: TableConfig;
  /** The logical server name written into source.name (the topic prefix). */
  readonly serverName: string;
  readonly chunkRows: number;
  readonly logger: Logger;
  readonly now: () => number;
}

export class PostgresSnapshotReader implements SnapshotReader {
  readonly kind = 'database' as const;

  constructor(private readonly options: PostgresReaderOptions) {}

  async open(afterKey: string | undefined): Promise<OpenSnapshot> {
    const { connection, logger } = this.options;
    const client = await connect(connection, false, logger);
    try {
      return await this.begin(client, afterKey);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private async begin(client: pg.Client, afterKey: string | undefined): Promise<OpenSnapshot> {
    const { connection, logger, serverName } = this.options;
    await checkServer(client, connection.user);
    const catalog = new PgCatalog(client, connection.database);
    const table = await catalog.resolveTable(this.options.table);
    const codec = await catalog.tableCodec(table.schema, table.table, table.columns, table.key);

    const replication = await connect(connection, true, logger);
    let consistentPoint;
    try {
      const slot = `tributary_replay_${randomBytes(6).toString('hex')}`;
      const created = await createSlot(replication, slot, true, true);
      consistentPoint = created.consistentPoint;
      await run(client, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await run(client, `SET TRANSACTION SNAPSHOT ${literal(created.snapshotName ?? '')}`);
    } finally {
      // The imported snapshot lives on in our transaction; the temporary slot dies with this connection.
      await replication.end().catch(() => undefined);
    }

    const keyed = table.keyColumns.length > 0;
    const after = afterKey !== undefined && keyed ? (JSON.parse(afterKey) as (string | null)[]) : undefined;
    const remainingRows = await countRows(client, table.schema, table.table, keyed ? table.keyColumns : [], after);
    const source: PostgresSourceInfo = {
      connector: 'postgresql',
      name: serverName,
      tsMs: this.options.now(),
      snapshot: 'true',
      db: connection.database,
      schema: table.schema,
      table: table.table,
      sequence: null,
      txId: null,
      lsn: consistentPoint.toBigInt(),
      xmin: null,
    };
    const chunkRows = this.options.chunkRows;
    const { readers } = codec;
    const columns = codec.schema.columns;
    return {
      schema: codec.schema,
      position: { text: consistentPoint.toString(), source },
      remainingRows,
      resumable: keyed,
      async *rows(signal: AbortSignal): AsyncGenerator<KeyedRow> {
        for await (const page of keysetPages(client, table, chunkRows, after)) {
          if (signal.aborted) return;
          const keyCount = page.keyCount;
          for (const values of page.rows) {
            const row: Record<string, Value> = {};
            for (let index = 0; index < columns.length; index++) {
              const text = values[keyCount + index];
              row[columns[index]!.name] = text === null || text === undefined ? null : readers[index]!(text);
            }
            yield { row: row as Row, key: JSON.stringify(values.slice(0, keyCount)) };
          }
        }
      },
      async close(): Promise<void> {
        await client.query('COMMIT').catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  }
}

async function countRows(
  client: pg.Client,
  schema: string,
  table: string,
  keyColumns: readonly { name: string; sourceType: string }[],
  after: readonly (string | null)[] | undefined,
): Promise<number> {
  const from = `${ident(schema)}.${ident(table)}`;
  const where =
    after === undefined
      ? ''
      : ` WHERE (${keyColumns.map((c) => ident(c.name)).join(', ')}) > (${keyColumns.map((c, i) => `$${i + 1}::${c.sourceType}`).join(', ')})`;
  const result = await run<{ n: string }>(client, `SELECT count(*)::text AS n FROM ${from}${where}`, after === undefined ? undefined : [...after]);
  return Number(result.rows[0]?.n ?? 0);
}

async function run<R extends pg.QueryResultRow = pg.QueryResultRow>(client: pg.Client, sql: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
  try {
    return await client.query<R>(sql, values);
  } catch (error) {
    throw translatePgError(error, 'reading the table for the replay');
  }
}
