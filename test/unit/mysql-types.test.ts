import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldType } from '../../src/model/schema.js';
import { SourceError } from '../../src/model/errors.js';
import { fieldTypeOf, formatInstant, parseDate, parseDateTime, parseSymbols, parseTime, toValue } from '../../src/sources/mysql/types.js';

test('column types map onto neutral field types as Debezium maps them', () => {
  const cases: [string, FieldType, boolean?][] = [
    ['tinyint(4)', { kind: 'int16' }],
    ['tinyint(3) unsigned', { kind: 'int16' }],
    ['smallint(6)', { kind: 'int16' }],
    ['smallint(5) unsigned', { kind: 'int32' }],
    ['mediumint(8) unsigned', { kind: 'int32' }],
    ['int(11)', { kind: 'int32' }],
    ['int unsigned', { kind: 'int64' }],
    ['bigint(20)', { kind: 'int64' }],
    ['bigint(20) unsigned', { kind: 'int64' }],
    ['decimal(30,10)', { kind: 'decimal', precision: 30, scale: 10 }],
    ['decimal', { kind: 'decimal', precision: 10, scale: 0 }],
    ['float', { kind: 'float32' }],
    ['double', { kind: 'float64' }],
    ['bit(1)', { kind: 'bits', length: 1 }],
    ['bit(9)', { kind: 'bits', length: 9 }],
    ['char(5)', { kind: 'string' }],
    ['varchar(300)', { kind: 'string' }],
    ['longtext', { kind: 'string' }],
    ['longtext', { kind: 'json' }, true],
    ['json', { kind: 'json' }],
    ['binary(4)', { kind: 'bytes' }],
    ['varbinary(10)', { kind: 'bytes' }],
    ['mediumblob', { kind: 'bytes' }],
    ['date', { kind: 'date' }],
    ['time', { kind: 'time', precision: 0 }],
    ['time(6)', { kind: 'time', precision: 6 }],
    ['datetime(3)', { kind: 'timestamp', precision: 3 }],
    ['timestamp(6)', { kind: 'timestamptz', precision: 6 }],
    ['year(4)', { kind: 'year' }],
    ["enum('a','b,c','it''s')", { kind: 'enum', symbols: ['a', 'b,c', "it's"] }],
    ["set('x','y')", { kind: 'set', symbols: ['x', 'y'] }],
  ];
  for (const [columnType, expected, json] of cases) {
    assert.deepEqual(fieldTypeOf('db.t', { name: 'c', columnType, json: json ?? false }), expected, columnType);
  }
  assert.throws(
    () => fieldTypeOf('db.t', { name: 'shape', columnType: 'geometry' }),
    (e: unknown) => e instanceof SourceError && /db\.t\.shape/.test(e.message) && /exclude/.test(e.fix ?? ''),
  );
});

test('ENUM/SET symbol lists unquote doubled and escaped quotes and keep commas', () => {
  assert.deepEqual(parseSymbols("'a','b,c','it''s','back\\\\slash'"), ['a', 'b,c', "it's", 'back\\slash']);
  assert.deepEqual(parseSymbols("''"), ['']);
});

test('values convert to the neutral representation of their kind', () => {
  const cases: [FieldType, unknown, unknown][] = [
    [{ kind: 'int16' }, 255, 255],
    [{ kind: 'int32' }, '65535', 65535],
    [{ kind: 'int64' }, 4294967295, 4294967295n],
    [{ kind: 'int64' }, '-9223372036854775808', -9223372036854775808n],
    [{ kind: 'int64' }, '18446744073709551615', -1n],
    [{ kind: 'int64' }, '9223372036854775808', -9223372036854775808n],
    [{ kind: 'decimal', precision: 30, scale: 10 }, '-12.3400000000', '-12.3400000000'],
    [{ kind: 'float32' }, 1.1, Math.fround(1.1)],
    [{ kind: 'float32' }, '1.1', Math.fround(1.1)],
    [{ kind: 'float64' }, 2.25, 2.25],
    [{ kind: 'bits', length: 1 }, Buffer.from([1]), true],
    [{ kind: 'bits', length: 1 }, Buffer.from([0]), false],
    [{ kind: 'bits', length: 9 }, Buffer.from([1, 1]), new Uint8Array([1, 1])],
    // Debezium's Bits are little-endian (Java BitSet order): MySQL's big-endian bytes reversed, high end padded.
    [{ kind: 'bits', length: 16 }, Buffer.from([5]), new Uint8Array([5, 0])],
    [{ kind: 'bits', length: 12 }, Buffer.from([0x08, 0x03]), new Uint8Array([0x03, 0x08])],
    [{ kind: 'bytes' }, Buffer.from([0, 255]), new Uint8Array([0, 255])],
    [{ kind: 'string' }, 'héllo 😀', 'héllo 😀'],
    [{ kind: 'json' }, '{"a":1}', '{"a":1}'],
    [{ kind: 'enum', symbols: ['a'] }, 'a', 'a'],
    [{ kind: 'set', symbols: ['x', 'z'] }, 'x,z', 'x,z'],
    [{ kind: 'year' }, 2024, 2024],
    [{ kind: 'date' }, '1970-01-01', 0],
    [{ kind: 'date' }, '2024-02-29', 19782],
    [{ kind: 'date' }, '1969-12-31', -1],
    [{ kind: 'date' }, '0000-00-00', null],
    [{ kind: 'time', precision: 6 }, '00:00:01.000001', 1_000_001n],
    [{ kind: 'time', precision: 6 }, '-838:59:59.000001', -3_020_399_000_001n],
    [{ kind: 'time', precision: 3 }, '12:00:00.5', 43_200_500_000n],
    [{ kind: 'timestamp', precision: 6 }, '2024-01-02 03:04:05.123456', 1_704_164_645_123_456n],
    [{ kind: 'timestamp', precision: 0 }, '1960-06-15 00:00:00', -301_276_800_000_000n],
    [{ kind: 'timestamp', precision: 0 }, '0000-00-00 00:00:00', null],
    [{ kind: 'timestamptz', precision: 6 }, '2024-01-02 03:04:05.654321', '2024-01-02T03:04:05.654321Z'],
    [{ kind: 'timestamptz', precision: 3 }, '2024-01-02 03:04:05.650', '2024-01-02T03:04:05.650Z'],
    [{ kind: 'timestamptz', precision: 0 }, '1970-01-01 00:00:01', '1970-01-01T00:00:01Z'],
    [{ kind: 'timestamptz', precision: 0 }, '0000-00-00 00:00:00', null],
    [{ kind: 'timestamptz', precision: 6 }, '1970-01-01 00:00:00.000000', null],
    [{ kind: 'string' }, null, null],
  ];
  for (const [type, raw, expected] of cases) {
    assert.deepEqual(toValue(type, raw), expected, `${type.kind} ${String(raw)}`);
  }
  assert.equal(toValue({ kind: 'date' }, '0000-00-00', false), 0, 'zero date in a NOT NULL column is the epoch');
  assert.equal(toValue({ kind: 'timestamptz', precision: 0 }, '0000-00-00 00:00:00', false), '1970-01-01T00:00:00Z');
});

test('temporal text parsers reject what they cannot read', () => {
  assert.throws(() => parseDate('yesterday'), SourceError);
  assert.throws(() => parseTime('1:2'), SourceError);
  assert.throws(() => parseDateTime('2024-01-02'), SourceError);
  assert.equal(parseDateTime('0001-01-01 00:00:00'), -62_135_596_800_000_000n);
  assert.equal(formatInstant(-1n, 6), '1969-12-31T23:59:59.999999Z');
});

test('parseDateTime reads fixed-width text by position exactly as the general form', () => {
  const cases: Array<[string, bigint | null]> = [
    ['1970-01-01 00:00:00', 0n],
    ['2024-02-29 23:59:59.999999', 1_709_251_199_999_999n],
    ['2024-02-29 23:59:59.5', 1_709_251_199_500_000n],
    ['2024-02-29 23:59:59.05', 1_709_251_199_050_000n],
    ['1969-12-31 23:59:59.000001', -999_999n],
    ['1900-01-01 00:00:00', -2_208_988_800_000_000n],
    ['9999-12-31 23:59:59.999999', 253_402_300_799_999_999n],
    ['0099-12-31 23:59:59', -59_011_459_201_000_000n],
    ['2024-00-10 10:00:00', null],
    ['2024-01-00 10:00:00.123', null],
    ['2024-01-02T03:04:05', 1_704_164_645_000_000n],
    [' 2024-01-02 03:04:05 ', 1_704_164_645_000_000n],
  ];
  for (const [text, micros] of cases) assert.equal(parseDateTime(text), micros, text);
  for (const text of ['2024-01-02 03:04:0x', '2024-01-02 03:04:05.', '2024-01-02 03:04:05.1234567', '2024/01/02 03:04:05']) {
    assert.throws(() => parseDateTime(text), SourceError, text);
  }
});
