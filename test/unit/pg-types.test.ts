import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as text from '../../src/sources/postgres/text-values.js';
import { columnCodec, numericPrecisionScale, temporalPrecision, type PgType } from '../../src/sources/postgres/types.js';

test('timestamptz becomes UTC ISO with exactly the column precision', () => {
  const cases: [string, number, string][] = [
    ['2024-01-02 03:04:05.123456+00', 6, '2024-01-02T03:04:05.123456Z'],
    ['2024-01-02 03:04:05.12+00', 6, '2024-01-02T03:04:05.120000Z'],
    ['2024-01-02 03:04:05+00', 6, '2024-01-02T03:04:05.000000Z'],
    ['2024-01-02 03:04:05.123+00', 3, '2024-01-02T03:04:05.123Z'],
    ['2024-01-02 03:04:05+00', 0, '2024-01-02T03:04:05Z'],
    ['2024-01-02 01:04:05.5+05:30', 1, '2024-01-01T19:34:05.5Z'],
    ['1969-12-31 23:59:59.999999+00', 6, '1969-12-31T23:59:59.999999Z'],
    ['0001-01-01 00:00:00+00', 0, '0001-01-01T00:00:00Z'],
    ['0044-03-15 12:00:00+00 BC', 0, '-0043-03-15T12:00:00Z'],
  ];
  for (const [input, digits, expected] of cases) assert.equal(text.parseTimestamptz(input, digits), expected, input);
  assert.equal(text.parseTimestamptz('infinity', 6), 'infinity');
  assert.equal(text.parseTimestamptz('-infinity', 6), '-infinity');
  assert.equal(text.parseTimestamp('infinity'), null);
});

test('timestamp, date and time become epoch micros / days / micros of day', () => {
  assert.equal(text.parseTimestamp('1970-01-01 00:00:00'), 0n);
  assert.equal(text.parseTimestamp('2024-01-02 03:04:05.000007'), BigInt(Date.UTC(2024, 0, 2, 3, 4, 5)) * 1000n + 7n);
  assert.equal(text.parseTimestamp('1969-12-31 23:59:59.5'), -500_000n);
  assert.equal(text.parseDate('1970-01-01'), 0);
  assert.equal(text.parseDate('2024-03-01'), Date.UTC(2024, 2, 1) / 86_400_000);
  assert.equal(text.parseDate('1969-12-31'), -1);
  assert.equal(text.parseDate('0001-01-01 BC'), -719_528, 'year 0, a leap year, ends the day before 0001-01-01 (-719162)');
  assert.equal(text.parseTime('00:00:00'), 0n);
  assert.equal(text.parseTime('23:59:59.999999'), 86_399_999_999n);
  assert.equal(text.parseTime('24:00:00'), 86_400_000_000n);
  assert.throws(() => text.parseTime('1:2:3'), text.TextValueError);
});

test('timetz is shifted to UTC and printed with the digits it needs', () => {
  assert.equal(text.parseTimetz('13:51:30+02'), '11:51:30Z');
  assert.equal(text.parseTimetz('01:00:00.25-03:30'), '04:30:00.25Z');
  assert.equal(text.parseTimetz('01:00:00+02'), '23:00:00Z');
  assert.equal(text.parseTimetz('00:00:00.000001+00'), '00:00:00.000001Z');
});

test('interval micros follow Debezium MicroDuration (365.25/12 days a month)', () => {
  assert.equal(text.DAYS_PER_MONTH_AVG, 30.4375);
  assert.equal(text.parseInterval('PT0S'), 0n);
  assert.equal(text.parseInterval('P1M2DT3H'), BigInt((30.4375 + 2) * 86_400 + 3 * 3600) * 1_000_000n);
  assert.equal(text.parseInterval('P1Y'), 31_557_600_000_000n);
  assert.equal(text.parseInterval('PT1.000001S'), 1_000_001n, 'exact where Debezium\'s doubles give 1000000');
  assert.equal(text.parseInterval('PT-0.000001S'), -1n);
  assert.equal(text.parseInterval('P-2M'), -2n * 2_629_800_000_000n);
  assert.equal(text.parseInterval('P-1Y2DT-1.5S'), -31_384_801_500_000n);
  assert.equal(text.parseInterval('P1W'), 604_800_000_000n);
  for (const bad of ['', 'P', 'PT', '1 day', 'P1DT']) assert.throws(() => text.parseInterval(bad), text.TextValueError, bad);
});

test('numbers, money, bytea and bits', () => {
  assert.equal(text.parseInteger('-32768'), -32768);
  assert.equal(text.parseBigInt('9223372036854775807'), 9_223_372_036_854_775_807n);
  assert.equal(text.parseFloat('NaN'), Number.NaN);
  assert.equal(text.parseFloat('-Infinity'), -Infinity);
  assert.equal(text.parseFloat('1.100000023841858'), 1.100000023841858);
  assert.throws(() => text.parseFloat('abc'), text.TextValueError);
  assert.equal(text.parseNumeric('-12.340'), '-12.340');
  assert.equal(text.parseNumeric('NaN'), null);
  assert.equal(text.parseMoney('$1,234.56'), '1234.56');
  assert.equal(text.parseMoney('-$0.05'), '-0.05');
  assert.equal(text.parseMoney('$92,233,720,368,547,758.07'), '92233720368547758.07');
  assert.deepEqual(text.parseBytea('\\x00ff10'), new Uint8Array([0, 255, 16]));
  assert.deepEqual(text.parseBytea('\\x'), new Uint8Array([]));
  assert.deepEqual(text.parseBits('10110', 5), new Uint8Array([0x16]));
  assert.deepEqual(text.parseBits('100000001', 9), new Uint8Array([0x01, 0x01]));
  assert.deepEqual(text.parseBits('0000000100000010', 16), new Uint8Array([0x02, 0x01]));
  assert.deepEqual(text.parseBits('00000000', 8), new Uint8Array([]));
  assert.equal(text.parseBits('1', 1), true);
  assert.equal(text.parseBits('0', 1), false);
  assert.equal(text.parseBoolean('t'), true);
  assert.throws(() => text.parseBoolean('true'), text.TextValueError);
});

test('array literals, quoted, null and nested', () => {
  assert.deepEqual(text.parseArray('{}', Number), []);
  assert.deepEqual(text.parseArray('{1,2,NULL,-4}', text.parseInteger), [1, 2, null, -4]);
  assert.deepEqual(text.parseArray('{a,"b c","d,e","f\\"g","NULL",""}', (item) => item), ['a', 'b c', 'd,e', 'f"g', 'NULL', '']);
  assert.deepEqual(text.parseArray('{{1,2},{3,4}}', text.parseInteger), [[1, 2], [3, 4]]);
  assert.deepEqual(text.parseArray('[0:1]={7,8}', text.parseInteger), [7, 8]);
  assert.throws(() => text.parseArray('{1,2', text.parseInteger), text.TextValueError);
  assert.throws(() => text.parseArray('{"a}', (item) => item), text.TextValueError);
});

test('typmods decode precision and scale', () => {
  assert.deepEqual(numericPrecisionScale((10 << 16) + 2 + 4), { precision: 10, scale: 2 });
  assert.equal(numericPrecisionScale(-1), null);
  assert.deepEqual(numericPrecisionScale((5 << 16) + (0x7ff & -2) + 4), { precision: 5, scale: -2 });
  assert.equal(temporalPrecision(-1), 6);
  assert.equal(temporalPrecision(3), 3);
});

const builtin = (oid: number, name: string, element = 0): PgType => ({
  oid,
  schema: 'pg_catalog',
  name,
  kind: 'b',
  element,
  baseType: 0,
  baseTypeMod: -1,
  enumLabels: null,
});

const TYPES = new Map<number, PgType>([
  [23, builtin(23, 'int4')],
  [1007, builtin(1007, '_int4', 23)],
  [1700, builtin(1700, 'numeric')],
  [1184, builtin(1184, 'timestamptz')],
  [600, builtin(600, 'point')],
  [1560, builtin(1560, 'bit')],
  [90001, { oid: 90001, schema: 'public', name: 'mood', kind: 'e', element: 0, baseType: 0, baseTypeMod: -1, enumLabels: ['sad', 'ok'] }],
  [90002, { oid: 90002, schema: 'public', name: 'price', kind: 'd', element: 0, baseType: 1700, baseTypeMod: (8 << 16) + 2 + 4, enumLabels: null }],
  [90003, { oid: 90003, schema: 'public', name: 'thing', kind: 'c', element: 0, baseType: 0, baseTypeMod: -1, enumLabels: null }],
  [90004, { oid: 90004, schema: 'public', name: 'int4', kind: 'b', element: 0, baseType: 0, baseTypeMod: -1, enumLabels: null }],
]);

test('columnCodec maps built-ins, arrays, enums and domains, and nothing else', () => {
  assert.deepEqual(columnCodec(23, -1, TYPES)?.type, { kind: 'int32' });
  const array = columnCodec(1007, -1, TYPES)!;
  assert.deepEqual(array.type, { kind: 'array', items: { kind: 'int32' } });
  assert.deepEqual(array.read('{1,NULL}'), [1, null]);
  assert.deepEqual(columnCodec(90001, -1, TYPES)?.type, { kind: 'enum', symbols: ['sad', 'ok'] });
  assert.deepEqual(columnCodec(90002, -1, TYPES)?.type, { kind: 'decimal', precision: 8, scale: 2 });
  assert.deepEqual(columnCodec(1700, -1, TYPES)?.type, { kind: 'decimal' });
  assert.deepEqual(columnCodec(1184, 2, TYPES)?.type, { kind: 'timestamptz', precision: 2 });
  assert.equal(columnCodec(1184, 2, TYPES)?.read('2024-01-02 03:04:05.1+00'), '2024-01-02T03:04:05.10Z');
  assert.deepEqual(columnCodec(1560, 1, TYPES)?.type, { kind: 'bits', length: 1 });
  assert.equal(columnCodec(600, -1, TYPES), undefined, 'point has no mapping');
  assert.equal(columnCodec(90003, -1, TYPES), undefined, 'composite has no mapping');
  assert.equal(columnCodec(90004, -1, TYPES), undefined, 'a user type named like a built-in is not the built-in');
  assert.equal(columnCodec(12345, -1, TYPES), undefined, 'unknown oid');
});
