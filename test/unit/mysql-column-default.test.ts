import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Value } from '../../src/model/change.js';
import { parseColumnDefault } from '../../src/sources/mysql/column-default.js';
import { fieldTypeOf } from '../../src/sources/mysql/types.js';

function parse(columnType: string, columnDefault: string | null, nullable = true, extra = ''): Value | undefined {
  return parseColumnDefault(columnDefault, extra, fieldTypeOf('test.t', { name: 'c', columnType }), nullable);
}

// COLUMN_TYPE and COLUMN_DEFAULT exactly as MariaDB 10.11's information_schema.COLUMNS shows them for the
// DEFAULT clause in the comment.
test('constant defaults become the neutral value of their literal', () => {
  const cases: [columnType: string, columnDefault: string, expected: Value, nullable?: boolean][] = [
    ['int(11)', '5', 5, false], // NOT NULL DEFAULT 5
    ['int(11)', '-7', -7],
    ['tinyint(1)', '1', 1],
    ['bigint(20) unsigned', '18446744073709551615', -1n], // wraps as Debezium's long mode does
    ['decimal(5,2)', '0.00', '0.00'],
    ['float', '1.5', 1.5],
    ['double', '2.25', 2.25],
    ['varchar(10)', "'abc'", 'abc'],
    ['varchar(10)', "'it''s'", "it's"],
    ['varchar(10)', "''", ''],
    ['varchar(10)', "'NULL'", 'NULL'], // DEFAULT 'NULL', the string
    ['varchar(10)', "'a\\\\b'", 'a\\b'], // DEFAULT 'a\\b'
    ['varchar(10)', "'a\\nb'", 'a\nb'], // DEFAULT 'a\nb'
    ['char(3)', "'x'", 'x', false],
    ['date', "'2024-01-01'", Date.UTC(2024, 0, 1) / 86_400_000],
    ['time', "'12:34:56'", (12n * 3600n + 34n * 60n + 56n) * 1_000_000n],
    ['datetime(3)', "'2024-01-01 10:00:00.123'", BigInt(Date.UTC(2024, 0, 1, 10)) * 1000n + 123_000n],
    ['timestamp', "'2024-01-01 00:00:00'", '2024-01-01T00:00:00Z'],
    ['timestamp(3)', "'2024-01-01 00:00:00.500'", '2024-01-01T00:00:00.500Z', false],
    ['timestamp', 'current_timestamp()', '1970-01-01T00:00:00Z', false], // NOT NULL DEFAULT CURRENT_TIMESTAMP
    ['enum(\'a\',\'b\')', "'b'", 'b'],
    ["set('x','y')", "'x,y'", 'x,y'],
    ['year(4)', '2024', 2024],
    ['bit(3)', "b'101'", new Uint8Array([5])],
    ['bit(1)', "b'1'", true],
    ['bit(10)', "b'1000000001'", new Uint8Array([1, 2])], // Bits are little-endian bytes
    ['varbinary(4)', "'xy'", new Uint8Array([0x78, 0x79])],
    ['text', "'hello'", 'hello'],
    ['longtext', "'{}'", '{}'],
    ['datetime', "'0000-00-00 00:00:00'", 0n, false], // a zero date is the epoch in a NOT NULL column
  ];
  for (const [columnType, columnDefault, expected, nullable] of cases) {
    assert.deepEqual(parse(columnType, columnDefault, nullable ?? true), expected, `${columnType} DEFAULT ${columnDefault}`);
  }
});

test('no default, DEFAULT NULL, expressions and functions give no default', () => {
  const cases: [columnType: string, columnDefault: string | null, nullable?: boolean][] = [
    ['int(11)', null, false], // no DEFAULT clause
    ['int(11)', 'NULL'], // DEFAULT NULL (or none) on a nullable column
    ['varchar(10)', 'NULL'],
    ['int(11)', '(1 + 2)'],
    ['varchar(36)', 'uuid()'],
    ['datetime', 'current_timestamp()'], // only TIMESTAMP gets the epoch
    ['datetime(6)', 'current_timestamp(6)', false],
    ['timestamp', 'current_timestamp()'], // nullable: Debezium leaves it without a default
    ['date', "'0000-00-00'"], // zero date in a nullable column is null
    ['int(11)', "'abc'"],
  ];
  for (const [columnType, columnDefault, nullable] of cases) {
    assert.equal(parse(columnType, columnDefault, nullable ?? true), undefined, `${columnType} DEFAULT ${columnDefault}`);
  }
});

test('MySQL 8 bare literals read as values unless EXTRA marks an expression', () => {
  assert.equal(parse('varchar(10)', 'abc'), 'abc');
  assert.equal(parse('varchar(10)', 'abc', true, 'DEFAULT_GENERATED'), undefined);
  assert.equal(parse('timestamp', 'CURRENT_TIMESTAMP', false, 'DEFAULT_GENERATED'), '1970-01-01T00:00:00Z');
});
