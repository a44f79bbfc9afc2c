/**
 * Every FieldType kind: its Avro schema, and a value encoded with the generated Type and decoded with a Type
 * rebuilt from the registered schema text (what a consumer does).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UNAVAILABLE, type ChangeEvent, type Value } from '../../src/model/change.js';
import type { Column, FieldType, TableSchema } from '../../src/model/schema.js';
import {
  AvroEventEncoder,
  AvroValueError,
  UNAVAILABLE_PLACEHOLDER,
  fromTwosComplement,
  schemaJson,
  type SourceKind,
} from '../../src/avro/index.js';
import { typeFromJson } from '../../src/avro/avro-type.js';
import { twosComplement } from '../../src/avro/values.js';
import type { AvroSchemaJson } from '../../src/avro/avro-data.js';

const pgSource = {
  connector: 'postgresql',
  name: 'tributary',
  tsMs: 1_700_000_000_123,
  snapshot: 'false',
  db: 'test',
  schema: 'public',
  table: 't',
  sequence: '["100","200"]',
  txId: 42n,
  lsn: 200n,
  xmin: null,
} as const;

const mysqlSource = {
  connector: 'mysql',
  name: 'tributary',
  tsMs: 1_700_000_000_000,
  snapshot: 'true',
  db: 'test',
  table: 't',
  serverId: 1n,
  gtid: null,
  file: 'mysql-bin.000003',
  pos: 154n,
  row: 0,
  thread: 7n,
  query: null,
} as const;

function tableOf(columns: Column[], kind: SourceKind): TableSchema {
  return kind === 'postgresql'
    ? { id: { database: 'test', schema: 'public', table: 't' }, columns, key: [] }
    : { id: { database: 'test', table: 't' }, columns, key: [] };
}

/** Encodes one row through the encoder and decodes `after` with a Type parsed from the registered schema. */
function roundTrip(type: FieldType, value: Value, opts: { nullable?: boolean; kind?: SourceKind } = {}) {
  const kind = opts.kind ?? 'postgresql';
  const column: Column = { name: 'c', type, nullable: opts.nullable ?? false, sourceType: type.kind };
  const table = tableOf([column], kind);
  const encoder = new AvroEventEncoder({ clock: () => 1_700_000_000_999 });
  const event: ChangeEvent = {
    type: 'change',
    op: 'c',
    schema: table,
    before: null,
    after: { c: value },
    source: kind === 'postgresql' ? pgSource : mysqlSource,
    transaction: null,
    position: 'p',
  };
  const valueType = encoder.valueType('tributary.t', table, kind);
  const registered = JSON.parse(schemaJson(valueType)) as { fields: { name: string; type: unknown[] }[] };
  const decoded = typeFromJson(registered as AvroSchemaJson).fromBuffer(encoder.encodeValue('tributary.t', event)) as {
    after: { c: unknown };
  };
  const before = registered.fields[0]?.type[1] as { fields: { name: string; type: unknown }[] };
  return { decoded: decoded.after.c, fieldSchema: before.fields[0]?.type, envelope: decoded };
}

const conn = (name: string, type: string, params?: Record<string, string>) =>
  params === undefined
    ? { type, 'connect.version': 1, 'connect.name': name }
    : { type, 'connect.version': 1, 'connect.parameters': params, 'connect.name': name };

const decimalSchema = (scale: number, precision: number) => ({
  type: 'bytes',
  scale,
  precision,
  'connect.version': 1,
  'connect.parameters': { scale: String(scale), 'connect.decimal.precision': String(precision) },
  'connect.name': 'org.apache.kafka.connect.data.Decimal',
  logicalType: 'decimal',
});

interface Case {
  readonly name: string;
  readonly type: FieldType;
  readonly value: Value;
  readonly expected: unknown;
  readonly schema: unknown;
  readonly kind?: SourceKind;
}

const u8 = (...bytes: number[]) => new Uint8Array(bytes);

const cases: Case[] = [
  { name: 'boolean', type: { kind: 'boolean' }, value: true, expected: true, schema: 'boolean' },
  { name: 'int8', type: { kind: 'int8' }, value: -128, expected: -128, schema: { type: 'int', 'connect.type': 'int8' } },
  { name: 'int16', type: { kind: 'int16' }, value: 32767, expected: 32767, schema: { type: 'int', 'connect.type': 'int16' } },
  { name: 'int32', type: { kind: 'int32' }, value: -2147483648, expected: -2147483648, schema: 'int' },
  { name: 'int64 max', type: { kind: 'int64' }, value: 2n ** 63n - 1n, expected: 9223372036854775807n, schema: 'long' },
  { name: 'int64 min', type: { kind: 'int64' }, value: -(2n ** 63n), expected: -9223372036854775808n, schema: 'long' },
  { name: 'float32', type: { kind: 'float32' }, value: 1.5, expected: 1.5, schema: 'float' },
  { name: 'float64 NaN', type: { kind: 'float64' }, value: NaN, expected: NaN, schema: 'double' },
  { name: 'float64 -Infinity', type: { kind: 'float64' }, value: -Infinity, expected: -Infinity, schema: 'double' },
  { name: 'string', type: { kind: 'string' }, value: 'héllo ✓', expected: 'héllo ✓', schema: 'string' },
  { name: 'bytes', type: { kind: 'bytes' }, value: u8(0, 255, 7), expected: Buffer.from([0, 255, 7]), schema: 'bytes' },
  {
    name: 'uuid',
    type: { kind: 'uuid' },
    value: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    expected: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    schema: conn('io.debezium.data.Uuid', 'string'),
  },
  { name: 'json', type: { kind: 'json' }, value: '{"a": 1}', expected: '{"a": 1}', schema: conn('io.debezium.data.Json', 'string') },
  { name: 'xml', type: { kind: 'xml' }, value: '<a/>', expected: '<a/>', schema: conn('io.debezium.data.Xml', 'string') },
  {
    name: 'enum',
    type: { kind: 'enum', symbols: ['a', 'b', 'c'] },
    value: 'b',
    expected: 'b',
    schema: conn('io.debezium.data.Enum', 'string', { allowed: 'a,b,c' }),
  },
  {
    name: 'set',
    type: { kind: 'set', symbols: ['x', 'y', 'z'] },
    value: 'x,z',
    expected: 'x,z',
    schema: conn('io.debezium.data.EnumSet', 'string', { allowed: 'x,y,z' }),
    kind: 'mysql',
  },
  { name: 'bit(1)', type: { kind: 'bits', length: 1 }, value: true, expected: true, schema: 'boolean' },
  {
    name: 'bit(12)',
    type: { kind: 'bits', length: 12 },
    value: u8(0x0f, 0xa5),
    expected: Buffer.from([0x0f, 0xa5]),
    schema: conn('io.debezium.data.Bits', 'bytes', { length: '12' }),
  },
  { name: 'date before 1970', type: { kind: 'date' }, value: -1, expected: -1, schema: conn('io.debezium.time.Date', 'int') },
  {
    name: 'time(3) postgresql → Time ms',
    type: { kind: 'time', precision: 3 },
    value: 45_296_789_000n,
    expected: 45_296_789,
    schema: conn('io.debezium.time.Time', 'int'),
  },
  {
    name: 'time(6) postgresql → MicroTime',
    type: { kind: 'time', precision: 6 },
    value: 45_296_789_123n,
    expected: 45_296_789_123n,
    schema: conn('io.debezium.time.MicroTime', 'long'),
  },
  {
    name: 'time(0) mysql → MicroTime (adaptive_time_microseconds)',
    type: { kind: 'time', precision: 0 },
    value: -3_600_000_000n,
    expected: -3_600_000_000n,
    schema: conn('io.debezium.time.MicroTime', 'long'),
    kind: 'mysql',
  },
  {
    name: 'timestamp(3) before 1970 → Timestamp ms, floored',
    type: { kind: 'timestamp', precision: 3 },
    value: -1_500n,
    expected: -2n,
    schema: conn('io.debezium.time.Timestamp', 'long'),
  },
  {
    name: 'timestamp(6) before 1970 → MicroTimestamp',
    type: { kind: 'timestamp', precision: 6 },
    value: -86_400_000_001n,
    expected: -86_400_000_001n,
    schema: conn('io.debezium.time.MicroTimestamp', 'long'),
  },
  {
    name: 'datetime(0) mysql → Timestamp ms',
    type: { kind: 'timestamp', precision: 0 },
    value: 1_700_000_000_000_000n,
    expected: 1_700_000_000_000n,
    schema: conn('io.debezium.time.Timestamp', 'long'),
    kind: 'mysql',
  },
  {
    name: 'timestamptz',
    type: { kind: 'timestamptz', precision: 6 },
    value: '2024-01-02T03:04:05.123456Z',
    expected: '2024-01-02T03:04:05.123456Z',
    schema: conn('io.debezium.time.ZonedTimestamp', 'string'),
  },
  {
    name: 'mysql TIMESTAMP → ZonedTimestamp',
    type: { kind: 'timestamptz', precision: 0 },
    value: '2024-01-02T03:04:05Z',
    expected: '2024-01-02T03:04:05Z',
    schema: conn('io.debezium.time.ZonedTimestamp', 'string'),
    kind: 'mysql',
  },
  { name: 'timetz', type: { kind: 'timetz' }, value: '03:04:05Z', expected: '03:04:05Z', schema: conn('io.debezium.time.ZonedTime', 'string') },
  {
    name: 'interval',
    type: { kind: 'interval' },
    value: -2_592_000_000_000n,
    expected: -2_592_000_000_000n,
    schema: conn('io.debezium.time.MicroDuration', 'long'),
  },
  { name: 'year', type: { kind: 'year' }, value: 2024, expected: 2024, schema: conn('io.debezium.time.Year', 'int'), kind: 'mysql' },
  {
    name: 'int4[] with a null',
    type: { kind: 'array', items: { kind: 'int32' } },
    value: [1, null, -3],
    expected: [1, null, -3],
    schema: { type: 'array', items: ['null', 'int'] },
  },
  {
    name: 'int8[]',
    type: { kind: 'array', items: { kind: 'int64' } },
    value: [2n ** 62n],
    expected: [2n ** 62n],
    schema: { type: 'array', items: ['null', 'long'] },
  },
];

describe('avro values: every kind round-trips through the registered schema', () => {
  for (const c of cases) {
    it(c.name, () => {
      const { decoded, fieldSchema } = roundTrip(c.type, c.value, c.kind === undefined ? {} : { kind: c.kind });
      assert.deepEqual(fieldSchema, c.schema);
      assert.deepEqual(decoded, c.expected);
    });
  }

  it('a nullable column becomes ["null", T] with default null and carries null', () => {
    const { decoded, fieldSchema } = roundTrip({ kind: 'int16' }, null, { nullable: true });
    assert.deepEqual(fieldSchema, ['null', { type: 'int', 'connect.type': 'int16' }]);
    assert.equal(decoded, null);
  });
});

describe('avro values: decimals', () => {
  const fixed = (precision: number, scale: number, text: string) => {
    const { decoded, fieldSchema } = roundTrip({ kind: 'decimal', precision, scale }, text);
    assert.deepEqual(fieldSchema, decimalSchema(scale, precision));
    return fromTwosComplement(decoded as Buffer);
  };

  it('encodes the unscaled value at the column scale', () => {
    assert.equal(fixed(10, 2, '-12.3'), -1230n);
    assert.equal(fixed(10, 2, '0'), 0n);
    assert.equal(fixed(10, 2, '-0.01'), -1n);
    assert.equal(fixed(38, 10, '1234567890123456789012345678.1234567890'), 12345678901234567890123456781234567890n);
    assert.equal(fixed(38, 10, '-1234567890123456789012345678.1234567890'), -12345678901234567890123456781234567890n);
    assert.equal(fixed(65, 30, '-0.000000000000000000000000000001'), -1n);
    assert.equal(fixed(20, 0, '18446744073709551615'), 18446744073709551615n);
  });

  it('writes minimal two\'s-complement bytes, as BigInteger.toByteArray', () => {
    const bytes = (text: string) => [...(roundTrip({ kind: 'decimal', precision: 10, scale: 0 }, text).decoded as Buffer)];
    assert.deepEqual(bytes('0'), [0x00]);
    assert.deepEqual(bytes('127'), [0x7f]);
    assert.deepEqual(bytes('128'), [0x00, 0x80]);
    assert.deepEqual(bytes('-128'), [0x80]);
    assert.deepEqual(bytes('-129'), [0xff, 0x7f]);
    assert.deepEqual(bytes('-256'), [0xff, 0x00]);
  });

  it('a decimal with a scale but no precision (PostgreSQL money) has no connect.decimal.precision', () => {
    const { decoded, fieldSchema } = roundTrip({ kind: 'decimal', scale: 2 }, '-92233720368547758.08');
    assert.deepEqual(fieldSchema, {
      type: 'bytes',
      scale: 2,
      precision: 64,
      'connect.version': 1,
      'connect.parameters': { scale: '2' },
      'connect.name': 'org.apache.kafka.connect.data.Decimal',
      logicalType: 'decimal',
    });
    assert.equal(fromTwosComplement(decoded as Buffer), -9223372036854775808n);
  });

  it('accepts surplus trailing zeros but never rounds', () => {
    assert.equal(fixed(10, 2, '1.500'), 150n);
  });

  it('a value with more fractional digits than the scale is an error naming the column', () => {
    assert.throws(
      () => roundTrip({ kind: 'decimal', precision: 10, scale: 2 }, '1.234'),
      (err: unknown) =>
        err instanceof AvroValueError &&
        err.message.includes('public.t.c') &&
        err.message.includes('3 fractional digits') &&
        err.message.includes('scale is 2'),
    );
  });

  it('NaN cannot be a precise decimal', () => {
    assert.throws(() => roundTrip({ kind: 'decimal', precision: 10, scale: 2 }, 'NaN'), /public\.t\.c.*NaN/);
    assert.throws(() => roundTrip({ kind: 'decimal' }, 'NaN'), AvroValueError);
  });

  it('a numeric without typmod is a VariableScaleDecimal with trailing zeros stripped', () => {
    const variable = (text: string) => {
      const { decoded } = roundTrip({ kind: 'decimal' }, text);
      const v = decoded as { scale: number; value: Buffer };
      return [v.scale, fromTwosComplement(v.value)];
    };
    assert.deepEqual(variable('1.50'), [1, 15n]);
    assert.deepEqual(variable('100'), [0, 100n]);
    assert.deepEqual(variable('0.000'), [0, 0n]);
    assert.deepEqual(variable('-123456789012345678901234567890.000123'), [6, -123456789012345678901234567890000123n]);
  });
});

describe('avro values: Debezium special cases', () => {
  it('null in a NOT NULL column becomes the converter fallback (delete before-images with only the key)', () => {
    assert.equal(roundTrip({ kind: 'int32' }, null).decoded, 0);
    assert.equal(roundTrip({ kind: 'int64' }, null).decoded, 0n);
    assert.equal(roundTrip({ kind: 'string' }, null).decoded, '');
    assert.equal(roundTrip({ kind: 'timestamptz', precision: 6 }, null).decoded, '1970-01-01T00:00:00Z');
    assert.equal(fromTwosComplement(roundTrip({ kind: 'decimal', precision: 5, scale: 2 }, null).decoded as Buffer), 0n);
  });

  it('UNAVAILABLE becomes the placeholder as a string, bytes, or one-element array', () => {
    assert.equal(roundTrip({ kind: 'string' }, UNAVAILABLE, { nullable: true }).decoded, UNAVAILABLE_PLACEHOLDER);
    assert.equal(roundTrip({ kind: 'json' }, UNAVAILABLE).decoded, UNAVAILABLE_PLACEHOLDER);
    assert.deepEqual(roundTrip({ kind: 'bytes' }, UNAVAILABLE).decoded, Buffer.from(UNAVAILABLE_PLACEHOLDER));
    assert.deepEqual(roundTrip({ kind: 'array', items: { kind: 'string' } }, UNAVAILABLE).decoded, [
      UNAVAILABLE_PLACEHOLDER,
    ]);
    const ints = roundTrip({ kind: 'array', items: { kind: 'int32' } }, UNAVAILABLE).decoded;
    assert.deepEqual(ints, [...Buffer.from(UNAVAILABLE_PLACEHOLDER)]);
    // UUID.nameUUIDFromBytes("__debezium_unavailable_value".getBytes()), as UnchangedToastedPlaceholder computes it.
    const uuids = roundTrip({ kind: 'array', items: { kind: 'uuid' } }, UNAVAILABLE).decoded as string[];
    assert.match(uuids[0] ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('UNAVAILABLE in a type PostgreSQL never TOASTs is an error naming the column', () => {
    assert.throws(() => roundTrip({ kind: 'int32' }, UNAVAILABLE), /public\.t\.c.*unavailable/);
  });

  it('a value of the wrong JavaScript type is an error naming the column', () => {
    assert.throws(() => roundTrip({ kind: 'int64' }, 'x'), /public\.t\.c \(int64\) expects a bigint/);
    assert.throws(() => roundTrip({ kind: 'int32' }, 1.5), /expects an integer/);
  });
});

it('fromTwosComplement reads every width, both signs, as twosComplement wrote it', () => {
  const values = [0n, 1n, -1n, 127n, -128n, 128n, -129n, 2n ** 47n - 1n, -(2n ** 47n), 2n ** 47n, -(2n ** 47n) - 1n, 2n ** 63n, -(2n ** 100n) + 7n];
  for (const value of values) assert.equal(fromTwosComplement(twosComplement(value)), value, String(value));
  assert.equal(fromTwosComplement(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xfe)), -2n);
  assert.equal(fromTwosComplement(Uint8Array.of(0x00, 0xff)), 255n);
});

it('longs read back exactly across the whole signed 64-bit range, and a truncated one is refused', () => {
  const long = typeFromJson('long');
  const values = [0n, 1n, -1n, 63n, -64n, 64n, 2n ** 48n - 1n, -(2n ** 48n), 2n ** 48n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 1_764_000_000_123_456_789n, 2n ** 63n - 1n, -(2n ** 63n)];
  for (const value of values) assert.equal(long.fromBuffer(long.toBuffer(value)), value, String(value));
  const record = typeFromJson({ type: 'record', name: 'r', fields: [{ name: 'a', type: 'long' }, { name: 'b', type: 'long' }] });
  assert.deepEqual({ ...record.fromBuffer(record.toBuffer({ a: -(2n ** 62n), b: 5n })) }, { a: -(2n ** 62n), b: 5n });
  const bytes = long.toBuffer(2n ** 60n);
  assert.throws(() => long.fromBuffer(bytes.subarray(0, 3)), /truncated/);
  assert.throws(() => long.fromBuffer(bytes.subarray(0, bytes.length - 1)), /truncated/);
});
