/**
 * Time columns in the lake: PostgreSQL's time of day is a Parquet TIME (24:00:00 included), MySQL/MariaDB's TIME
 * a duration kept as BIGINT microseconds. The staged values go through the mapping's SQL and a Parquet file in an
 * in-memory DuckDB, and are read back from the file, so no value may change on the way.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBTimeValue } from '@duckdb/node-api';
import { buildValueSchema, schemaJson, type SourceKind } from '../../src/avro/index.js';
import { partitionSpecFor } from '../../src/lake/buckets.js';
import {
  DURATION_DOC,
  envelopeColumns,
  envelopeConnector,
  keyColumns,
  timeMeaning,
  wrappedTimeColumns,
  type ColumnCodec,
} from '../../src/lake/columns.js';
import type { Column, TableSchema } from '../../src/model/schema.js';
import { columnReader } from '../../src/replay/lake-values.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-lake-columns-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TOPIC = 'shop.test.clock';
const time = (name: string, precision: number): Column => ({ name, type: { kind: 'time', precision }, nullable: true, sourceType: `time(${precision})` });
const TABLE: TableSchema = {
  id: { database: 'test', schema: 'public', table: 'clock' },
  key: ['id'],
  columns: [{ name: 'id', type: { kind: 'int32' }, nullable: false, sourceType: 'int' }, time('at6', 6), time('at3', 3)],
};

function columnsFor(kind: SourceKind): ColumnCodec[] {
  const envelope = JSON.parse(schemaJson(buildValueSchema(TOPIC, TABLE, kind))) as unknown;
  return envelopeColumns(envelope, TOPIC, timeMeaning(envelopeConnector(envelope)));
}

test("the envelope's source block names the connector, and only PostgreSQL's time is a time of day", () => {
  for (const kind of ['postgresql', 'mysql', 'mariadb'] as const) {
    assert.equal(envelopeConnector(JSON.parse(schemaJson(buildValueSchema(TOPIC, TABLE, kind)))), kind);
  }
  assert.equal(envelopeConnector({ type: 'record', name: 'NotAnEnvelope', fields: [] }), undefined);
  assert.equal(timeMeaning('postgresql'), 'time-of-day');
  for (const connector of ['mysql', 'mariadb', undefined]) assert.equal(timeMeaning(connector), 'duration');
});

test('PostgreSQL time columns are TIME; MySQL/MariaDB TIME columns are BIGINT microseconds with a doc saying so', () => {
  const pg = columnsFor('postgresql').map((c) => c.column);
  assert.deepEqual(
    pg.slice(1).map(({ name, type, semantic, doc }) => ({ name, type, semantic, doc })),
    [
      { name: 'at6', type: 'TIME', semantic: 'io.debezium.time.MicroTime', doc: undefined },
      { name: 'at3', type: 'TIME', semantic: 'io.debezium.time.Time', doc: undefined },
    ],
  );
  for (const kind of ['mysql', 'mariadb'] as const) {
    const columns = columnsFor(kind).map((c) => c.column);
    assert.deepEqual(
      columns.slice(1).map(({ name, type, semantic, doc }) => ({ name, type, semantic, doc })),
      [
        { name: 'at6', type: 'BIGINT', semantic: 'io.debezium.time.MicroTime', doc: DURATION_DOC },
        { name: 'at3', type: 'BIGINT', semantic: 'io.debezium.time.MicroTime', doc: DURATION_DOC },
      ],
      kind,
    );
  }
  // io.debezium.time.Time (milliseconds) kept as a duration is staged in microseconds too.
  const [millis] = keyColumns({ type: 'record', name: 'Key', fields: [{ name: 't', type: { type: 'int', 'connect.name': 'io.debezium.time.Time' } }] }, TOPIC, 'duration');
  assert.equal(millis?.column.type, 'BIGINT');
  assert.equal(millis?.toStage(-1500), -1_500_000n);
});

test('a table keyed by a MySQL TIME is hash-bucketed, not split into ranges of microseconds', () => {
  const key = keyColumns({ type: 'record', name: 'Key', fields: [{ name: 't', type: { type: 'long', 'connect.name': 'io.debezium.time.MicroTime' } }] }, TOPIC, 'duration');
  assert.equal(partitionSpecFor(key.map((c) => c.column)).transform, 'bucket');
});

/** Stages `values` for `codec`, writes them to Parquet through the codec's SQL as the merge does, and reads the file back. */
async function throughParquet(codec: ColumnCodec, values: readonly bigint[], name: string): Promise<{ text: string[]; raw: unknown[] }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const file = join(dir, `${name}.parquet`);
  try {
    const staged = values.map((v, i) => `(${i}, ${String(codec.toStage(v))}::BIGINT)`).join(', ');
    await connection.run(`CREATE TABLE staged AS SELECT * FROM (VALUES ${staged}) v(i, x)`);
    await connection.run(`COPY (SELECT i, CAST(${codec.toLake('x')} AS ${codec.column.type}) AS x FROM staged) TO '${file}' (FORMAT parquet)`);
    const read = await connection.runAndReadAll(`SELECT x, CAST(x AS VARCHAR) AS text FROM read_parquet('${file}') ORDER BY i`);
    return { raw: read.getRowObjects().map((r) => r['x']), text: read.getRowObjects().map((r) => String(r['text'])) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const MYSQL_TIMES = [-3_020_399_000_000n, -1_500_000n, 0n, 90_000_000_000n, 3_020_399_000_000n, 45_296_789_012n];

test('MySQL TIME durations keep every value, negative and beyond 24 hours, through Parquet and the replay reader', async () => {
  const codec = columnsFor('mysql')[1]!;
  const { raw } = await throughParquet(codec, MYSQL_TIMES, 'mysql');
  assert.deepEqual(raw, MYSQL_TIMES);
  const reader = columnReader(time('at6', 6), 'test.clock');
  assert.deepEqual(raw.map((v) => reader.read(v as bigint)), MYSQL_TIMES);
});

test('PostgreSQL times of day keep 24:00:00, and a value outside the day fails instead of wrapping', async () => {
  const codec = columnsFor('postgresql')[1]!;
  const values = [0n, 45_296_789_012n, 86_399_999_999n, 86_400_000_000n];
  const { raw, text } = await throughParquet(codec, values, 'pg');
  assert.deepEqual(text, ['00:00:00', '12:34:56.789012', '23:59:59.999999', '24:00:00']);
  const reader = columnReader(time('at6', 6), 'public.clock');
  assert.deepEqual(raw.map((v) => reader.read(v as DuckDBTimeValue)), values);
  for (const outside of [-1n, 86_400_000_001n]) {
    await assert.rejects(throughParquet(codec, [outside], `pg-outside-${outside}`), /a time of day outside 00:00:00-24:00:00/);
  }
});

test('a lake TIME column of a MySQL/MariaDB table is found as wrapped; PostgreSQL TIME and BIGINT durations are not', () => {
  const columns = [
    { name: 'old', type: 'TIME', nullable: true, semantic: 'io.debezium.time.MicroTime' },
    { name: 'oldms', type: 'TIME', nullable: true, semantic: 'io.debezium.time.Time' },
    { name: 'kept', type: 'BIGINT', nullable: true, semantic: 'io.debezium.time.MicroTime', doc: DURATION_DOC },
    { name: 'n', type: 'INTEGER', nullable: true },
  ];
  assert.deepEqual(wrappedTimeColumns(columns, 'mysql'), ['old', 'oldms']);
  assert.deepEqual(wrappedTimeColumns(columns, 'mariadb'), ['old', 'oldms']);
  assert.deepEqual(wrappedTimeColumns(columns, 'postgresql'), []);
});

test('the replay reader takes a time as TIME or BIGINT and names anything else', () => {
  const reader = columnReader(time('at6', 6), 'test.clock');
  assert.equal(reader.read(new DuckDBTimeValue(86_400_000_000n)), 86_400_000_000n);
  assert.equal(reader.read(-1_500_000n), -1_500_000n);
  assert.throws(() => reader.read('12:00:00'), /lake column test\.clock\.at6 holds a string where its type needs a TIME or BIGINT/);
});
