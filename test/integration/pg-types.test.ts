import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Value } from '../../src/model/change.js';
import type { FieldType } from '../../src/model/schema.js';
import { changes, sourceOptions, sql, startSource, uniqueName } from '../support/postgres.js';

const US = 1_000_000n;
const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
const micros = (iso: string, extraMicros = 0n): bigint => BigInt(Date.parse(iso)) * 1000n + extraMicros;

/** column, SQL type, SQL literal, expected FieldType, expected neutral value. */
const MATRIX: [string, string, string, FieldType, Value][] = [
  ['i2', 'int2', '-32768', { kind: 'int16' }, -32768],
  ['i4', 'int4', '2147483647', { kind: 'int32' }, 2147483647],
  ['i8', 'int8', '-9223372036854775808', { kind: 'int64' }, -9223372036854775808n],
  ['n', 'numeric(12,4)', '-12345678.9012', { kind: 'decimal', precision: 12, scale: 4 }, '-12345678.9012'],
  ['n2', 'numeric(8,3)', '1.5', { kind: 'decimal', precision: 8, scale: 3 }, '1.500'],
  ['nu', 'numeric', '3.14159265358979323846264338327950288', { kind: 'decimal' }, '3.14159265358979323846264338327950288'],
  ['f4', 'float4', '1.1', { kind: 'float32' }, 1.1],
  ['f8', 'float8', '0.1', { kind: 'float64' }, 0.1],
  ['fnan', 'float8', "'NaN'", { kind: 'float64' }, Number.NaN],
  ['finf', 'float8', "'-Infinity'", { kind: 'float64' }, -Infinity],
  ['b', 'bool', 'true', { kind: 'boolean' }, true],
  ['t', 'text', "'héllo, \"wörld\"\n'", { kind: 'string' }, 'héllo, "wörld"\n'],
  ['vc', 'varchar(10)', "'abc'", { kind: 'string' }, 'abc'],
  ['ch', 'char(3)', "'a'", { kind: 'string' }, 'a  '],
  ['by', 'bytea', "'\\x00ff7f'::bytea", { kind: 'bytes' }, new Uint8Array([0, 255, 127])],
  ['d', 'date', "'2024-02-29'", { kind: 'date' }, day('2024-02-29')],
  ['dold', 'date', "'1900-01-01'", { kind: 'date' }, day('1900-01-01')],
  ['tm', 'time', "'23:59:59.999999'", { kind: 'time', precision: 6 }, 86_399_999_999n],
  ['tm3', 'time(3)', "'12:00:00.123'", { kind: 'time', precision: 3 }, 43_200_123_000n],
  ['ttz', 'timetz', "'13:51:30.5+02'", { kind: 'timetz' }, '11:51:30.5Z'],
  ['ts', 'timestamp', "'2024-01-02 03:04:05.123456'", { kind: 'timestamp', precision: 6 }, micros('2024-01-02T03:04:05.123Z', 456n)],
  ['ts0', 'timestamp(0)', "'1960-06-01 10:00:00'", { kind: 'timestamp', precision: 0 }, micros('1960-06-01T10:00:00Z')],
  ['tz', 'timestamptz', "'2024-01-02 03:04:05.000001+02'", { kind: 'timestamptz', precision: 6 }, '2024-01-02T01:04:05.000001Z'],
  ['tz3', 'timestamptz(3)', "'2024-07-01 00:00:00.12-07'", { kind: 'timestamptz', precision: 3 }, '2024-07-01T07:00:00.120Z'],
  ['tz0', 'timestamptz(0)', "'2024-07-01 00:00:00Z'", { kind: 'timestamptz', precision: 0 }, '2024-07-01T00:00:00Z'],
  ['iv', 'interval', "'1 year 2 mons 3 days 04:05:06.000007'", { kind: 'interval' }, 14n * 2_629_800n * US + 3n * 86_400n * US + (4n * 3600n + 5n * 60n + 6n) * US + 7n],
  ['ivn', 'interval', "'-1 day -00:00:00.5'", { kind: 'interval' }, -86_400n * US - 500_000n],
  ['u', 'uuid', "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", { kind: 'uuid' }, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ['j', 'json', `'{"b": 1,  "a": [1, 2]}'`, { kind: 'json' }, '{"b": 1,  "a": [1, 2]}'],
  ['jb', 'jsonb', `'{"b": 1,  "a": [1, 2]}'`, { kind: 'json' }, '{"a": [1, 2], "b": 1}'],
  ['x', 'xml', "'<a>1</a>'", { kind: 'xml' }, '<a>1</a>'],
  ['e', '$MOOD', "'ok'", { kind: 'enum', symbols: ['sad', 'ok', 'happy'] }, 'ok'],
  ['ia', 'int[]', "'{1,NULL,-3}'", { kind: 'array', items: { kind: 'int32' } }, [1, null, -3]],
  ['ta', 'text[]', `'{"a b","c,d",NULL,"\\"q\\""}'`, { kind: 'array', items: { kind: 'string' } }, ['a b', 'c,d', null, '"q"']],
  ['na', 'numeric(5,2)[]', "'{1.5,2}'", { kind: 'array', items: { kind: 'decimal', precision: 5, scale: 2 } }, ['1.50', '2.00']],
  ['ip', 'inet', "'192.168.0.1/24'", { kind: 'string' }, '192.168.0.1/24'],
  ['cidr', 'cidr', "'10.0.0.0/8'", { kind: 'string' }, '10.0.0.0/8'],
  ['mac', 'macaddr', "'08:00:2b:01:02:03'", { kind: 'string' }, '08:00:2b:01:02:03'],
  ['m', 'money', "'-1234.56'", { kind: 'decimal', scale: 2 }, '-1234.56'],
  ['bt', 'bit(10)', "B'1000000001'", { kind: 'bits', length: 10 }, new Uint8Array([0x01, 0x02])],
  ['b1', 'bit(1)', "B'1'", { kind: 'bits', length: 1 }, true],
  ['vb', 'varbit(16)', "B'101'", { kind: 'bits', length: 16 }, new Uint8Array([0x05])],
  ['dom', '$PRICE', '9.5', { kind: 'decimal', precision: 8, scale: 2 }, '9.50'],
  ['nul', 'text', 'NULL', { kind: 'string' }, null],
];

test('type matrix: snapshot and stream give the same neutral values, exactly as written', async () => {
  const table = uniqueName('types');
  const mood = uniqueName('mood');
  const price = uniqueName('price');
  const sqlType = (type: string): string => type.replace('$MOOD', mood).replace('$PRICE', price);
  await sql(
    `CREATE TYPE ${mood} AS ENUM ('sad', 'ok', 'happy')`,
    `CREATE DOMAIN ${price} AS numeric(8,2) CHECK (VALUE > 0)`,
    `CREATE TABLE ${table} (id int PRIMARY KEY, ${MATRIX.map(([name, type]) => `${name} ${sqlType(type)}`).join(', ')})`,
  );
  const insert = (id: number): string => `INSERT INTO ${table} VALUES (${id}, ${MATRIX.map(([, , literal]) => literal).join(', ')})`;
  await sql("SET TimeZone = 'America/New_York'", insert(1));
  const source = startSource(sourceOptions({ tables: [{ name: table }] }));
  try {
    const [snapshot] = changes(await source.reader.take(1));
    await sql("SET TimeZone = 'Asia/Kolkata'", insert(2));
    const [streamed] = changes(await source.reader.take(1));
    const columns = new Map(snapshot!.schema.columns.map((column) => [column.name, column]));
    for (const [name, , , type, expected] of MATRIX) {
      assert.deepEqual(columns.get(name)?.type, type, `type of ${name}`);
      assert.deepEqual(snapshot!.after![name], expected, `snapshot value of ${name}`);
      assert.deepEqual(streamed!.after![name], expected, `streamed value of ${name}`);
    }
    assert.equal(streamed!.schema, snapshot!.schema, 'snapshot and stream share the schema object');
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE ${table}`, `DROP TYPE ${mood}`, `DROP DOMAIN ${price}`);
  }
});
