/**
 * The registered schema text compared to golden files written by hand from Debezium 3.6.1 and Confluent's
 * AvroData (schema-registry master, 2026) sources, not from this code's output. Where each part comes from:
 *
 * - Record layout {"type","name","namespace","fields",…props} and references by short name ("Value" for `after`,
 *   "io.debezium.data.VariableScaleDecimal" from inside another namespace): Avro Java Schema.toJson /
 *   writeNameRef; AvroData.splitName splits names at the last dot ("event.block" → namespace "event").
 * - Property order connect.doc, connect.version, connect.parameters, connect.default, connect.name, connect.type,
 *   Decimal's scale/precision first and logicalType last: AvroData.fromConnectSchema.
 * - Optional fields ["null", T] default null; `snapshot` [T, "null"] default "false" (it has a default):
 *   AvroData.maybeMakeOptional / addAvroRecordField.
 * - int16 → {"type":"int","connect.type":"int16"}: AvroData (INT16 case).
 * - numeric(10,2) → Decimal with connect.decimal.precision: SpecialValueDecimal.builder (precise mode);
 *   numeric without typmod → io.debezium.data.VariableScaleDecimal (doc "Variable scaled decimal", version 1):
 *   SchemaFactory.datatypeVariableScaleDecimalSchema.
 * - Temporal names and versions: io.debezium.time.* builders; time.precision.mode defaults adaptive (PostgreSQL)
 *   and adaptive_time_microseconds (BinlogConnectorConfig), so MySQL TIME is always MicroTime.
 * - text[] → array of optional strings: PostgresValueConverter.schemaBuilder (TEXT_ARRAY).
 * - enum/set allowed lists, year, bit(n>1) length: BinlogValueConverters, Enum/EnumSet/Bits builders;
 *   BIGINT UNSIGNED → Decimal(20,0) (bigint.unsigned.handling.mode=precise).
 * - Source blocks: SchemaFactory.sourceInfoSchemaBuilder (version 1 since DBZ-8499; snapshot Enum lists every
 *   SnapshotRecord constant), PostgresSourceInfoStructMaker (schema, table, txId, lsn, xmin, origin,
 *   origin_lsn), BinlogSourceInfoStructMaker (table … query).
 * - Envelope: TableSchemaBuilder.create (before/after = optional `<topic>.Value`, then source, transaction),
 *   SchemaFactory.datatypeEnvelopeSchema.build (op, ts_ms, ts_us, ts_ns), Envelope.SCHEMA_VERSION = 2,
 *   transactionBlockSchema (optional event.block, version 1).
 * The layout was cross-checked against envelopes printed by real Debezium 2.x deployments in public code.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ChangeEvent } from '../../src/model/change.js';
import type { Column, FieldType, TableSchema } from '../../src/model/schema.js';
import {
  AvroEventEncoder,
  AvroSchemaError,
  buildKeySchema,
  buildTransactionSchemas,
  buildValueSchema,
  encodeTransactionKey,
  encodeTransactionValue,
  schemaJson,
} from '../../src/avro/index.js';
import { typeFromJson } from '../../src/avro/avro-type.js';
import { microTimestampTriples } from '../../src/avro/timestamps.js';

/** avsc decodes records as class instances; compare their plain data. */
const plain = (value: unknown): unknown => structuredClone(value);

const golden = (file: string) => JSON.stringify(JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8')));

const col = (name: string, type: FieldType, nullable: boolean, sourceType = type.kind): Column => ({
  name,
  type,
  nullable,
  sourceType,
});

const orders: TableSchema = {
  id: { database: 'test', schema: 'public', table: 'orders' },
  key: ['id'],
  columns: [
    col('id', { kind: 'int32' }, false),
    col('customer_id', { kind: 'int64' }, false),
    col('qty', { kind: 'int16' }, true),
    col('price', { kind: 'decimal', precision: 10, scale: 2 }, false),
    col('discount', { kind: 'decimal' }, true),
    col('note', { kind: 'string' }, true),
    col('created_at', { kind: 'timestamptz', precision: 6 }, false),
    col('ship_at', { kind: 'timestamp', precision: 6 }, true),
    col('ship_date', { kind: 'date' }, true),
    col('ref', { kind: 'uuid' }, true),
    col('payload', { kind: 'json' }, true),
    col('tags', { kind: 'array', items: { kind: 'string' } }, true),
  ],
};

const items: TableSchema = {
  id: { database: 'test', table: 'items' },
  key: ['id'],
  columns: [
    col('id', { kind: 'int32' }, false),
    col('name', { kind: 'string' }, true),
    col('status', { kind: 'enum', symbols: ['new', 'done'] }, false),
    col('flags', { kind: 'set', symbols: ['a', 'b'] }, true),
    col('made', { kind: 'year' }, true),
    col('t', { kind: 'time', precision: 0 }, true),
    col('dt', { kind: 'timestamp', precision: 3 }, false),
    col('ts', { kind: 'timestamptz', precision: 0 }, true),
    col('big', { kind: 'decimal', precision: 20, scale: 0 }, true),
    col('b', { kind: 'bits', length: 10 }, false),
  ],
};

describe('avro schemas: golden files', () => {
  it('PostgreSQL envelope', () => {
    const type = buildValueSchema('tributary.public.orders', orders, 'postgresql');
    assert.equal(schemaJson(type), golden('./avro-golden-postgres-envelope.json'));
  });

  it('MySQL envelope', () => {
    const type = buildValueSchema('tributary.test.items', items, 'mysql');
    assert.equal(schemaJson(type), golden('./avro-golden-mysql-envelope.json'));
  });

  it('MariaDB differs from MySQL only in the source record name', () => {
    const mariadb = schemaJson(buildValueSchema('tributary.test.items', items, 'mariadb'));
    const expected = golden('./avro-golden-mysql-envelope.json').replace(
      /io\.debezium\.connector\.mysql/g,
      'io.debezium.connector.mariadb',
    );
    assert.equal(mariadb, expected);
  });

  it('key record', () => {
    const key = buildKeySchema('tributary.public.orders', orders, 'postgresql');
    assert.ok(key);
    assert.equal(
      schemaJson(key),
      '{"type":"record","name":"Key","namespace":"tributary.public.orders",' +
        '"fields":[{"name":"id","type":"int"}],"connect.name":"tributary.public.orders.Key"}',
    );
  });

  it('no key columns → no key schema', () => {
    assert.equal(buildKeySchema('tributary.public.orders', { ...orders, key: [] }, 'postgresql'), null);
  });

  it('transaction topic schemas (SchemaFactory.transactionKeySchema / transactionValueSchema)', () => {
    const tx = buildTransactionSchemas('tributary');
    assert.equal(tx.topic, 'tributary.transaction');
    assert.equal(
      schemaJson(tx.key),
      '{"type":"record","name":"TransactionMetadataKey","namespace":"io.debezium.connector.common",' +
        '"fields":[{"name":"id","type":"string"}],"connect.version":1,' +
        '"connect.name":"io.debezium.connector.common.TransactionMetadataKey"}',
    );
    assert.equal(
      schemaJson(tx.value),
      '{"type":"record","name":"TransactionMetadataValue","namespace":"io.debezium.connector.common",' +
        '"fields":[{"name":"status","type":"string"},{"name":"id","type":"string"},' +
        '{"name":"event_count","type":["null","long"],"default":null},' +
        '{"name":"data_collections","type":["null",{"type":"array","items":["null",' +
        '{"type":"record","name":"collection","namespace":"event","fields":[' +
        '{"name":"data_collection","type":"string"},{"name":"event_count","type":"long"}],' +
        '"connect.version":1,"connect.name":"event.collection"}]}],"default":null},' +
        '{"name":"ts_ms","type":"long"}],"connect.version":1,' +
        '"connect.name":"io.debezium.connector.common.TransactionMetadataValue"}',
    );
  });
});

describe('avro schemas: errors name the thing', () => {
  it('a column name Avro cannot carry', () => {
    const bad = { ...orders, columns: [...orders.columns, col('my-col', { kind: 'string' }, true)] };
    assert.throws(
      () => buildValueSchema('tributary.public.orders', bad, 'postgresql'),
      (err: unknown) => err instanceof AvroSchemaError && /field "my-col"/.test(err.message) && err.fix !== undefined,
    );
  });

  it('a topic that is not a valid Avro namespace', () => {
    assert.throws(() => buildValueSchema('my-server.public.orders', orders, 'postgresql'), /my-server\.public\.orders/);
  });

  it('a key column that is not in the table', () => {
    assert.throws(
      () => buildKeySchema('tributary.public.orders', { ...orders, key: ['nope'] }, 'postgresql'),
      /key column "nope" is not a column of table public\.orders/,
    );
  });
});

describe('avro encoder: envelopes, keys, caching', () => {
  const source = {
    connector: 'postgresql',
    name: 'tributary',
    tsMs: 1_700_000_000_123,
    snapshot: 'last',
    db: 'test',
    schema: 'public',
    table: 'orders',
    sequence: '["1","2"]',
    txId: 9_000_000_000n,
    lsn: 2n ** 40n,
    xmin: null,
  } as const;
  const row = {
    id: 7,
    customer_id: 2n ** 63n - 1n,
    qty: null,
    price: '10.50',
    discount: null,
    note: 'x',
    created_at: '2024-01-02T03:04:05.123456Z',
    ship_at: null,
    ship_date: null,
    ref: null,
    payload: null,
    tags: ['a', null],
  };
  const event = (op: ChangeEvent['op'], before: ChangeEvent['before'], after: ChangeEvent['after']): ChangeEvent => ({
    type: 'change',
    op,
    schema: orders,
    before,
    after,
    source,
    transaction: { id: '571:2', scope: '571:1', totalOrder: 3n, dataCollectionOrder: 1n },
    position: 'p',
  });
  const encoder = new AvroEventEncoder({ version: '3.6.1.Final', clock: () => 1_700_000_001_000 });
  const topic = 'tributary.public.orders';
  const decodeValue = (buf: Buffer) => typeFromJson(JSON.parse(schemaJson(encoder.valueType(topic, orders, 'postgresql')))).fromBuffer(buf);

  it('writes the envelope fields as Debezium does', () => {
    const decoded = decodeValue(encoder.encodeValue(topic, event('c', null, row))) as Record<string, unknown>;
    assert.equal(decoded.op, 'c');
    assert.equal(decoded.before, null);
    assert.equal((decoded.after as { customer_id: bigint }).customer_id, 9223372036854775807n);
    assert.deepEqual(plain(decoded.source), {
      version: '3.6.1.Final',
      connector: 'postgresql',
      name: 'tributary',
      ts_ms: 1_700_000_000_123n,
      snapshot: 'last',
      db: 'test',
      sequence: '["1","2"]',
      ts_us: 1_700_000_000_123_000n,
      ts_ns: 1_700_000_000_123_000_000n,
      schema: 'public',
      table: 'orders',
      txId: 9_000_000_000n,
      lsn: 2n ** 40n,
      xmin: null,
      origin: null,
      origin_lsn: null,
    });
    assert.deepEqual(plain(decoded.transaction), { id: '571:2', total_order: 3n, data_collection_order: 1n });
    assert.equal(decoded.ts_ms, 1_700_000_001_000n);
    assert.equal(decoded.ts_us, 1_700_000_001_000_000n);
    assert.equal(decoded.ts_ns, 1_700_000_001_000_000_000n);
  });

  it('source ts_us/ts_ns keep the microsecond commit time when the source has it (PostgreSQL), else derive from ts_ms', () => {
    const timestamps = (info: ChangeEvent['source']) => {
      const decoded = decodeValue(encoder.encodeValue(topic, { ...event('c', null, row), source: info })) as { source: Record<string, unknown> };
      return [decoded.source.ts_ms, decoded.source.ts_us, decoded.source.ts_ns];
    };
    // Debezium 3.5.0 against PostgreSQL 15: ts_us 1795588638028575, ts_ns ts_us × 1000.
    const precise = { ...source, tsMs: 1_795_588_638_028, tsUs: 1_795_588_638_028_575n };
    assert.deepEqual(timestamps(precise), [1_795_588_638_028n, 1_795_588_638_028_575n, 1_795_588_638_028_575_000n]);
    assert.deepEqual(timestamps(source), [1_700_000_000_123n, 1_700_000_000_123_000n, 1_700_000_000_123_000_000n]);
    assert.deepEqual(timestamps({ ...precise, tsUs: 1_795_588_638_028_999n }), [1_795_588_638_028n, 1_795_588_638_028_999n, 1_795_588_638_028_999_000n]);
  });

  it('the microsecond triple is cached per value and its ms is the floor', () => {
    const triples = microTimestampTriples();
    assert.equal(triples(1_500n), triples(1_500n));
    assert.deepEqual(triples(1_500n), { ms: 1n, us: 1_500n, ns: 1_500_000n });
    assert.deepEqual(triples(-1_500n), { ms: -2n, us: -1_500n, ns: -1_500_000n });
  });

  it('keys come from after, from before for deletes, and are null for truncates and keyless tables', () => {
    const keyType = encoder.keyType(topic, orders, 'postgresql');
    assert.ok(keyType);
    assert.deepEqual(plain(keyType.fromBuffer(encoder.encodeKey(topic, event('u', null, row)) ?? Buffer.alloc(0))), { id: 7 });
    const deleted = encoder.encodeKey(topic, event('d', { id: 8 }, null));
    assert.deepEqual(plain(keyType.fromBuffer(deleted ?? Buffer.alloc(0))), { id: 8 });
    assert.equal(encoder.encodeKey(topic, event('t', null, null)), null);
    const keyless = { ...event('c', null, row), schema: { ...orders, key: [] } };
    assert.equal(encoder.encodeKey(topic, keyless), null);
  });

  it('a delete whose before image has only the key fills NOT NULL columns with fallbacks', () => {
    const decoded = decodeValue(encoder.encodeValue(topic, event('d', { id: 8 }, null))) as Record<string, unknown>;
    const before = decoded.before as Record<string, unknown>;
    assert.equal(before.id, 8);
    assert.equal(before.customer_id, 0n);
    assert.equal(before.created_at, '1970-01-01T00:00:00Z');
    assert.equal(before.note, null);
    assert.equal(decoded.after, null);
  });

  it('caches Types per topic and table schema object (a source hands out a new object when the table changed)', () => {
    const valueType = (t: string, table: TableSchema) => encoder.valueType(t, table, 'postgresql');
    assert.equal(valueType(topic, orders), valueType(topic, orders));
    const changed = { ...orders, columns: [...orders.columns, col('extra', { kind: 'boolean' }, true)] };
    assert.notEqual(valueType(topic, orders), valueType(topic, changed));
    assert.notEqual(valueType(topic, orders), valueType('other.public.orders', orders));
  });

  it('transaction BEGIN and END values', () => {
    const tx = buildTransactionSchemas('tributary');
    const begin = { type: 'begin', id: '571:1', scope: '571:1', tsMs: 1000, position: 'p' } as const;
    assert.deepEqual(plain(tx.key.fromBuffer(encodeTransactionKey(tx, begin))), { id: '571:1' });
    assert.deepEqual(plain(tx.value.fromBuffer(encodeTransactionValue(tx, begin))), {
      status: 'BEGIN',
      id: '571:1',
      event_count: null,
      data_collections: null,
      ts_ms: 1000n,
    });
    const counts = new Map([
      ['test.public.orders', 2],
      ['test.public.items', 1],
    ]);
    const end = { type: 'end', id: '571:9', scope: '571:1', tsMs: 2000, counts, position: 'p' } as const;
    assert.deepEqual(plain(tx.value.fromBuffer(encodeTransactionValue(tx, end))), {
      status: 'END',
      id: '571:9',
      event_count: 3n,
      data_collections: [
        { data_collection: 'test.public.orders', event_count: 2n },
        { data_collection: 'test.public.items', event_count: 1n },
      ],
      ts_ms: 2000n,
    });
  });
});

describe('avro schemas: column defaults (connect.default and the Avro field default)', () => {
  // Columns may carry `defaultValue` (a neutral Value); Debezium's TableSchemaBuilder.addField puts it on the
  // field schema, AvroData turns it into connect.default plus the field default, and an optional field with a
  // default becomes [T, "null"]. Shapes cross-checked with real envelopes such as
  // {"name":"C2","type":{"type":"string","connect.default":"CV2"},"default":"CV2"}.
  const withDefaults: TableSchema = {
    id: { database: 'test', table: 'd' },
    key: ['a'],
    columns: [
      { ...col('a', { kind: 'int32' }, false), defaultValue: 5 },
      { ...col('b', { kind: 'string' }, true), defaultValue: 'x' },
      { ...col('c', { kind: 'timestamp', precision: 3 }, false), defaultValue: 0n },
      { ...col('d', { kind: 'float64' }, true), defaultValue: 2 },
      { ...col('e', { kind: 'decimal', precision: 5, scale: 2 }, false), defaultValue: '1.00' },
      { ...col('f', { kind: 'int64' }, false), defaultValue: 2n ** 63n - 1n },
      col('g', { kind: 'int32' }, false),
    ] as Column[],
  };

  it('prints each default as Debezium + AvroData would', () => {
    const text = schemaJson(buildValueSchema('tributary.test.d', withDefaults, 'mysql'));
    const fields = [
      '{"name":"a","type":{"type":"int","connect.default":5},"default":5}',
      '{"name":"b","type":[{"type":"string","connect.default":"x"},"null"],"default":"x"}',
      '{"name":"c","type":{"type":"long","connect.version":1,"connect.default":0,' +
        '"connect.name":"io.debezium.time.Timestamp"},"default":0}',
      '{"name":"d","type":[{"type":"double","connect.default":2.0},"null"],"default":2.0}',
      '{"name":"e","type":{"type":"bytes","scale":2,"precision":5,"connect.version":1,"connect.parameters":' +
        '{"scale":"2","connect.decimal.precision":"5"},"connect.default":"d",' +
        '"connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"},"default":"d"}',
      '{"name":"f","type":{"type":"long","connect.default":9223372036854775807},"default":9223372036854775807}',
      '{"name":"g","type":"int"}',
    ];
    assert.ok(text.includes(`"fields":[${fields.join(',')}]`), text);
  });

  it('a null in a NOT NULL column takes the column default before the type fallback', () => {
    const encoder = new AvroEventEncoder();
    const source = {
      connector: 'mysql',
      name: 'tributary',
      tsMs: 1,
      snapshot: 'false',
      db: 'test',
      table: 'd',
      serverId: 1n,
      gtid: null,
      file: 'f',
      pos: 4n,
      row: 0,
      thread: null,
      query: null,
    } as const;
    const before = { a: 1 };
    const event: ChangeEvent = {
      type: 'change',
      op: 'd',
      schema: withDefaults,
      before,
      after: null,
      source,
      transaction: null,
      position: 'p',
    };
    const type = encoder.valueType('tributary.test.d', withDefaults, 'mysql');
    const decoded = type.fromBuffer(encoder.encodeValue('tributary.test.d', event)) as { before: Record<string, unknown> };
    assert.equal(decoded.before.c, 0n);
    assert.equal(decoded.before.f, 9223372036854775807n);
    assert.equal(decoded.before.g, 0);
    assert.equal(decoded.before.b, null);
  });
});

describe('avro encoder: the binlog flavor comes from each event', () => {
  const mysqlSource = {
    connector: 'mysql',
    name: 'tributary',
    tsMs: 1_700_000_000_000,
    snapshot: 'false',
    db: 'test',
    table: 'items',
    serverId: 1n,
    gtid: '0-1-5',
    file: 'bin.000001',
    pos: 4n,
    row: 0,
    thread: null,
    query: null,
  } as const;
  const after = { id: 1, name: null, status: 'new', flags: null, made: null, t: null, dt: 0n, ts: null, big: null, b: new Uint8Array(2) };
  const event = (connector: 'mysql' | 'mariadb'): ChangeEvent => ({
    type: 'change',
    op: 'c',
    schema: items,
    before: null,
    after,
    source: { ...mysqlSource, connector },
    transaction: null,
    position: 'p',
  });
  const topic = 'tributary.test.items';

  it("a MariaDB event gets the MariaDB connector's source schema and connector", () => {
    const encoder = new AvroEventEncoder();
    const type = encoder.valueType(topic, items, 'mariadb');
    assert.equal(schemaJson(type), schemaJson(buildValueSchema(topic, items, 'mariadb')));
    const decoded = typeFromJson(JSON.parse(schemaJson(type))).fromBuffer(encoder.encodeValue(topic, event('mariadb'))) as {
      source: Record<string, unknown>;
    };
    assert.equal(decoded.source.connector, 'mariadb');
    assert.equal(decoded.source.gtid, '0-1-5');
    assert.notEqual(encoder.valueType(topic, items, 'mysql'), type, 'Types are cached per flavor');
    const mysql = typeFromJson(JSON.parse(schemaJson(encoder.valueType(topic, items, 'mysql')))).fromBuffer(
      encoder.encodeValue(topic, event('mysql')),
    ) as { source: Record<string, unknown> };
    assert.equal(mysql.source.connector, 'mysql');
  });
});
