import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Value } from '../../src/model/change.js';
import { sameSchema, type TableSchema } from '../../src/model/schema.js';
import { parseColumnDefault } from '../../src/sources/postgres/column-default.js';
import { columnCodec, type PgType } from '../../src/sources/postgres/types.js';

const TYPES = new Map<number, PgType>();
function pgType(oid: number, name: string, extra: Partial<PgType> = {}): void {
  TYPES.set(oid, { oid, schema: 'pg_catalog', name, kind: 'b', element: 0, baseType: 0, baseTypeMod: 0, enumLabels: null, ...extra });
}
const OIDS: Record<string, number> = {
  bool: 16, bytea: 17, int8: 20, int2: 21, int4: 23, text: 25, float4: 700, float8: 701, money: 790, bpchar: 1042,
  varchar: 1043, date: 1082, time: 1083, timestamp: 1114, timestamptz: 1184, interval: 1186, bit: 1560, numeric: 1700,
  uuid: 2950, jsonb: 3802, _int4: 1007, _text: 1009, mood: 90001,
};
for (const [name, oid] of Object.entries(OIDS)) pgType(oid, name);
pgType(OIDS._int4!, '_int4', { element: OIDS.int4! });
pgType(OIDS._text!, '_text', { element: OIDS.text! });
pgType(OIDS.mood!, 'mood', { schema: 'public', kind: 'e', enumLabels: ['ok', 'sad'] });

function parse(type: string, expression: string | null, typeMod = -1): Value | undefined {
  const codec = columnCodec(OIDS[type]!, typeMod, TYPES);
  assert.ok(codec !== undefined, type);
  return parseColumnDefault(expression, codec.type, codec.read);
}

// Expressions exactly as pg_get_expr(adbin, adrelid) prints them on PostgreSQL 15 (DateStyle ISO, TimeZone UTC,
// IntervalStyle iso_8601), for the DEFAULT clause in the comment.
test('constant defaults become the neutral value of their literal', () => {
  const cases: [type: string, expression: string, expected: Value, typeMod?: number][] = [
    ['int4', '5', 5], // 5
    ['int4', "'-7'::integer", -7], // -7
    ['int2', '3', 3],
    ['int8', "'9223372036854775807'::bigint", 2n ** 63n - 1n],
    ['numeric', '0.00', '0.00', ((5 << 16) | 2) + 4], // numeric(5,2) DEFAULT 0.00
    ['numeric', "'-1.5'::numeric", '-1.5'],
    ['float4', '1.5', 1.5],
    ['float8', '2.25', 2.25],
    ['float8', "'NaN'::double precision", Number.NaN],
    ['money', '1.5', '1.50'],
    ['text', "'abc'::text", 'abc'],
    ['text', "'it''s'::text", "it's"],
    ['text', "'a\\b'::text", 'a\\b'], // standard_conforming_strings: backslashes are literal
    ['text', "E'a\\\\b'::text", 'a\\b'],
    ['text', "''::text", ''],
    ['varchar', "'x'::character varying", 'x'],
    ['bpchar', "'y'::bpchar", 'y'],
    ['bool', 'true', true],
    ['bool', 'false', false],
    ['date', "'2024-01-01'::date", Date.UTC(2024, 0, 1) / 86_400_000],
    ['timestamp', "'2024-01-01 10:00:00.5'::timestamp without time zone", BigInt(Date.UTC(2024, 0, 1, 10)) * 1000n + 500_000n, 3],
    ['timestamptz', "'2024-01-01 08:00:00+00'::timestamp with time zone", '2024-01-01T08:00:00.000000Z'],
    ['time', "'12:34:56'::time without time zone", (12n * 3600n + 34n * 60n + 56n) * 1_000_000n],
    ['interval', "'PT1H'::interval", 3_600_000_000n],
    ['_int4', "'{}'::integer[]", []],
    ['_text', "'{a,b}'::text[]", ['a', 'b']],
    ['bytea', "'\\x0102'::bytea", new Uint8Array([1, 2])],
    ['uuid', "'00000000-0000-0000-0000-000000000001'::uuid", '00000000-0000-0000-0000-000000000001'],
    ['mood', "'sad'::mood", 'sad'],
    ['jsonb', `'{"a": 1}'::jsonb`, '{"a": 1}'],
    ['bit', `'101'::"bit"`, new Uint8Array([5]), 3],
  ];
  for (const [type, expression, expected, typeMod] of cases) assert.deepEqual(parse(type, expression, typeMod), expected, expression);
});

test('computed defaults, NULL and unreadable literals give no default', () => {
  const cases: [type: string, expression: string | null][] = [
    ['int4', null],
    ['int4', "nextval('dflt_probe_id_seq'::regclass)"],
    ['timestamptz', 'now()'],
    ['timestamp', 'CURRENT_TIMESTAMP'],
    ['date', 'CURRENT_DATE'],
    ['uuid', 'gen_random_uuid()'],
    ['int4', '(1 + 2)'],
    ['text', "('x'::text || 'y'::text)"],
    ['date', "('now'::text)::date"],
    ['int4', 'NULL::integer'],
    ['numeric', "'NaN'::numeric"], // numeric NaN has no decimal value
    ['int4', "'abc'::text"],
  ];
  for (const [type, expression] of cases) assert.equal(parse(type, expression), undefined, String(expression));
});

test('schemas whose defaults are bigints compare without throwing', () => {
  const schema = (defaultValue: Value): TableSchema => ({
    id: { database: 'test', schema: 'public', table: 't' },
    columns: [{ name: 'n', type: { kind: 'int64' }, nullable: false, sourceType: 'bigint', defaultValue }],
    key: [],
  });
  assert.equal(sameSchema(schema(5n), schema(5n)), true);
  assert.equal(sameSchema(schema(5n), schema(6n)), false);
});
