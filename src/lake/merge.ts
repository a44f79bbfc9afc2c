/**
 * The merge in SQL: the staged changes reduced to the last change per key (`latest`), then for each bucket to
 * rewrite, the rows of its current files whose keys did not change, plus the surviving changed rows, written
 * to one new zstd Parquet file. Each bucket is a separate statement, so DuckDB's working set is one bucket.
 */
import { stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent, type ColumnCodec } from './columns.js';
import type { DataFile, LakeSchema } from './metadata.js';
import { STAGING_TABLE } from './staging.js';
import { fromFileFlag, latestSentSql } from './unavailable.js';

const LATEST_TABLE = '__tributary_latest';
/** Rows per Parquet row group: DuckDB's default; small enough for readers to skip by statistics. */
const ROW_GROUP_SIZE = 122_880;

/**
 * Builds `latest` from the staged changes after the last truncate (`afterSeq`), and returns the buckets it
 * touches. `codecs` are the staged columns' codecs; `key` the key column names; `unavailable` the columns some
 * update left out (staging index by name): those take the latest value the key's changes did carry, and where
 * none did, a `fromFileFlag` column tells `rewriteBucket` to keep the value of the current file.
 */
export async function reduceChanges(
  connection: DuckDBConnection,
  codecs: ReadonlyMap<string, ColumnCodec>,
  key: readonly string[],
  afterSeq: number,
  unavailable: ReadonlyMap<string, number> = new Map(),
): Promise<Set<number>> {
  const partition = key.map(quoteIdent).join(', ');
  const sent = (index: number): string => quoteIdent(`__sent_${index}`);
  const columns = [...codecs].map(([name, codec]) => {
    const index = unavailable.get(name);
    const value = index === undefined ? quoteIdent(name) : `${sent(index)}[1]`;
    return `CAST(${codec.toLake(value)} AS ${codec.column.type}) AS ${quoteIdent(name)}`;
  });
  const flags = [...unavailable.values()].map((index) => `${sent(index)} IS NULL AS ${fromFileFlag(index)}`);
  const latestSent = [...unavailable].map(([name, index]) => `, ${latestSentSql(name, index, partition)} AS ${sent(index)}`);
  await connection.run(`DROP TABLE IF EXISTS ${LATEST_TABLE}`);
  await connection.run(
    `CREATE TABLE ${LATEST_TABLE} AS
       SELECT __bucket, __op, ${[...columns, ...flags].join(', ')}
       FROM (
         SELECT *${latestSent.join('')}
         FROM ${STAGING_TABLE}
         WHERE __seq > ${afterSeq}
         QUALIFY row_number() OVER (PARTITION BY ${partition} ORDER BY __seq DESC) = 1
       )
       ORDER BY __bucket`,
  );
  const result = await connection.runAndReadAll(`SELECT DISTINCT __bucket FROM ${LATEST_TABLE}`);
  return new Set(result.getRowObjects().map((row) => Number(row['__bucket'])));
}

export interface BucketRewrite {
  readonly bucket: number;
  /** Current files of the bucket, with the schemas they were written with. */
  readonly inputs: readonly DataFile[];
  readonly target: string;
}

/**
 * Writes the bucket's new file; returns its row count (0: nothing written worth keeping). `unavailable` is what
 * `reduceChanges` was given: columns whose value may have to come from the row in the current files. (A value
 * neither the batch nor the lake holds, because retention dropped the row's insert before it was compacted,
 * becomes null.)
 */
export async function rewriteBucket(
  connection: DuckDBConnection,
  rewrite: BucketRewrite,
  schema: LakeSchema,
  schemas: ReadonlyMap<number, LakeSchema>,
  staged: ReadonlySet<string>,
  tableRoot: string,
  unavailable: ReadonlyMap<string, number> = new Map(),
): Promise<{ rows: number; bytes: number }> {
  const output = schema.fields.map((f) => quoteIdent(f.name)).join(', ');
  const fromFile = rewrite.inputs.length > 0 && schema.fields.some((f) => unavailable.has(f.name));
  const fromChanges = schema.fields
    .map((f) => {
      const name = quoteIdent(f.name);
      if (!staged.has(f.name)) return `CAST(NULL AS ${f.type}) AS ${name}`;
      const index = unavailable.get(f.name);
      return index === undefined || !fromFile ? `l.${name}` : `CASE WHEN l.${fromFileFlag(index)} THEN o.${name} ELSE l.${name} END AS ${name}`;
    })
    .join(', ');
  const current = rewrite.inputs
    .map((file) => `SELECT ${fileProjection(schema, schemas.get(file.schemaId), 'f')} FROM read_parquet(${sqlString(`${tableRoot}/${file.path}`)}) f`)
    .join(' UNION ALL ');
  const currentRow = fromFile ? `LEFT JOIN (${current}) o ON ${schema.key.map((k) => `o.${quoteIdent(k)} = l.${quoteIdent(k)}`).join(' AND ')}` : '';
  const parts = [`SELECT ${fromChanges} FROM ${LATEST_TABLE} l ${currentRow} WHERE l.__bucket = ${rewrite.bucket} AND l.__op <> 'd'`];
  for (const file of rewrite.inputs) {
    const written = schemas.get(file.schemaId);
    const byId = new Map((written?.fields ?? []).map((f) => [f.id, f.name]));
    const projection = fileProjection(schema, written, 'o');
    const join = schema.key.map((k) => `o.${quoteIdent(byId.get(fieldId(schema, k)) ?? k)} = c.${quoteIdent(k)}`).join(' AND ');
    parts.push(
      `SELECT ${projection} FROM read_parquet(${sqlString(`${tableRoot}/${file.path}`)}) o
       ANTI JOIN (SELECT ${schema.key.map(quoteIdent).join(', ')} FROM ${LATEST_TABLE} WHERE __bucket = ${rewrite.bucket}) c ON ${join}`,
    );
  }
  const result = await connection.run(
    `COPY (SELECT ${output} FROM (${parts.join(' UNION ALL ')})) TO ${sqlString(rewrite.target)}
     (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_SIZE})`,
  );
  const rows = Number(result.rowsChanged);
  return { rows, bytes: (await stat(rewrite.target)).size };
}

/**
 * The select list reading a data file written with schema `written` (aliased `alias`) as `schema`: columns
 * matched by id, columns the file does not have as nulls.
 */
export function fileProjection(schema: LakeSchema, written: LakeSchema | undefined, alias: string): string {
  const byId = new Map((written?.fields ?? []).map((f) => [f.id, f.name]));
  return schema.fields
    .map((f) => {
      const old = byId.get(f.id);
      return old === undefined ? `CAST(NULL AS ${f.type}) AS ${quoteIdent(f.name)}` : `CAST(${alias}.${quoteIdent(old)} AS ${f.type}) AS ${quoteIdent(f.name)}`;
    })
    .join(', ');
}

function fieldId(schema: LakeSchema, name: string): number {
  return schema.fields.find((f) => f.name === name)?.id ?? -1;
}

export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
