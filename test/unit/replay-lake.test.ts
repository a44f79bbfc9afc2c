import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildValueSchema, schemaJson } from '../../src/avro/index.js';
import { loadConfig } from '../../src/config/index.js';
import { envelopeColumns, envelopeConnector, timeMeaning } from '../../src/lake/columns.js';
import { LakeMetadataError, nextMetadata, type LakeSchema, type TableMetadata } from '../../src/lake/metadata.js';
import { TableDirectory } from '../../src/lake/table-dir.js';
import { ConfigError } from '../../src/model/errors.js';
import type { Column, FieldType, TableSchema } from '../../src/model/schema.js';
import { silentLogger } from '../../src/ops/logger.js';
import { runReplay } from '../../src/replay/index.js';
import { hasLakeSnapshot } from '../../src/replay/lake-table.js';
import { LakeReplayError, lakeTableSchema } from '../../src/replay/lake-schema.js';
import { resolveTarget } from '../../src/replay/target.js';

const dir = mkdtempSync(join(tmpdir(), 'tributary-replay-lake-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const col = (name: string, type: FieldType, extra: Partial<Column> = {}): Column => ({ name, type, nullable: true, sourceType: type.kind, ...extra });

const TOPIC = 'shop.public.orders';
const TABLE: TableSchema = {
  id: { database: 'test', schema: 'public', table: 'orders' },
  key: ['id'],
  columns: [
    col('id', { kind: 'int64' }, { nullable: false }),
    col('flag', { kind: 'boolean' }, { defaultValue: true }),
    col('tiny', { kind: 'int8' }),
    col('small', { kind: 'int16' }),
    col('int', { kind: 'int32' }, { nullable: false, defaultValue: 42 }),
    col('real', { kind: 'float32' }),
    col('double', { kind: 'float64' }),
    col('amount', { kind: 'decimal', precision: 12, scale: 2 }, { defaultValue: '1.50' }),
    col('exact', { kind: 'decimal' }),
    col('money', { kind: 'decimal', scale: 2 }),
    col('name', { kind: 'string' }, { nullable: false, defaultValue: 'dflt' }),
    col('raw', { kind: 'bytes' }, { defaultValue: Uint8Array.of(0, 255) }),
    col('ref', { kind: 'uuid' }),
    col('doc', { kind: 'json' }),
    col('page', { kind: 'xml' }),
    col('mood', { kind: 'enum', symbols: ['sad', 'ok'] }, { defaultValue: 'ok' }),
    col('tags', { kind: 'set', symbols: ['a', 'b'] }),
    col('mask', { kind: 'bits', length: 16 }),
    col('day', { kind: 'date' }),
    col('at3', { kind: 'time', precision: 3 }, { defaultValue: 1_500_000n }),
    col('at6', { kind: 'time', precision: 6 }),
    col('ts3', { kind: 'timestamp', precision: 3 }),
    col('ts6', { kind: 'timestamp', precision: 6 }, { defaultValue: 1_700_000_000_000_001n }),
    col('seen', { kind: 'timestamptz', precision: 3 }, { defaultValue: '2024-01-01T00:00:00.000Z' }),
    col('at_tz', { kind: 'timetz' }),
    col('span', { kind: 'interval' }),
    col('year', { kind: 'year' }),
    col('ints', { kind: 'array', items: { kind: 'int32' } }),
    col('stamps', { kind: 'array', items: { kind: 'timestamptz', precision: 3 } }),
  ],
};

/** The lake schema the compactor records for TABLE's change topic. */
function lakeSchema(table: TableSchema, kind: 'postgresql' | 'mysql' = 'postgresql'): LakeSchema {
  const envelope = JSON.parse(schemaJson(buildValueSchema(TOPIC, table, kind))) as unknown;
  const fields = envelopeColumns(envelope, TOPIC, timeMeaning(envelopeConnector(envelope))).map((c, i) => ({
    ...c.column,
    ...(c.column.semantic === 'io.debezium.time.ZonedTimestamp' ? { fractionDigits: 3 } : {}),
    id: i + 1,
  }));
  return { schemaId: 0, fields, key: table.key };
}

test('a table schema rebuilt from the lake metadata has the types and defaults the live topic was built from', () => {
  const rebuilt = lakeTableSchema(lakeSchema(TABLE), TABLE.id, TOPIC, 'postgresql', 'public.orders');
  assert.deepEqual(rebuilt.key, ['id']);
  assert.deepEqual(rebuilt.id, TABLE.id);
  for (const [index, column] of TABLE.columns.entries()) {
    const again = rebuilt.columns[index]!;
    assert.equal(again.name, column.name);
    assert.equal(again.nullable, column.nullable, `${column.name} nullable`);
    assert.deepEqual(again.defaultValue, column.defaultValue, `${column.name} default`);
    // Array items of ZonedTimestamp carry their text as the source wrote it; the digits matter only for columns.
    if (column.name !== 'stamps') assert.deepEqual(again.type, column.type, `${column.name} type`);
  }
});

test('a lake schema the encoder would not write again is refused, naming the column and --from database', () => {
  // Written for PostgreSQL (a time(3) is io.debezium.time.Time in milliseconds); MySQL writes it in microseconds.
  const schema = lakeSchema({ ...TABLE, columns: TABLE.columns.filter((c) => ['id', 'at3'].includes(c.name)) });
  assert.throws(
    () => lakeTableSchema(schema, TABLE.id, TOPIC, 'mysql', 'public.orders'),
    (error: LakeReplayError) => /column at3 exactly/.test(error.message) && /--from database/.test(error.fix ?? ''),
  );
  const old = { ...schema, fields: schema.fields.map(({ avro: _avro, ...field }) => field) };
  assert.throws(
    () => lakeTableSchema(old, TABLE.id, TOPIC, 'postgresql', 'public.orders'),
    (error: LakeReplayError) => /did not record the column types/.test(error.message) && /tributary compact/.test(error.fix ?? ''),
  );
});

/** A config with one PostgreSQL table, with or without a lake. */
function config(name: string, lake: boolean): ReturnType<typeof loadConfig> {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `sources:
  - { name: shop, kind: postgres, connection: { database: test, user: u, port: 1 }, tables: [{ name: public.orders }] }
kafka: { brokers: ["127.0.0.1:1"] }
registry: { mode: external, url: "http://127.0.0.1:1" }
checkpoint: { path: ${join(dir, `${name}.db`)} }
${lake ? `lake: { path: ${join(dir, name)} }\n` : ''}`,
  );
  return loadConfig(file);
}

/** Publishes a lake snapshot of public.orders, as the compactor would, with `change` applied to its metadata. */
async function publish(name: string, change: (metadata: TableMetadata) => object = (m) => m): Promise<void> {
  const schema = lakeSchema(TABLE);
  const metadata = nextMetadata(
    {
      tableUuid: '00000000-0000-4000-8000-000000000001',
      source: { name: 'shop', connector: 'postgresql' },
      namespace: 'public',
      table: 'orders',
      topic: TOPIC,
      partitionSpec: { transform: 'truncate', column: 'id', width: 100 },
    },
    {
      schema,
      lastColumnId: schema.fields.length,
      files: [],
      filesAdded: 0,
      filesRemoved: 0,
      changesApplied: 0,
      source: { connector: 'postgresql', lsn: '1000', txId: '7', tsMs: 0 },
      kafka: { topic: TOPIC, offsets: { '0': '0' } },
      madeAt: new Date(),
    },
  );
  const table = new TableDirectory(join(dir, name, 'shop', 'public', 'orders'), silentLogger());
  await table.prepare();
  await table.publish(1, change(metadata) as TableMetadata);
}

const replay = (name: string, lake = true) => runReplay(config(name, lake), { table: 'public.orders', from: 'lake', logger: silentLogger() });

test('no lake snapshot: says how to make one, or to replay from the database', async () => {
  await assert.rejects(replay('empty'), (error: LakeReplayError) => {
    assert.ok(error instanceof LakeReplayError);
    assert.match(error.message, /table public\.orders has no lake snapshot in .*empty\/shop\/public\/orders/);
    assert.match(error.fix ?? '', /tributary compact -c FILE --table public\.orders --once/);
    assert.match(error.fix ?? '', /--from database/);
    return true;
  });
  await assert.rejects(replay('nolake', false), (error: LakeReplayError) => /no lake section/.test(error.message) && /lake: \{ path/.test(error.fix ?? ''));
});

test('lake metadata written by a newer version is refused with the fix', async () => {
  await publish('newer', (metadata) => ({ ...metadata, formatVersion: 99 }));
  await assert.rejects(replay('newer'), (error: LakeMetadataError) => {
    assert.ok(error instanceof LakeMetadataError);
    assert.match(error.message, /cannot replay public\.orders from the lake: .* newer Tributary \(lake format 99\)/);
    assert.match(error.fix ?? '', /upgrade Tributary/);
    assert.match(error.fix ?? '', /--from database/);
    return true;
  });
});

test('lake metadata from before replay read the lake is refused with the fix', async () => {
  await publish('old', (metadata) => ({
    ...metadata,
    schemas: metadata.schemas.map((s) => ({ ...s, fields: s.fields.map(({ avro: _avro, ...field }) => field) })),
  }));
  await assert.rejects(replay('old'), (error: LakeReplayError) => /did not record the column types/.test(error.message));
});

test('a lake that holds a MySQL/MariaDB TIME as a time of day is refused, naming the columns and the re-compaction', async () => {
  // Written by a Tributary before durations were kept as BIGINT: its values outside the day wrapped.
  await publish('wrapped', (metadata) => ({ ...metadata, source: { name: 'shop', connector: 'mariadb' } }));
  await assert.rejects(replay('wrapped'), (error: LakeReplayError) => {
    assert.ok(error instanceof LakeReplayError);
    assert.match(error.message, /lake snapshot of public\.orders holds the mariadb TIME columns at3, at6 as a time of day/);
    assert.match(error.fix ?? '', /delete .*wrapped\/shop\/public\/orders and run tributary compact -c FILE --table public\.orders --once/);
    assert.match(error.fix ?? '', /--from database/);
    return true;
  });
});

test('an unknown table names the tables the config has', async () => {
  await assert.rejects(runReplay(config('unknown', true), { table: 'public.nope', from: 'lake', logger: silentLogger() }), (error: ConfigError) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /--table public\.nope is not a table of any source/);
    assert.match(error.fix ?? '', /public\.orders/);
    return true;
  });
});

test('the default --from is the lake once the table has a published snapshot', async () => {
  const withLake = config('default', true);
  const target = resolveTarget(withLake, 'public.orders');
  assert.equal(await hasLakeSnapshot(withLake, target, silentLogger()), false);
  assert.equal(await hasLakeSnapshot(config('default-nolake', false), target, silentLogger()), false);
  await publish('default');
  assert.equal(await hasLakeSnapshot(withLake, target, silentLogger()), true);
});
