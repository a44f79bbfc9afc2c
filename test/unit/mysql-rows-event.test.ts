/**
 * Rows events decoded into neutral Values: first the bytes MariaDB 10.11 wrote for a table of every supported type
 * (mysql-rows-events.json: edge values, NULLs, zero dates, an update with full images and, with
 * binlog_row_image=MINIMAL, an update and a delete with partial ones), then events built here for each type's
 * layouts and extremes, v2 and compressed events, and every failure. Where zongji decoded the same bytes
 * correctly, toValue over its output must give the same Values: that was the binlog path before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { deflateRawSync, deflateSync } from 'node:zlib';
import type { Row, Value } from '../../src/model/change.js';
import { SourceError } from '../../src/model/errors.js';
import type { Column, FieldType } from '../../src/model/schema.js';
import { parseRowsEvent, rowsEventOp, rowsEventTableId, RowsDecoder, type RowImage } from '../../src/sources/mysql/rows-event.js';
import { parseTableMap, type TableMap } from '../../src/sources/mysql/table-map.js';
import { fieldTypeOf, toValue } from '../../src/sources/mysql/types.js';
import { binlogEvent, compressedPayload } from '../support/binlog-bytes.js';
import { decimalBinary, encodeJsonBinary, json } from '../support/mysql-json-binary.js';
import { zongjiDecoder, zongjiTableColumns, zongjiTableMap, type ZongjiTable } from '../support/zongji-decode.js';

// --- captured from MariaDB -------------------------------------------------------------------------------------
//
// Table map and rows event pairs, as BinlogClient's packet tap saw them, of
//   CREATE TABLE fixture_types (id INT PRIMARY KEY, ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT,
//     siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED, bi BIGINT,
//     biu BIGINT UNSIGNED, d DECIMAL(65,30), d2 DECIMAL(10,2), d0 DECIMAL(18,0), d5 DECIMAL(5,5), f FLOAT, db DOUBLE,
//     b1 BIT(1), b9 BIT(9), b64 BIT(64), c CHAR(5) CHARACTER SET latin1, tl TEXT CHARACTER SET latin1,
//     v VARCHAR(300) CHARACTER SET utf8mb4, t TEXT CHARACTER SET utf8mb4, bin BINARY(4), vb VARBINARY(10), bl BLOB,
//     dt DATE, dtn DATE NOT NULL DEFAULT '2000-01-01', tm TIME, tm3 TIME(3), tm6 TIME(6), dtm0 DATETIME … dtm6
//     DATETIME(6), dtmn DATETIME NOT NULL DEFAULT '2000-01-01 00:00:00', ts TIMESTAMP NULL, ts3 TIMESTAMP(3) NULL,
//     ts6 TIMESTAMP(6) NULL, tsn TIMESTAMP(2) NOT NULL DEFAULT '2000-01-01 00:00:00', y YEAR,
//     e ENUM('a','b,c','it''s'), s SET('x','y','z'), j JSON)
// then, with sql_mode '', the INSERTs, UPDATEs and DELETE whose rows EXPECTED lists. A SELECT of the inserted rows
// read the same Values through toRow.

const captured = (JSON.parse(readFileSync(new URL('./mysql-rows-events.json', import.meta.url), 'utf8')) as { hex: string }[]).map((e) =>
  Buffer.from(e.hex, 'hex'),
);

const readTableMap = (event: Buffer): TableMap => parseTableMap(event, { checksum: true, flavor: 'mariadb' });

const NOT_NULL = new Set(['id', 'dtn', 'dtmn', 'tsn']);

/** The table schema the stream would build: the table map's types, MariaDB's JSON by its CHECK constraint. */
function schemaColumns(map: TableMap): Column[] {
  return map.columns.map(({ name, columnType }) => ({
    name,
    type: fieldTypeOf('test.fixture_types', { name, columnType, json: name === 'j' }),
    nullable: !NOT_NULL.has(name),
    sourceType: columnType,
  }));
}

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const T0 = 1704164645n * 1_000_000n; // 2024-01-02 03:04:05 UTC

/** Column → [the first INSERTed row, the second]: negative/unsigned extremes, DATETIME(0..6), text in two charsets. */
const INSERTED: Record<string, [Value, Value]> = {
  id: [1, 2],
  ti: [-128, 127],
  tiu: [255, 0],
  si: [-32768, 32767],
  siu: [65535, 0],
  mi: [-8388608, 8388607],
  miu: [16777215, 0],
  i: [-2147483648, 2147483647],
  iu: [4294967295n, 0n],
  bi: [-9223372036854775808n, 9223372036854775807n],
  biu: [-1n, -9223372036854775808n], // BIGINT UNSIGNED 2^64-1 and 2^63 wrap like Java's long
  d: ['-12345678901234567890123456789012345.012345678901234567890123456789', '12345678901234567890123456789012345.000000000000000000000000000001'],
  d2: ['-0.50', '0.00'],
  d0: ['999999999999999999', '-999999999999999999'],
  d5: ['0.00001', '-0.99999'],
  f: [Math.fround(1.1), -3.4028234663852886e38],
  db: [0.30000000000000004, -1.7976931348623157e308],
  b1: [true, false],
  b9: [bytes(1, 1), bytes(0, 0)],
  b64: [bytes(255, 255, 255, 255, 255, 255, 255, 255), bytes(0, 0, 0, 0, 0, 0, 0, 0)],
  c: ['déjà', ''],
  tl: ['€\u0081\u009dŸé', '€'], // latin1 x'80819d9fe9' as the server converts it
  v: ['héllo 😀', ''],
  t: ['long ✓ text', ''],
  bin: [bytes(1, 2, 0, 0), bytes(0, 0, 0, 0)],
  vb: [bytes(0xff, 0), bytes()],
  bl: [bytes(0, 0xff, 0x10), bytes()],
  dt: [19782, -354285], // 2024-02-29, 1000-01-01
  dtn: [10956, -354285],
  tm: [3020399000000n, -3600000000n], // 838:59:59, -01:00:00
  tm3: [-1000n, -45000000000n], // -00:00:00.001, -12:30:00.000
  tm6: [-3020399000001n, 500000n], // -838:59:59.000001, 00:00:00.5
  dtm0: [T0, -30610224000000000n], // 1000-01-01 00:00:00
  dtm1: [T0 + 100000n, 253402300799900000n], // 9999-12-31 23:59:59.9
  dtm2: [T0 + 120000n, -62135596799990000n], // 0001-01-01 00:00:00.01
  dtm3: [T0 + 123000n, -1000n], // 1969-12-31 23:59:59.999
  dtm4: [T0 + 123400n, 100n],
  dtm5: [T0 + 123450n, 9006768000000010n], // 2255-06-01 00:00:00.00001: µs beyond 2^53
  dtm6: [T0 + 123456n, 253402300799999999n],
  dtmn: [253402300799000000n, -30610224000000000n],
  ts: ['1970-01-01T00:00:01Z', '2038-01-19T03:14:07Z'],
  ts3: ['2038-01-19T03:14:07.999Z', '1970-01-01T00:00:01.001Z'],
  ts6: ['2024-01-02T03:04:05.654321Z', '1999-12-31T23:59:59.999999Z'],
  tsn: ['2024-01-02T03:04:05.65Z', '1970-01-01T00:00:01.00Z'],
  y: [2024, 0],
  e: ["it's", ''], // '' is what MySQL stores for a value the ENUM lacks
  s: ['x,z', ''],
  j: ['{"a": [1, 2.5, "x"], "k": null}', '[]'],
};

const NAMES = Object.keys(INSERTED);
const nulls = (values: Record<string, Value>): Row => Object.fromEntries(NAMES.map((name) => [name, values[name] ?? null]));
const inserted = (index: 0 | 1): Row => Object.fromEntries(NAMES.map((name) => [name, INSERTED[name]![index]]));

const EXPECTED: { op: 'c' | 'u' | 'd'; images: RowImage[] }[] = [
  { op: 'c', images: [{ before: null, after: inserted(0) }, { before: null, after: inserted(1) }] },
  // Only the NOT NULL columns' defaults.
  { op: 'c', images: [{ before: null, after: nulls({ id: 3, dtn: 10957, dtmn: 946684800000000n, tsn: '2000-01-01T00:00:00.00Z' }) }] },
  // Zero dates: null when nullable, the epoch when NOT NULL; a zero month is a zero date; YEAR 0; an ENUM index
  // the column lacks; BIT(64)'s top and bottom bits.
  {
    op: 'c',
    images: [
      {
        before: null,
        after: nulls({ id: 4, dtn: 0, dtmn: 0n, tsn: '1970-01-01T00:00:00.00Z', y: 0, e: '', s: 'x,y,z', b64: bytes(1, 0, 0, 0, 0, 0, 0, 0x80) }),
      },
    ],
  },
  { op: 'u', images: [{ before: inserted(0), after: { ...inserted(0), v: 'changed', dtm6: 1746421505000005n } }] },
  // binlog_row_image=MINIMAL: the key before, the changed columns after.
  { op: 'u', images: [{ before: nulls({ id: 2 }), after: nulls({ tm: -1000000n, e: 'a' }) }] },
  { op: 'd', images: [{ before: nulls({ id: 3 }), after: null }] },
];

test('rows events MariaDB wrote decode to the Values the snapshot reads for the same rows', () => {
  const decoded: { op: string; images: RowImage[] }[] = [];
  for (let i = 0; i < captured.length; i += 2) {
    const map = readTableMap(captured[i]!);
    const event = parseRowsEvent(captured[i + 1]!, true);
    assert.equal(event.tableId, map.tableId, 'the rows event names its table map');
    decoded.push({ op: event.op, images: new RowsDecoder('test.fixture_types', map.columns, schemaColumns(map)).decode(event) });
  }
  assert.equal(decoded.length, EXPECTED.length);
  for (let i = 0; i < EXPECTED.length; i++) assert.deepEqual(decoded[i], EXPECTED[i], `event ${i}`);
});

test('on those bytes zongji and toValue gave the same Values, but where zongji got them wrong', () => {
  const zongji = zongjiDecoder(true);
  const differences: string[] = [];
  for (let i = 0; i < captured.length; i += 2) {
    zongjiTableMap(zongji, captured[i]!);
    const map = readTableMap(captured[i]!);
    const columns = schemaColumns(map);
    const ours = new RowsDecoder('test.fixture_types', map.columns, columns).decode(parseRowsEvent(captured[i + 1]!, true));
    const theirs = zongji.decode(captured[i + 1]!).rows as Record<string, unknown>[];
    theirs.forEach((raw, r) => {
      const images = 'before' in raw && 'after' in raw ? [raw.before, raw.after] : [raw];
      const ourImages = [ours[r]!.before, ours[r]!.after].filter((image) => image !== null);
      images.forEach((image, side) => {
        for (const column of columns) {
          // JSON is not compared: zongji printed it its own way, which is why the bytes were handed to toValue.
          if (column.name === 'j') continue;
          const value = toValue(column.type, (image as Record<string, unknown>)[column.name], column.nullable);
          const our = ourImages[side]![column.name];
          if (!isDeepStrictEqual(value, our)) differences.push(`${i / 2}.${r}.${side} ${column.name}: zongji ${String(value)}, now ${String(our)}`);
        }
      });
    });
  }
  assert.deepEqual(differences, [
    // latin1's five bytes cp1252 leaves undefined came out as U+FFFD; the server reads them as C1 controls.
    '0.0.0 tl: zongji €\ufffd\ufffdŸé, now €\u0081\u009dŸé',
    // A negative TIME without fraction whose seconds are 0 came out wrong: '-01:00:00' as -00:63:64.
    '0.1.0 tm: zongji -3844000000, now -3600000000',
    '0.1.0 tm3: zongji -45004000000, now -45000000000',
    // YEAR 0 ('0000') came out as 1900; an ENUM index the column lacks as null, where the snapshot reads ''.
    '0.1.0 y: zongji 1900, now 0',
    '0.1.0 e: zongji null, now ',
    '2.0.0 y: zongji 1900, now 0',
    '2.0.0 e: zongji null, now ',
    '3.0.0 tl: zongji €\ufffd\ufffdŸé, now €\u0081\u009dŸé',
    '3.0.1 tl: zongji €\ufffd\ufffdŸé, now €\u0081\u009dŸé',
  ]);
});

// --- built here ------------------------------------------------------------------------------------------------

/** enum_field_types codes. */
const T = {
  DECIMAL: 0, TINY: 1, SHORT: 2, LONG: 3, FLOAT: 4, DOUBLE: 5, TIMESTAMP: 7, LONGLONG: 8, INT24: 9, DATE: 10, TIME: 11,
  DATETIME: 12, YEAR: 13, VARCHAR: 15, BIT: 16, TIMESTAMP2: 17, DATETIME2: 18, TIME2: 19, BLOB_COMPRESSED: 140,
  VARCHAR_COMPRESSED: 141, JSON: 245, NEWDECIMAL: 246, ENUM: 247, SET: 248, BLOB: 252, STRING: 254, GEOMETRY: 255,
} as const;

/** A column as zongji describes it (metadata in its spelling) and as the table schema captures it. */
interface Spec {
  readonly type: number;
  readonly columnType: string;
  readonly field: FieldType;
  readonly metadata?: Record<string, number>;
  readonly charset?: string | null;
  /** The table map's signedness, where it has one (binlog_row_metadata=FULL). */
  readonly unsigned?: boolean;
  readonly nullable?: boolean;
}

const ID: Spec = { type: T.LONG, columnType: 'int', field: { kind: 'int32' }, unsigned: false, nullable: false };

function zongjiTable(specs: Readonly<Record<string, Spec>>): ZongjiTable {
  const entries = Object.entries(specs);
  return {
    parentSchema: 'db',
    tableName: 't',
    columnSchemas: entries.map(([name, s]) => ({
      COLUMN_NAME: name,
      COLUMN_TYPE: s.columnType,
      ...(s.unsigned === undefined ? {} : { UNSIGNED: s.unsigned }),
      // As zongji reads them from binlog_row_metadata=FULL.
      ...(s.field.kind === 'enum' ? { ENUM_VALUES: s.field.symbols } : s.field.kind === 'set' ? { SET_VALUES: s.field.symbols } : {}),
    })),
    columns: entries.map(([name, s]) => ({ name, type: s.type, charset: s.charset ?? null, metadata: s.metadata ?? {} })),
  };
}

function columnsOf(specs: Readonly<Record<string, Spec>>, captured = Object.keys(specs)): Column[] {
  return captured.map((name) => ({ name, type: specs[name]!.field, nullable: specs[name]!.nullable ?? true, sourceType: specs[name]!.columnType }));
}

function bitmap(count: number, present: (i: number) => boolean): Buffer {
  const out = Buffer.alloc((count + 7) >> 3);
  for (let i = 0; i < count; i++) if (present(i)) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** A row image of the present columns' values (null for NULL). */
function image(values: readonly (Buffer | null)[]): Buffer {
  return Buffer.concat([bitmap(values.length, (i) => values[i] === null), ...values.filter((v): v is Buffer => v !== null)]);
}

interface EventShape {
  readonly type?: number;
  readonly tableId?: number;
  /** Present columns of the (before) image; all by default. */
  readonly present?: readonly number[];
  readonly presentAfter?: readonly number[];
  /** v2's extra data after its length. */
  readonly extra?: Buffer;
}

const COMPRESSED = new Set([166, 167, 168, 169, 170, 171]);
const V2 = new Set([30, 31, 32, 169, 170, 171]);

function rowsEvent(columnCount: number, images: readonly Buffer[], shape: EventShape = {}): Buffer {
  const type = shape.type ?? 23;
  const head = Buffer.alloc(8);
  head.writeUIntLE(shape.tableId ?? 77, 0, 6);
  const extra = shape.extra ?? Buffer.alloc(0);
  const extraLength = Buffer.alloc(2);
  extraLength.writeUInt16LE(2 + extra.length);
  const present = (list: readonly number[] | undefined): Buffer => bitmap(columnCount, (i) => list === undefined || list.includes(i));
  const op = rowsEventOp(type);
  const body = Buffer.concat(images);
  return binlogEvent(
    type,
    Buffer.concat([
      head,
      ...(V2.has(type) ? [extraLength, extra] : []),
      Buffer.from([columnCount]),
      present(shape.present),
      ...(op === 'u' ? [present(shape.presentAfter)] : []),
      COMPRESSED.has(type) ? compressedPayload(body) : body,
    ]),
  );
}

/** One WRITE_ROWS event of table (id, v), a row per value; decoded here and by zongji with toValue. */
function decodeBoth(spec: Spec, values: readonly (Buffer | null)[]): { ours: Value[]; zongji: Value[] } {
  const specs = { id: ID, v: spec };
  const table = zongjiTable(specs);
  const event = rowsEvent(2, values.map((value, i) => image([int32(i), value])));
  const decoded = new RowsDecoder('db.t', zongjiTableColumns(table), columnsOf(specs)).decode(parseRowsEvent(event, true));
  const zongji = zongjiDecoder(true);
  zongji.tableMap[77] = table;
  const rows = zongji.decode(event).rows as Record<string, unknown>[];
  return {
    ours: decoded.map((row) => row.after!.v!),
    zongji: rows.map((row) => toValue(spec.field, row.v, spec.nullable ?? true)),
  };
}

const le = (value: number | bigint, width: number): Buffer => {
  const out = Buffer.alloc(width);
  if (width === 8) out.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)));
  else out.writeUIntLE(Number(BigInt.asUintN(width * 8, BigInt(value))), 0, width);
  return out;
};
const be = (value: bigint, width: number): Buffer => {
  const out = Buffer.alloc(width);
  for (let i = width - 1, v = BigInt.asUintN(width * 8, value); i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
};
const int32 = (value: number): Buffer => le(value, 4);
const float = (value: number): Buffer => Buffer.from(new Float32Array([value]).buffer);
const double = (value: number): Buffer => Buffer.from(new Float64Array([value]).buffer);
const prefixed = (width: number, value: Buffer): Buffer => Buffer.concat([le(value.length, width), value]);

/** The fraction of a TIME2/DATETIME2/TIMESTAMP2 with `digits` digits: ceil(digits/2) big-endian bytes. */
function fractionBytes(micros: bigint, digits: number): Buffer {
  const bytes = (digits + 1) >> 1;
  if (bytes === 0) return Buffer.alloc(0);
  return be(bytes === 1 ? micros / 10_000n : bytes === 2 ? micros / 100n : micros, bytes);
}

/** my_time_packed_to_binary of MY_PACKED_TIME_MAKE(hms, µs), negated for a negative time. */
function time2(text: string, digits: number): Buffer {
  const [, sign, h, m, s, fraction = ''] = /^(-)?(\d+):(\d\d):(\d\d)(?:\.(\d+))?$/.exec(text)!;
  const hms = (BigInt(h!) << 12n) | (BigInt(m!) << 6n) | BigInt(s!);
  const packed = ((hms << 24n) + BigInt(fraction.padEnd(6, '0'))) * (sign === '-' ? -1n : 1n);
  if (digits >= 5) return be(packed + 0x8000_0000_0000n, 6);
  const whole = packed >> 24n; // MY_PACKED_TIME_GET_INT_PART: floor
  const part = packed % (1n << 24n); // MY_PACKED_TIME_GET_FRAC_PART: C's remainder, negative with the value
  const frac = digits === 0 ? Buffer.alloc(0) : be(digits <= 2 ? part / 10_000n : part / 100n, digits <= 2 ? 1 : 2);
  return Buffer.concat([be(whole + 0x80_0000n, 3), frac]);
}

/** my_datetime_packed_to_binary. */
function datetime2(text: string, digits: number): Buffer {
  const [, y, mo, d, h, mi, s, fraction = ''] = /^(\d+)-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?$/.exec(text)!.map((p) => p ?? '');
  const ymd = ((BigInt(y!) * 13n + BigInt(mo!)) << 5n) | BigInt(d!);
  const hms = (BigInt(h!) << 12n) | (BigInt(mi!) << 6n) | BigInt(s!);
  return Buffer.concat([be(((ymd << 17n) | hms) + 0x80_0000_0000n, 5), fractionBytes(BigInt(fraction.padEnd(6, '0')), digits)]);
}

function timestamp2(seconds: number, micros: number, digits: number): Buffer {
  return Buffer.concat([be(BigInt(seconds), 4), fractionBytes(BigInt(micros), digits)]);
}

const date = (y: number, m: number, d: number): Buffer => le((y << 9) | (m << 5) | d, 3);

/** MariaDB 5.3's fractional temporals, as zongji reads them (see rows-event.ts). */
function timeHires(seconds: number, fraction: number, digits: number): Buffer {
  const bytes = [3, 4, 4, 5, 5, 5, 6][digits]!;
  return be(BigInt(seconds * 10 ** digits + Math.sign(seconds || 1) * fraction + 3_020_400 * 10 ** digits), bytes);
}
function datetimeHires(parts: readonly number[], fraction: number, digits: number): Buffer {
  const [y, mo, d, h, mi, s] = parts.map(BigInt) as [bigint, bigint, bigint, bigint, bigint, bigint];
  const units = (((((y * 13n + mo) * 32n + d) * 24n + h) * 60n + mi) * 60n + s) * 10n ** BigInt(digits) + BigInt(fraction);
  return be(units, [5, 6, 6, 7, 7, 7, 8][digits]!);
}
function timestampHires(seconds: number, fraction: number, digits: number): Buffer {
  const fractionBytes = [0, 1, 1, 2, 2, 3, 3][digits]!;
  return Buffer.concat([be(BigInt(seconds), 4), fractionBytes === 0 ? Buffer.alloc(0) : be(BigInt(fraction), fractionBytes)]);
}

/** MariaDB's COMPRESSED column value: zlib (or raw deflate) behind a header, or stored after a 0 header. */
function compressedValue(value: Buffer, method: 'zlib' | 'raw' | 'stored'): Buffer {
  if (method === 'stored') return Buffer.concat([Buffer.from([0x00]), value]);
  const length = Buffer.from([value.length]);
  const header = Buffer.from([0x80 | (method === 'raw' ? 0x08 : 0) | 1]);
  return Buffer.concat([header, length, method === 'raw' ? deflateRawSync(value) : deflateSync(value)]);
}

type Case = readonly [value: Buffer | null, expected: Value, zongjiAgrees?: boolean];

const TYPE_CASES: [string, Spec, Case[]][] = [
  [
    'TINYINT',
    { type: T.TINY, columnType: 'tinyint', field: { kind: 'int16' }, unsigned: false },
    [[le(-128, 1), -128], [le(127, 1), 127], [le(-1, 1), -1], [null, null]],
  ],
  ['TINYINT UNSIGNED from the metadata', { type: T.TINY, columnType: 'tinyint', field: { kind: 'int16' }, unsigned: true }, [[le(255, 1), 255]]],
  ['TINYINT UNSIGNED from COLUMN_TYPE', { type: T.TINY, columnType: 'tinyint(3) unsigned', field: { kind: 'int16' } }, [[le(255, 1), 255]]],
  ['SMALLINT', { type: T.SHORT, columnType: 'smallint', field: { kind: 'int16' } }, [[le(-32768, 2), -32768], [le(32767, 2), 32767]]],
  ['SMALLINT UNSIGNED', { type: T.SHORT, columnType: 'smallint unsigned', field: { kind: 'int32' } }, [[le(65535, 2), 65535]]],
  ['MEDIUMINT', { type: T.INT24, columnType: 'mediumint', field: { kind: 'int32' } }, [[le(-8388608, 3), -8388608], [le(8388607, 3), 8388607]]],
  ['MEDIUMINT UNSIGNED', { type: T.INT24, columnType: 'mediumint unsigned', field: { kind: 'int32' } }, [[le(16777215, 3), 16777215]]],
  ['INT', { type: T.LONG, columnType: 'int', field: { kind: 'int32' } }, [[le(-2147483648, 4), -2147483648], [le(2147483647, 4), 2147483647]]],
  ['INT UNSIGNED', { type: T.LONG, columnType: 'int unsigned', field: { kind: 'int64' } }, [[le(4294967295, 4), 4294967295n], [le(0, 4), 0n]]],
  [
    'BIGINT',
    { type: T.LONGLONG, columnType: 'bigint', field: { kind: 'int64' } },
    [[le(-(2n ** 63n), 8), -(2n ** 63n)], [le(2n ** 63n - 1n, 8), 2n ** 63n - 1n], [le(2n ** 53n + 1n, 8), 2n ** 53n + 1n]],
  ],
  [
    'BIGINT UNSIGNED wraps like Java long',
    { type: T.LONGLONG, columnType: 'bigint unsigned', field: { kind: 'int64' } },
    [[le(2n ** 64n - 1n, 8), -1n], [le(2n ** 63n, 8), -(2n ** 63n)]],
  ],
  [
    'FLOAT',
    { type: T.FLOAT, columnType: 'float', field: { kind: 'float32' }, metadata: { size: 4 } },
    [[float(1.1), Math.fround(1.1)], [float(-3.4028234663852886e38), -3.4028234663852886e38], [float(-0), -0]],
  ],
  [
    'DOUBLE',
    { type: T.DOUBLE, columnType: 'double', field: { kind: 'float64' }, metadata: { size: 8 } },
    [[double(0.1 + 0.2), 0.30000000000000004], [double(5e-324), 5e-324], [double(-1.7976931348623157e308), -1.7976931348623157e308]],
  ],
  ...([
    [
      65,
      30,
      ['-12345678901234567890123456789012345.012345678901234567890123456789', '0.000000000000000000000000000001', '-0.000000000000000000000000000000'],
    ],
    [10, 2, ['-0.50', '0.00', '12345678.90', '-99999999.99']],
    [5, 5, ['0.12345', '-0.00001']],
    [18, 0, ['-999999999999999999', '0', '1']],
    [9, 0, ['123456789', '-100000000']],
    [10, 0, ['1234567890', '-1000000000']],
    [19, 10, ['123456789.0123456789', '-0.0000000001']],
  ] as const).map(([precision, scale, values]): [string, Spec, Case[]] => [
    `DECIMAL(${precision},${scale})`,
    {
      type: T.NEWDECIMAL,
      columnType: `decimal(${precision},${scale})`,
      field: { kind: 'decimal', precision, scale },
      metadata: { precision, decimals: scale },
    },
    values.map((value) => [decimalBinary(value, precision, scale), value]),
  ]),
  ['YEAR', { type: T.YEAR, columnType: 'year', field: { kind: 'year' } }, [[le(1, 1), 1901], [le(255, 1), 2155], [le(0, 1), 0, false]]],
  [
    'DATE',
    { type: T.DATE, columnType: 'date', field: { kind: 'date' } },
    [
      [date(2024, 2, 29), 19782],
      [date(1000, 1, 1), -354285],
      [date(9999, 12, 31), 2932896],
      [date(1, 1, 1), -719162],
      [date(0, 0, 0), null],
      [date(2024, 0, 15), null],
      [date(2024, 5, 0), null],
    ],
  ],
  ['DATE NOT NULL', { type: T.DATE, columnType: 'date', field: { kind: 'date' }, nullable: false }, [[date(0, 0, 0), 0]]],
  [
    'TIME',
    { type: T.TIME2, columnType: 'time', field: { kind: 'time', precision: 0 }, metadata: { decimals: 0 } },
    [
      [time2('838:59:59', 0), 3020399000000n],
      [time2('-838:59:59', 0), -3020399000000n],
      [time2('-00:00:01', 0), -1000000n],
      [time2('00:00:00', 0), 0n],
      [time2('-01:00:00', 0), -3600000000n, false],
    ],
  ],
  ...(
    [
      [1, '-00:00:00.5', -500000n, true],
      [1, '12:34:56.7', 45296700000n, true],
      [2, '-12:34:56.78', -45296780000n, true],
      [3, '-00:00:00.001', -1000n, true],
      [3, '-12:30:00.000', -45000000000n, false],
      [4, '100:00:00.1234', 360000123400n, true],
      [5, '-838:59:58.99999', -3020398999990n, true],
      [6, '-838:59:59.000001', -3020399000001n, true],
      [6, '-01:00:00.000000', -3600000000n, false],
      [6, '24:00:00.999999', 86400999999n, true],
    ] as const
  ).map(([digits, text, micros, agrees]): [string, Spec, Case[]] => [
    `TIME(${digits}) ${text}`,
    { type: T.TIME2, columnType: `time(${digits})`, field: { kind: 'time', precision: digits }, metadata: { decimals: digits } },
    [[time2(text, digits), micros, agrees]],
  ]),
  ...([0, 1, 2, 3, 4, 5, 6] as const).map((digits): [string, Spec, Case[]] => {
    const fraction = '123456'.slice(0, digits);
    const micros = BigInt(fraction.padEnd(6, '0'));
    const at = (text: string): string => (digits === 0 ? text : `${text}.${fraction}`);
    return [
      `DATETIME(${digits})`,
      { type: T.DATETIME2, columnType: `datetime(${digits})`, field: { kind: 'timestamp', precision: digits }, metadata: { decimals: digits } },
      [
        [datetime2(at('2024-01-02 03:04:05'), digits), T0 + micros],
        [datetime2(at('9999-12-31 23:59:59'), digits), 253402300799000000n + micros],
        [datetime2(at('0001-01-01 00:00:00'), digits), -62135596800000000n + micros],
        [datetime2(at('1969-12-31 23:59:59'), digits), -1000000n + micros],
        [datetime2('0000-00-00 00:00:00', digits), null],
        [datetime2(at('2024-00-15 10:00:00'), digits), null],
      ],
    ];
  }),
  [
    'DATETIME NOT NULL',
    { type: T.DATETIME2, columnType: 'datetime', field: { kind: 'timestamp', precision: 0 }, metadata: { decimals: 0 }, nullable: false },
    [[datetime2('0000-00-00 00:00:00', 0), 0n]],
  ],
  ...([0, 1, 2, 3, 4, 5, 6] as const).map((digits): [string, Spec, Case[]] => {
    const micros = Number('123456'.slice(0, digits).padEnd(6, '0'));
    const printed = digits === 0 ? '' : `.${'123456'.slice(0, digits)}`;
    return [
      `TIMESTAMP(${digits})`,
      { type: T.TIMESTAMP2, columnType: `timestamp(${digits})`, field: { kind: 'timestamptz', precision: digits }, metadata: { decimals: digits } },
      [
        [timestamp2(1704164645, micros, digits), `2024-01-02T03:04:05${printed}Z`],
        [timestamp2(1, 0, digits), `1970-01-01T00:00:01${digits === 0 ? '' : `.${'0'.repeat(digits)}`}Z`],
        [timestamp2(0, 0, digits), null],
      ],
    ];
  }),
  [
    'TIMESTAMP(3) NOT NULL, and past 2038 (MariaDB 11.5 stores TIMESTAMP until 2106)',
    { type: T.TIMESTAMP2, columnType: 'timestamp(3)', field: { kind: 'timestamptz', precision: 3 }, metadata: { decimals: 3 }, nullable: false },
    [[timestamp2(0, 0, 3), '1970-01-01T00:00:00.000Z'], [timestamp2(2 ** 32 - 1, 999000, 3), '2106-02-07T06:28:15.999Z', false]],
  ],
  [
    'TIME before MySQL 5.6.4',
    { type: T.TIME, columnType: 'time', field: { kind: 'time', precision: 0 } },
    [[le(123456, 3), 45296000000n], [le(-8385959, 3), -3020399000000n], [le(-10000, 3), -3600000000n, false]],
  ],
  [
    'DATETIME before MySQL 5.6.4',
    { type: T.DATETIME, columnType: 'datetime', field: { kind: 'timestamp', precision: 0 } },
    [[le(20240102030405n, 8), T0], [le(0, 8), null]],
  ],
  [
    'TIMESTAMP before MySQL 5.6.4',
    { type: T.TIMESTAMP, columnType: 'timestamp', field: { kind: 'timestamptz', precision: 0 } },
    [[le(1704164645, 4), '2024-01-02T03:04:05Z'], [le(0, 4), null]],
  ],
  [
    "MariaDB 5.3's TIME(3)",
    { type: T.TIME, columnType: 'time(3) /* mariadb-5.3 */', field: { kind: 'time', precision: 3 } },
    [[timeHires(45296, 789, 3), 45296789000n], [timeHires(-45296, 789, 3), -45296789000n], [timeHires(-3600, 0, 3), -3600000000n]],
  ],
  [
    "MariaDB 5.3's DATETIME(6)",
    { type: T.DATETIME, columnType: 'datetime(6) /* mariadb-5.3 */', field: { kind: 'timestamp', precision: 6 } },
    [[datetimeHires([2024, 1, 2, 3, 4, 5], 123456, 6), T0 + 123456n], [datetimeHires([0, 0, 0, 0, 0, 0], 0, 6), null]],
  ],
  [
    "MariaDB 5.3's TIMESTAMP(2)",
    { type: T.TIMESTAMP, columnType: 'timestamp(2) /* mariadb-5.3 */', field: { kind: 'timestamptz', precision: 2 } },
    [[timestampHires(1704164645, 65, 2), '2024-01-02T03:04:05.65Z'], [timestampHires(0, 0, 2), null]],
  ],
  [
    'VARCHAR(20) utf8mb4',
    { type: T.VARCHAR, columnType: 'varchar(20)', field: { kind: 'string' }, charset: 'utf8mb4', metadata: { max_length: 80 } },
    [[prefixed(1, Buffer.from('héllo 😀')), 'héllo 😀'], [prefixed(1, Buffer.alloc(0)), '']],
  ],
  [
    'VARCHAR(300) utf8mb4: a two-byte length',
    { type: T.VARCHAR, columnType: 'varchar(300)', field: { kind: 'string' }, charset: 'utf8mb4', metadata: { max_length: 1200 } },
    [[prefixed(2, Buffer.from('✓'.repeat(300))), '✓'.repeat(300)]],
  ],
  [
    'CHAR(5) latin1',
    { type: T.STRING, columnType: 'char(5)', field: { kind: 'string' }, charset: 'latin1', metadata: { max_length: 5 } },
    [[prefixed(1, Buffer.from('64e96ae0', 'hex')), 'déjà']],
  ],
  [
    'CHAR(100) utf32',
    { type: T.STRING, columnType: 'char(100)', field: { kind: 'string' }, charset: 'utf32', metadata: { max_length: 400 } },
    [[prefixed(2, Buffer.from('000000e90001f600', 'hex')), 'é😀']],
  ],
  [
    'VARCHAR(10) gbk',
    { type: T.VARCHAR, columnType: 'varchar(10)', field: { kind: 'string' }, charset: 'gbk', metadata: { max_length: 20 } },
    [[prefixed(1, Buffer.from('c4e3bac3', 'hex')), '你好']],
  ],
  [
    'TEXT latin1',
    { type: T.BLOB, columnType: 'text', field: { kind: 'string' }, charset: 'latin1', metadata: { length_size: 2 } },
    [[prefixed(2, Buffer.from('41e9', 'hex')), 'Aé']],
  ],
  [
    'LONGTEXT as MariaDB JSON',
    { type: T.BLOB, columnType: 'longtext', field: { kind: 'json' }, charset: 'utf8mb4', metadata: { length_size: 4 } },
    [[prefixed(4, Buffer.from('{"a": 1}')), '{"a": 1}']],
  ],
  [
    'BINARY(4): the image drops trailing zeros',
    { type: T.STRING, columnType: 'binary(4)', field: { kind: 'bytes' }, metadata: { max_length: 4 } },
    [[prefixed(1, Buffer.from([1, 2])), bytes(1, 2, 0, 0)], [prefixed(1, Buffer.alloc(0)), bytes(0, 0, 0, 0)]],
  ],
  [
    'VARBINARY(300)',
    { type: T.VARCHAR, columnType: 'varbinary(300)', field: { kind: 'bytes' }, metadata: { max_length: 300 } },
    [[prefixed(2, Buffer.from([0xff, 0])), bytes(0xff, 0)], [prefixed(2, Buffer.alloc(0)), bytes()]],
  ],
  ...([1, 2, 3, 4] as const).map((width): [string, Spec, Case[]] => [
    `${['TINY', '', 'MEDIUM', 'LONG'][width - 1]}BLOB`,
    { type: T.BLOB, columnType: 'blob', field: { kind: 'bytes' }, metadata: { length_size: width } },
    [[prefixed(width, Buffer.from([0, 0xff, 0x10])), bytes(0, 0xff, 0x10)]],
  ]),
  [
    'VARCHAR COMPRESSED (MariaDB)',
    {
      type: T.VARCHAR_COMPRESSED,
      columnType: 'varchar(100) /*M!100301 COMPRESSED*/',
      field: { kind: 'string' },
      charset: 'utf8mb4',
      metadata: { max_length: 401 },
    },
    [
      [prefixed(2, compressedValue(Buffer.from('é'.repeat(50)), 'zlib')), 'é'.repeat(50)],
      [prefixed(2, compressedValue(Buffer.from('short'), 'stored')), 'short'],
      [prefixed(2, Buffer.alloc(0)), ''],
    ],
  ],
  [
    'BLOB COMPRESSED (MariaDB)',
    { type: T.BLOB_COMPRESSED, columnType: 'blob /*M!100301 COMPRESSED*/', field: { kind: 'bytes' }, metadata: { length_size: 2 } },
    [[prefixed(2, compressedValue(Buffer.alloc(100, 7), 'raw')), new Uint8Array(100).fill(7)]],
  ],
  [
    'ENUM',
    { type: T.ENUM, columnType: "enum('a','b,c','it''s')", field: { kind: 'enum', symbols: ['a', 'b,c', "it's"] }, metadata: { size: 1 } },
    [[le(1, 1), 'a'], [le(2, 1), 'b,c'], [le(3, 1), "it's"], [le(0, 1), '', false]],
  ],
  [
    'ENUM of 300 symbols: two bytes',
    { type: T.ENUM, columnType: 'enum(…)', field: { kind: 'enum', symbols: Array.from({ length: 300 }, (_, i) => `s${i}`) }, metadata: { size: 2 } },
    [[le(300, 2), 's299']],
  ],
  [
    'SET',
    { type: T.SET, columnType: "set('x','y','z')", field: { kind: 'set', symbols: ['x', 'y', 'z'] }, metadata: { size: 1 } },
    [[le(0b101, 1), 'x,z'], [le(0, 1), ''], [le(0b111, 1), 'x,y,z']],
  ],
  [
    'SET of 64 members: eight bytes',
    { type: T.SET, columnType: 'set(…)', field: { kind: 'set', symbols: Array.from({ length: 64 }, (_, i) => `m${i}`) }, metadata: { size: 8 } },
    [[le((1n << 63n) | (1n << 32n) | (1n << 31n) | 1n, 8), 'm0,m31,m32,m63']],
  ],
  [
    'BIT(1)',
    { type: T.BIT, columnType: 'bit(1)', field: { kind: 'bits', length: 1 }, metadata: { bits: 1 } },
    [[Buffer.from([1]), true], [Buffer.from([0]), false]],
  ],
  ['BIT(9)', { type: T.BIT, columnType: 'bit(9)', field: { kind: 'bits', length: 9 }, metadata: { bits: 9 } }, [[Buffer.from([1, 2]), bytes(2, 1)]]],
  [
    'BIT(64)',
    { type: T.BIT, columnType: 'bit(64)', field: { kind: 'bits', length: 64 }, metadata: { bits: 64 } },
    [[Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 1]), bytes(1, 0, 0, 0, 0, 0, 0, 0x80)]],
  ],
];

for (const [title, spec, cases] of TYPE_CASES) {
  test(`${title} decodes to the neutral Value toValue gives`, () => {
    const { ours, zongji } = decodeBoth(
      spec,
      cases.map(([value]) => value),
    );
    cases.forEach(([value, expected, zongjiAgrees], i) => {
      const what = `${title}: ${value?.toString('hex') ?? 'NULL'}`;
      assert.deepEqual(ours[i], expected, what);
      if (zongjiAgrees !== false) assert.deepEqual(zongji[i], expected, `${what} (zongji)`);
    });
  });
}

test('MySQL JSON columns read as the text MySQL prints', () => {
  const spec: Spec = { type: T.JSON, columnType: 'json', field: { kind: 'json' }, metadata: { length_size: 4 } };
  const doc = encodeJsonBinary(json.object([['b', json.int(1)], ['a', json.array([json.double(2.5), json.string('x')])]]));
  assert.deepEqual(decodeBoth(spec, [prefixed(4, doc), prefixed(4, Buffer.alloc(0)), null]).ours, ['{"a": [2.5, "x"], "b": 1}', 'null', null]);
});

/** A table of every layout, each value distinct, to check which columns are read and which passed over. */
const WIDE: Record<string, Spec> = {
  id: ID,
  i8: { type: T.TINY, columnType: 'tinyint', field: { kind: 'int16' } },
  dec: {
    type: T.NEWDECIMAL,
    columnType: 'decimal(20,5)',
    field: { kind: 'decimal', precision: 20, scale: 5 },
    metadata: { precision: 20, decimals: 5 },
  },
  t2: { type: T.TIME2, columnType: 'time(4)', field: { kind: 'time', precision: 4 }, metadata: { decimals: 4 } },
  hires: { type: T.DATETIME, columnType: 'datetime(3) /* mariadb-5.3 */', field: { kind: 'timestamp', precision: 3 } },
  vc: { type: T.VARCHAR, columnType: 'varchar(300)', field: { kind: 'string' }, charset: 'utf8mb4', metadata: { max_length: 1200 } },
  shape: { type: T.GEOMETRY, columnType: 'geometry', field: { kind: 'bytes' }, metadata: { length_size: 4 } },
  b3: { type: T.BIT, columnType: 'bit(17)', field: { kind: 'bits', length: 17 }, metadata: { bits: 17 } },
  st: { type: T.SET, columnType: "set('p','q')", field: { kind: 'set', symbols: ['p', 'q'] }, metadata: { size: 1 } },
  last: { type: T.LONGLONG, columnType: 'bigint', field: { kind: 'int64' } },
};

const WIDE_VALUES = [
  int32(9),
  le(-5, 1),
  decimalBinary('-123.45678', 20, 5),
  time2('-01:02:03.4567', 4),
  datetimeHires([2024, 1, 2, 3, 4, 5], 678, 3),
  prefixed(2, Buffer.from('x'.repeat(260))),
  prefixed(4, Buffer.from('0101000000000000000000f03f000000000000f03f', 'hex')),
  Buffer.from([1, 2, 3]),
  le(2, 1),
  le(-42n, 8),
];

test('columns not captured are passed over whatever their layout, and the rest read in place', () => {
  const all = Object.keys(WIDE).filter((name) => name !== 'shape');
  const event = parseRowsEvent(rowsEvent(10, [image(WIDE_VALUES)]), true);
  const full = new RowsDecoder('db.wide', zongjiTableColumns(zongjiTable(WIDE)), columnsOf(WIDE, all)).decode(event);
  const expected: Row = {
    id: 9,
    i8: -5,
    dec: '-123.45678',
    t2: -3723456700n,
    hires: T0 + 678000n,
    vc: 'x'.repeat(260),
    b3: bytes(3, 2, 1),
    st: 'q',
    last: -42n,
  };
  assert.deepEqual(full[0]!.after, expected);
  for (const name of all) {
    const one = new RowsDecoder('db.wide', zongjiTableColumns(zongjiTable(WIDE)), columnsOf(WIDE, [name])).decode(event);
    assert.deepEqual(one[0]!.after, { [name]: expected[name] }, name);
  }
});

test('a captured column the table map lacks is null, as a driver row without it read', () => {
  const specs = { id: ID };
  const added: Column = { name: 'added', type: { kind: 'int32' }, nullable: true, sourceType: 'int' };
  const decoder = new RowsDecoder('db.t', zongjiTableColumns(zongjiTable(specs)), [...columnsOf(specs), added]);
  assert.deepEqual(decoder.decode(parseRowsEvent(rowsEvent(1, [image([int32(1)])]), true))[0]!.after, { id: 1, added: null });
});

const PAIR: Record<string, Spec> = {
  id: ID,
  name: { type: T.VARCHAR, columnType: 'varchar(10)', field: { kind: 'string' }, charset: 'utf8mb4', metadata: { max_length: 40 } },
  n: { type: T.LONG, columnType: 'int', field: { kind: 'int32' } },
};
const pairDecoder = (): RowsDecoder => new RowsDecoder('db.t', zongjiTableColumns(zongjiTable(PAIR)), columnsOf(PAIR));
const text = (value: string): Buffer => prefixed(1, Buffer.from(value));

test('writes, updates and deletes, v1 and v2 (with extra data) and compressed, give the same images', () => {
  const rows = [image([int32(1), text('a'), null]), image([int32(2), null, int32(-7)])];
  const update = [image([int32(1), text('a'), null]), image([int32(1), text('b'), int32(5)])];
  const expected = {
    c: [{ before: null, after: { id: 1, name: 'a', n: null } }, { before: null, after: { id: 2, name: null, n: -7 } }],
    u: [{ before: { id: 1, name: 'a', n: null }, after: { id: 1, name: 'b', n: 5 } }],
    d: [{ before: { id: 1, name: 'a', n: null }, after: null }, { before: { id: 2, name: null, n: -7 }, after: null }],
  };
  const families: [number, number, number, Buffer?][] = [
    [23, 24, 25],
    [30, 31, 32, Buffer.from([0x00, 0x01, 0x00])],
    [166, 167, 168],
    [169, 170, 171, Buffer.alloc(0)],
  ];
  for (const [write, updateType, remove, extra] of families) {
    const decode = (type: number, images: Buffer[]): RowImage[] =>
      pairDecoder().decode(parseRowsEvent(rowsEvent(3, images, { type, ...(extra === undefined ? {} : { extra }) }), true));
    assert.deepEqual(decode(write, rows), expected.c, `type ${write}`);
    assert.deepEqual(decode(updateType, update), expected.u, `type ${updateType}`);
    assert.deepEqual(decode(remove, rows), expected.d, `type ${remove}`);
    assert.deepEqual([write, updateType, remove].map(rowsEventOp), ['c', 'u', 'd']);
  }
  assert.equal(rowsEventOp(19), undefined);
  assert.equal(rowsEventTableId(rowsEvent(3, rows, { tableId: 2 ** 40 + 3 })), 2 ** 40 + 3);
});

test('partial images: absent columns are null, and the null bitmap counts present columns only', () => {
  // Before: id and n present (name absent); after: name only. The after image's null bitmap has one bit.
  const event = rowsEvent(3, [image([int32(4), null]), image([text('z')])], { type: 24, present: [0, 2], presentAfter: [1] });
  assert.deepEqual(pairDecoder().decode(parseRowsEvent(event, true)), [
    { before: { id: 4, name: null, n: null }, after: { id: null, name: 'z', n: null } },
  ]);
  const nine = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`c${i}`, ID]));
  const values = Array.from({ length: 9 }, (_, i) => (i === 8 ? null : int32(i)));
  const nineDecoder = new RowsDecoder('db.t', zongjiTableColumns(zongjiTable(nine)), columnsOf(nine));
  const decoded = nineDecoder.decode(parseRowsEvent(rowsEvent(9, [image(values)]), true));
  assert.deepEqual(Object.values(decoded[0]!.after!), [0, 1, 2, 3, 4, 5, 6, 7, null], 'a second byte of null bitmap');
});

test('without a checksum the event ends at its last image', () => {
  const event = rowsEvent(3, [image([int32(1), text('a'), null])]);
  const unchecked = event.subarray(0, event.length - 4);
  assert.deepEqual(pairDecoder().decode(parseRowsEvent(unchecked, false))[0]!.after, { id: 1, name: 'a', n: null });
});

test('failures name the table and column and say what to do', () => {
  const expectError = (fn: () => unknown, message: RegExp, fix?: RegExp): void => {
    assert.throws(fn, (error: unknown) => {
      assert.ok(error instanceof SourceError, String(error));
      assert.match(error.message, message);
      if (fix !== undefined) assert.match(error.fix ?? '', fix);
      return true;
    });
  };
  const decode = (specs: Record<string, Spec>, event: Buffer, captured?: string[]): RowImage[] =>
    new RowsDecoder('db.t', zongjiTableColumns(zongjiTable(specs)), columnsOf(specs, captured)).decode(parseRowsEvent(event, true));

  expectError(() => decode(PAIR, rowsEvent(2, [image([int32(1), text('a')])])), /rows event of db\.t has 2 columns where its table map has 3/);
  const cut = rowsEvent(3, [image([int32(1), text('abcdef'), int32(2)]).subarray(0, 8)]);
  expectError(() => decode(PAIR, cut), /a row image of db\.t runs past the end of its rows event/, /restart the source/);
  const lastCut = rowsEvent(2, [image([int32(1), text('abcdef')]).subarray(0, 8)]);
  expectError(() => decode({ id: ID, name: PAIR.name! }, lastCut), /a row image of db\.t runs past the end/, /restart the source/);
  expectError(
    () => new RowsDecoder('db.t', zongjiTableColumns(zongjiTable(PAIR)), [{ name: 'n', type: { kind: 'string' }, nullable: true, sourceType: 'text' }]),
    /column n of db\.t is string in the table schema, but the binlog writes it as type 3/,
    /restart the source/,
  );
  const cp852 = { id: ID, s: { ...PAIR.name!, charset: 'cp852' } };
  expectError(
    () => decode(cp852, rowsEvent(2, [])),
    /column s of db\.t has character set cp852, which Tributary cannot decode/,
    /utf8mb4.*columns\.exclude: \[s\] for table db\.t/,
  );
  assert.deepEqual(decode(cp852, rowsEvent(2, [image([int32(1), text('x')])]), ['id'])[0]!.after, { id: 1 }, 'unless it is not captured');
  const enumSpec = { id: ID, e: { type: T.ENUM, columnType: "enum('a')", field: { kind: 'enum', symbols: ['a'] }, metadata: { size: 1 } } as Spec };
  const badIndex = rowsEvent(2, [image([int32(1), le(2, 1)])]);
  expectError(() => decode(enumSpec, badIndex), /ENUM index 2 of db\.t\.e is beyond its 1 symbols/, /restart the source/);
  const setSpec = { id: ID, s: { type: T.SET, columnType: "set('a')", field: { kind: 'set', symbols: ['a'] }, metadata: { size: 1 } } as Spec };
  expectError(() => decode(setSpec, rowsEvent(2, [image([int32(1), le(3, 1)])])), /SET member 2 of db\.t\.s is beyond its 1 symbols/);
  const old = { id: ID, d: { type: T.DECIMAL, columnType: 'decimal(5,2)', field: { kind: 'decimal', precision: 5, scale: 2 } } as Spec };
  expectError(() => decode(old, rowsEvent(2, []), ['id']), /column d of db\.t has binlog type 0, whose row-image layout .* does not know/, /drop it/);
  const noPrecision = { id: ID, d: { type: T.NEWDECIMAL, columnType: 'decimal(5,2)', field: { kind: 'decimal', precision: 5, scale: 2 } } as Spec };
  expectError(() => decode(noPrecision, rowsEvent(2, [])), /the table map of db\.t gives column d \(type 246\) no precision/);
  const compressed = { id: ID, v: { type: T.BLOB_COMPRESSED, columnType: 'blob', field: { kind: 'bytes' }, metadata: { length_size: 1 } } as Spec };
  const compressedRow = (value: number[]): Buffer => rowsEvent(2, [image([int32(1), prefixed(1, Buffer.from(value))])]);
  expectError(() => decode(compressed, compressedRow([0x30, 1])), /compressed value of db\.t\.v uses unknown method 3/);
  expectError(() => decode(compressed, compressedRow([0x81, 3, 1, 2, 3])), /compressed value of db\.t\.v does not inflate: /);

  const header = rowsEvent(3, [image([int32(1), text('a'), null])], { type: 166 });
  const badHeader = Buffer.from(header);
  badHeader[19 + 8 + 1 + 1] = 0x13; // the compression header byte, after table id, flags, column count, bitmap
  expectError(() => parseRowsEvent(badHeader, false), /compressed rows event of table id 77 has an unknown header byte 0x13/);
  const lying = binlogEvent(166, Buffer.concat([header.subarray(19, 29), Buffer.from([0x81, 99]), deflateSync(Buffer.from('abc'))]));
  expectError(() => parseRowsEvent(lying, true), /inflates to 3 bytes, not the 99 it declares/);
  const garbled = binlogEvent(166, Buffer.concat([header.subarray(19, 29), Buffer.from([0x81, 3, 1, 2, 3])]));
  expectError(() => parseRowsEvent(garbled, true), /compressed rows event of table id 77 does not inflate: /);
  expectError(() => parseRowsEvent(binlogEvent(23, Buffer.from([77, 0, 0, 0, 0, 0, 0, 0, 200])), true), /ends inside its header/);
  assert.throws(() => parseRowsEvent(binlogEvent(19, Buffer.alloc(12)), true), /type 19 is not a rows event/);
});
