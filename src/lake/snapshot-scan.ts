/**
 * Reads the rows of one published lake snapshot with DuckDB: bucket by bucket in bucket order, each bucket's rows
 * sorted by key, so a read can continue after any row and DuckDB sorts one bucket at a time (spilling to a
 * temporary directory beyond its memory limit) instead of the whole table. With the key-range buckets of integer
 * keys this is the table's key order. Rows arrive one DuckDB chunk (2048 rows) at a time, as they are consumed.
 */
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBResult, type DuckDBValue } from '@duckdb/node-api';
import { TributaryError } from '../model/errors.js';
import { quoteIdent } from './columns.js';
import { fileProjection, sqlString } from './merge.js';
import { currentSchema, type DataFile, type LakeSchema, type TableMetadata } from './metadata.js';

/** Where a scan stands: after the row with this key in this bucket. */
export interface ScanPosition {
  readonly bucket: number;
  /** The key values as DuckDB prints them (CAST AS VARCHAR), which cast back to the same values. */
  readonly key: readonly string[];
}

export interface ScannedRow {
  /** One value per column of the current schema, as its `select` expression gave it. */
  readonly values: readonly DuckDBValue[];
  readonly position: ScanPosition;
}

export interface ScanOptions {
  /** DuckDB memory_limit, e.g. '128MB': sorting a bucket spills beyond it. */
  readonly memoryLimit: string;
  readonly threads: number;
}

export class SnapshotScan {
  private readonly schema: LakeSchema;
  private readonly schemas: ReadonlyMap<number, LakeSchema>;
  /** Bucket → its data files, in bucket order. */
  private readonly buckets: ReadonlyMap<number, readonly DataFile[]>;
  private readonly keyTypes: readonly string[];

  private constructor(
    private readonly root: string,
    private readonly metadata: TableMetadata,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly spill: string,
  ) {
    this.schema = currentSchema(metadata);
    this.schemas = new Map(metadata.schemas.map((s) => [s.schemaId, s]));
    const buckets = new Map<number, DataFile[]>();
    for (const file of [...metadata.files].sort((a, b) => a.bucket - b.bucket)) buckets.set(file.bucket, [...(buckets.get(file.bucket) ?? []), file]);
    this.buckets = buckets;
    this.keyTypes = this.schema.key.map((name) => this.schema.fields.find((f) => f.name === name)?.type ?? 'VARCHAR');
  }

  /** `root` is the table directory, `metadata` the published version to read. */
  static async open(root: string, metadata: TableMetadata, options: ScanOptions): Promise<SnapshotScan> {
    const spill = await mkdtemp(join(tmpdir(), 'tributary-lake-scan-'));
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: options.memoryLimit,
      temp_directory: spill,
      threads: String(options.threads),
    });
    const connection = await instance.connect();
    // Key texts (TIMESTAMPTZ keys) must print and parse alike in every run.
    await connection.run("SET TimeZone = 'UTC'");
    return new SnapshotScan(root, metadata, instance, connection, spill);
  }

  /** Rows after `after` (all rows without it). */
  async count(after: ScanPosition | undefined): Promise<number> {
    let rows = 0;
    for (const [bucket, files] of this.buckets) {
      if (after === undefined || bucket > after.bucket) rows += files.reduce((sum, f) => sum + f.rows, 0);
      else if (bucket === after.bucket) {
        const result = await this.query(files, `SELECT count(*) FROM (${this.bucketSql(files)}) t WHERE ${this.afterSql()}`, after.key);
        rows += Number((await result.getRows())[0]?.[0] ?? 0);
      }
    }
    return rows;
  }

  /**
   * Rows after `after`, in bucket then key order; `select` gives, per column of the current schema, the SQL to
   * read it with from its quoted name.
   */
  async *rows(select: readonly ((ref: string) => string)[], after: ScanPosition | undefined, signal: AbortSignal): AsyncGenerator<ScannedRow> {
    const key = this.schema.key.map(quoteIdent);
    const columns = this.schema.fields.map((f, i) => (select[i] ?? ((ref: string) => ref))(quoteIdent(f.name)));
    const width = columns.length;
    for (const [bucket, files] of this.buckets) {
      if (after !== undefined && bucket < after.bucket) continue;
      const resuming = after !== undefined && bucket === after.bucket;
      const sql =
        `SELECT ${[...columns, ...key.map((k) => `CAST(${k} AS VARCHAR)`)].join(', ')} FROM (${this.bucketSql(files)}) t` +
        `${resuming ? ` WHERE ${this.afterSql()}` : ''} ORDER BY ${key.join(', ')}`;
      const result = await this.query(files, sql, resuming ? after.key : []);
      for (;;) {
        const chunk = await this.guard(files, () => result.fetchChunk());
        if (chunk === null || chunk.rowCount === 0 || signal.aborted) break;
        for (const row of chunk.getRows()) {
          yield { values: row.slice(0, width), position: { bucket, key: row.slice(width).map(String) } };
        }
      }
      if (signal.aborted) return;
    }
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
    await rm(this.spill, { recursive: true, force: true });
  }

  /** The bucket's files read as the current schema. */
  private bucketSql(files: readonly DataFile[]): string {
    return files
      .map((f) => `SELECT ${fileProjection(this.schema, this.schemas.get(f.schemaId), 'f')} FROM read_parquet(${sqlString(join(this.root, f.path))}) f`)
      .join(' UNION ALL ');
  }

  /** Rows whose key sorts after the key given as parameters $1..$n. */
  private afterSql(): string {
    const key = this.schema.key.map(quoteIdent).join(', ');
    return `(${key}) > (${this.keyTypes.map((type, i) => `CAST($${i + 1} AS ${type})`).join(', ')})`;
  }

  private query(files: readonly DataFile[], sql: string, values: readonly string[]): Promise<DuckDBResult> {
    return this.guard(files, () => this.connection.stream(sql, [...values]));
  }

  /**
   * A read that fails because a data file is gone. The compactor keeps the current and the previous version's
   * files, so a replay outlives one publish but not two. This fails the replay, and the rerun resumes after the
   * last acknowledged row, in the newest snapshot. Rows keep their bucket and key order across snapshots, since a
   * table's partition spec never changes, so nothing is skipped. A missing file can never be read as an empty one,
   * because DuckDB fails on it and every failure is checked here. Why not keep the files for the reader instead:
   * pinning a version would need the replay to write into the lake, which it may only be able to read, and a
   * killed replay would leave its pin behind. A time-based grace period would not bound a replay either (--rate,
   * a slow broker), so this error would still be needed.
   */
  private async guard<T>(files: readonly DataFile[], read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      for (const file of files) {
        const path = join(this.root, file.path);
        if (await access(path).then(() => false, () => true)) {
          const table = `${this.metadata.namespace}.${this.metadata.table}`;
          throw new TributaryError(
            `lake snapshot ${this.metadata.currentSnapshotId} of ${table} was replaced while it was being replayed: newer snapshots superseded it and the compactor removed its data file ${path}`,
            {
              cause: error,
              retriable: true,
              fix: `rerun tributary replay -c FILE --table ${table} with the same options: it continues after the last row Kafka acknowledged, from the new snapshot`,
            },
          );
        }
      }
      throw error;
    }
  }
}
