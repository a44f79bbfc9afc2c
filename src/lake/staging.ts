/**
 * The changes of one compaction, staged in a DuckDB table through the appender: one row per change with its
 * sequence number, op, bucket and column values in staging form (columns.ts). DuckDB keeps the table within its
 * memory limit and spills the rest to its temp directory, so a compaction's memory does not grow with the
 * number of changes. Columns are added as schema versions bring new ones.
 */
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { InvariantError, TributaryError } from '../model/errors.js';
import { quoteIdent, type ColumnCodec, type StageKind } from './columns.js';
import { isUnavailable, UNAVAILABLE_COLUMN, unavailableMarker } from './unavailable.js';

export const STAGING_TABLE = '__tributary_staging';
const STAGE_SQL: Record<StageKind, string> = {
  boolean: 'BOOLEAN',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  float: 'FLOAT',
  double: 'DOUBLE',
  varchar: 'VARCHAR',
  blob: 'BLOB',
};

/** Where one staging column's value comes from for a given schema version. */
interface Slot {
  readonly codec: ColumnCodec;
  /** Index into the key values, or -1 for the `after` row. */
  readonly keyIndex: number;
}

/** Appends changes of one schema version (one value schema and one key schema). */
export interface RowWriter {
  readonly slots: readonly (Slot | undefined)[];
}

export class ChangeStaging {
  /** Staging columns after the four bookkeeping ones, in table order. */
  private readonly columns: { name: string; codec: ColumnCodec }[] = [];
  /** Columns some update left out (unavailable.ts), by name, with their staging index. */
  private readonly unavailableColumns = new Map<string, number>();
  private appender: DuckDBAppender | undefined;
  rows = 0;

  private constructor(private readonly connection: DuckDBConnection) {}

  static async create(connection: DuckDBConnection): Promise<ChangeStaging> {
    await connection.run(`CREATE TABLE ${STAGING_TABLE} (__seq BIGINT, __op VARCHAR, __bucket INTEGER, ${UNAVAILABLE_COLUMN} VARCHAR)`);
    return new ChangeStaging(connection);
  }

  /** The codec each staged column was last declared with: the newest schema's type for the column. */
  codecs(): ReadonlyMap<string, ColumnCodec> {
    return new Map(this.columns.map((c) => [c.name, c.codec]));
  }

  /** Columns that some staged update left out, with their staging indexes (empty for most batches). */
  unavailable(): ReadonlyMap<string, number> {
    return this.unavailableColumns;
  }

  /** A writer for rows with `valueColumns` and `keyColumns`, adding staging columns the table lacks. */
  async writer(valueColumns: readonly ColumnCodec[], keyColumns: readonly ColumnCodec[]): Promise<RowWriter> {
    const wanted = new Map<string, Slot>();
    for (const codec of valueColumns) wanted.set(codec.column.name, { codec, keyIndex: -1 });
    keyColumns.forEach((codec, keyIndex) => wanted.set(codec.column.name, { codec: wanted.get(codec.column.name)?.codec ?? codec, keyIndex }));
    for (const [name, slot] of wanted) {
      const existing = this.columns.find((c) => c.name === name);
      if (existing === undefined) {
        await this.closeAppender();
        await this.connection.run(`ALTER TABLE ${STAGING_TABLE} ADD COLUMN ${quoteIdent(name)} ${STAGE_SQL[slot.codec.stage]}`);
        this.columns.push({ name, codec: slot.codec });
      } else if (existing.codec.stage !== slot.codec.stage) {
        throw new TributaryError(
          `column ${name} changed from ${existing.codec.column.type} to ${slot.codec.column.type} between schema versions within one compaction`,
          { fix: 'compact before and after the type change separately (lower the batch size), or rebuild the table' },
        );
      } else {
        existing.codec = slot.codec;
      }
    }
    this.appender ??= await this.connection.createAppender(STAGING_TABLE);
    return { slots: this.columns.map((c) => wanted.get(c.name)) };
  }

  /** Appends with a writer from `writer()`; the appender is open from then until the next column change. */
  append(writer: RowWriter, seq: number, op: string, bucket: number, after: Record<string, unknown> | null, key: readonly unknown[]): void {
    const appender = this.appender;
    if (appender === undefined) throw new InvariantError('ChangeStaging.append() before writer()');
    appender.appendBigInt(BigInt(seq));
    appender.appendVarchar(op);
    appender.appendInteger(bucket);
    // Only updates leave values out; their columns are staged as null and marked.
    const left = op === 'u' && after !== null ? this.leftOut(writer, after) : undefined;
    if (left === undefined) appender.appendNull();
    else appender.appendVarchar(unavailableMarker(left));
    for (const [index, slot] of writer.slots.entries()) {
      const raw = slot === undefined ? null : slot.keyIndex >= 0 ? key[slot.keyIndex] : after === null ? null : after[slot.codec.column.name];
      if (raw === null || raw === undefined || slot === undefined || left?.includes(index) === true) {
        appender.appendNull();
        continue;
      }
      appendValue(appender, slot.codec.stage, slot.codec.toStage(raw));
    }
    appender.endRow();
    this.rows++;
  }

  /** Staging indexes of the value columns `after` carries Debezium's placeholder for, or undefined for none. */
  private leftOut(writer: RowWriter, after: Record<string, unknown>): number[] | undefined {
    let left: number[] | undefined;
    writer.slots.forEach((slot, index) => {
      if (slot === undefined || slot.keyIndex >= 0 || !isUnavailable(after[slot.codec.column.name])) return;
      (left ??= []).push(index);
      this.unavailableColumns.set(slot.codec.column.name, index);
    });
    return left;
  }

  async finish(): Promise<void> {
    await this.closeAppender();
  }

  /**
   * For staged columns of ISO-8601 timestamp text: the fractional digits of each one's latest dated value (values
   * such as 'infinity' say nothing about them). Columns without one are left out.
   */
  async latestFractionDigits(names: readonly string[]): Promise<Map<string, number>> {
    const staged = names.filter((name) => this.columns.some((c) => c.name === name));
    const digits = new Map<string, number>();
    if (staged.length === 0) return digits;
    const latest = staged.map((name) => `arg_max(${quoteIdent(name)}, __seq) FILTER (WHERE regexp_matches(${quoteIdent(name)}, '^[+-]?\\d{4,}-'))`);
    const result = await this.connection.runAndReadAll(`SELECT ${latest.join(', ')} FROM ${STAGING_TABLE}`);
    const row = result.getRows()[0] ?? [];
    staged.forEach((name, index) => {
      const value = row[index];
      if (typeof value === 'string') digits.set(name, /\.(\d+)Z$/.exec(value)?.[1]?.length ?? 0);
    });
    return digits;
  }

  private async closeAppender(): Promise<void> {
    this.appender?.closeSync();
    this.appender = undefined;
  }
}

function appendValue(appender: DuckDBAppender, stage: StageKind, value: unknown): void {
  switch (stage) {
    case 'boolean':
      return appender.appendBoolean(value as boolean);
    case 'integer':
      return appender.appendInteger(value as number);
    case 'bigint':
      return appender.appendBigInt(value as bigint);
    case 'float':
      return appender.appendFloat(value as number);
    case 'double':
      return appender.appendDouble(value as number);
    case 'varchar':
      return appender.appendVarchar(value as string);
    case 'blob':
      return appender.appendBlob(value as Uint8Array);
  }
}
