/**
 * The consistent initial snapshot: every configured table read in key order, in chunks, inside a REPEATABLE
 * READ transaction that imported the snapshot exported when the slot was created, so the rows are exactly the
 * state at the slot's consistent point and streaming from there has neither a gap nor a duplicate.
 */
import type pg from 'pg';
import type { ChangeEvent, Row, Value } from '../../model/change.js';
import type { Logger } from '../../ops/logger.js';
import type { SnapshotProgressStore } from '../source.js';
import type { PgCatalog, ResolvedTable, TableCodec } from './catalog.js';
import { ident, literal } from './connection.js';
import { translatePgError } from './errors.js';
import { encodePosition, type Lsn } from './position.js';

export interface SnapshotOptions {
  readonly name: string;
  readonly database: string;
  readonly snapshotName: string;
  readonly consistentPoint: Lsn;
  readonly chunkRows: number;
  readonly progress: SnapshotProgressStore;
  readonly logger: Logger;
  readonly now: () => number;
}

/** Text values as PostgreSQL sends them; the catalog's readers turn them into neutral values. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

interface Pending {
  readonly codec: TableCodec;
  readonly row: Row;
  readonly tsMs: number;
}

/** Yields op 'r' events for every row; the very last row carries snapshot 'last'. Commits when done. */
export async function* snapshotEvents(
  client: pg.Client,
  catalog: PgCatalog,
  tables: readonly ResolvedTable[],
  options: SnapshotOptions,
): AsyncGenerator<ChangeEvent> {
  await query(client, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await query(client, `SET TRANSACTION SNAPSHOT ${literal(options.snapshotName)}`);
  let pending: Pending | undefined;
  const emit = (item: Pending, last: boolean): ChangeEvent => snapshotEvent(item, last, options);
  try {
    for (const table of tables) {
      const codec = await catalog.tableCodec(table.schema, table.table, table.columns, table.key);
      let rows = 0;
      for await (const chunk of chunks(client, table, options.chunkRows)) {
        for (const values of chunk.rows) {
          const row: Record<string, Value> = {};
          codec.schema.columns.forEach((column, index) => {
            const text = values[index];
            row[column.name] = text === null || text === undefined ? null : codec.readers[index]!(text);
          });
          if (pending !== undefined) yield emit(pending, false);
          pending = { codec, row, tsMs: options.now() };
        }
        rows += chunk.rows.length;
        await options.progress.saveTable(options.name, `${table.schema}.${table.table}`, { lastKey: chunk.lastKey, rows, done: false });
      }
      await options.progress.saveTable(options.name, `${table.schema}.${table.table}`, { lastKey: null, rows, done: true });
      options.logger.info({ table: `${table.schema}.${table.table}`, rows }, 'snapshot of table done');
    }
    if (pending !== undefined) yield emit(pending, true);
    await query(client, 'COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

function snapshotEvent(item: Pending, last: boolean, options: SnapshotOptions): ChangeEvent {
  const id = item.codec.schema.id;
  return {
    type: 'change',
    op: 'r',
    schema: item.codec.schema,
    before: null,
    after: item.row,
    source: {
      connector: 'postgresql',
      name: options.name,
      tsMs: item.tsMs,
      snapshot: last ? 'last' : 'true',
      db: options.database,
      schema: id.schema ?? 'public',
      table: id.table,
      sequence: null,
      txId: null,
      lsn: options.consistentPoint.toBigInt(),
      xmin: null,
    },
    transaction: null,
    position: encodePosition({ lsn: options.consistentPoint, snapshot: last ? 'last' : 'row' }),
  };
}

interface Chunk {
  /** Selected column values as text, in column order. */
  readonly rows: readonly (readonly (string | null)[])[];
  /** JSON of the last row's key texts (or ctid), for progress records. */
  readonly lastKey: string | null;
}

/**
 * Keyset pagination: by the key when there is one, else by ctid (a TID range scan), which is stable inside
 * the snapshot's transaction.
 */
async function* chunks(client: pg.Client, table: ResolvedTable, chunkRows: number): AsyncGenerator<Chunk> {
  for await (const page of keysetPages(client, table, chunkRows)) {
    const last = page.rows[page.rows.length - 1]!.slice(0, page.keyCount);
    yield { rows: page.rows.map((row) => row.slice(page.keyCount)), lastKey: JSON.stringify(last) };
  }
}

export interface KeysetPage {
  /** Each row: the ordering key's texts (`keyCount` of them), then the selected columns' texts in column order. */
  readonly rows: readonly (readonly (string | null)[])[];
  readonly keyCount: number;
}

/**
 * The pages under {@link chunks}, starting after the key `after` (its texts, as a page row's key prefix) when
 * given: a replay resumes with it. Pages are never empty.
 */
export async function* keysetPages(
  client: pg.Client,
  table: ResolvedTable,
  chunkRows: number,
  after?: readonly (string | null)[],
): AsyncGenerator<KeysetPage> {
  const keyed = table.keyColumns.length > 0;
  const orderBy = keyed ? table.keyColumns.map((column) => ident(column.name)) : ['ctid'];
  const casts = keyed ? table.keyColumns.map((column) => column.sourceType) : ['tid'];
  const selected = table.columns.map((column) => ident(column.name));
  const from = `${ident(table.schema)}.${ident(table.table)}`;
  const head = `SELECT ${[...orderBy, ...selected].join(', ')} FROM ${from}`;
  const tail = `ORDER BY ${orderBy.join(', ')} LIMIT ${chunkRows}`;
  const where = `WHERE (${orderBy.join(', ')}) > (${casts.map((cast, index) => `$${index + 1}::${cast}`).join(', ')})`;
  let last: (string | null)[] | undefined = after === undefined ? undefined : [...after];
  for (;;) {
    const sql = last === undefined ? `${head} ${tail}` : `${head} ${where} ${tail}`;
    const result = await query<(string | null)[]>(client, sql, last);
    const rows = result.rows;
    if (rows.length === 0) return;
    last = rows[rows.length - 1]!.slice(0, orderBy.length);
    yield { rows, keyCount: orderBy.length };
    if (rows.length < chunkRows) return;
  }
}

async function query<R extends unknown[] = unknown[]>(client: pg.Client, text: string, values?: unknown[]): Promise<pg.QueryArrayResult<R>> {
  try {
    return await client.query<R>({ text, values, rowMode: 'array', types: RAW_TEXT });
  } catch (error) {
    throw translatePgError(error, 'reading the snapshot');
  }
}
