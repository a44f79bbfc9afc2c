/**
 * The type matrix end to end: a table with a column of every common PostgreSQL type goes through `tributary run`
 * into Kafka, and the stock Confluent deserializer decodes every event to the value Debezium's PostgreSQL
 * connector would have written (decimal.handling.mode precise, time.precision.mode adaptive), for snapshot rows,
 * streamed inserts, updates and deletes. The registered schemas are checked against Debezium's names and types.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { admin, dropSlotAndPublication, uniqueName } from '../support/postgres.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

const US = 1_000_000n;
const days = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
const epochMicros = (iso: string, extra = 0n): bigint => BigInt(Date.parse(iso)) * 1000n + extra;
const hex = (text: string): { hex: string } => ({ hex: text });

/**
 * column, SQL type, then two (SQL literal, expected decoded value) pairs: A is inserted, B is what A is updated to.
 * Expected values are Debezium's: decimals as exact strings (decoded with the schema's scale), bytes as hex.
 */
const MATRIX: [string, string, string, unknown, string, unknown][] = [
  ['c_int2', 'smallint', '-32768', -32768, '32767', 32767],
  ['c_int4', 'integer', '2147483647', 2147483647, '-2147483648', -2147483648],
  ['c_int8', 'bigint', '9223372036854775807', 9223372036854775807n, '-9223372036854775808', -9223372036854775808n],
  ['c_num_ps', 'numeric(12,4)', '-12345678.1234', '-12345678.1234', '0.0001', '0.0001'],
  ['c_num_p', 'numeric(8,3)', '1.5', '1.500', '-99999.999', '-99999.999'],
  ['c_num', 'numeric', '3.14159265358979323846264338327950288', '3.14159265358979323846264338327950288', '100.500', '100.5'],
  ['c_real', 'real', '3.14', Math.fround(3.14), '-1.5e-10', Math.fround(-1.5e-10)],
  ['c_double', 'double precision', '2.718281828459045', 2.718281828459045, '1e308', 1e308],
  ['c_bool', 'boolean', 'true', true, 'false', false],
  ['c_text', 'text', "'héllo wörld ✓ \"q\"'", 'héllo wörld ✓ "q"', "''", ''],
  ['c_varchar', 'varchar(20)', "'varchar'", 'varchar', "'x'", 'x'],
  ['c_char', 'char(5)', "'ab'", 'ab   ', "'abcde'", 'abcde'],
  ['c_bytea', 'bytea', "'\\x00ff10'::bytea", hex('00ff10'), "''::bytea", hex('')],
  ['c_date', 'date', "'2024-02-29'", days('2024-02-29'), "'1969-12-31'", -1],
  ['c_time', 'time', "'13:14:15.123456'", 47_655_123_456n, "'23:59:59.999999'", 86_399_999_999n],
  ['c_time3', 'time(3)', "'13:14:15.123'", 47_655_123, "'00:00:00.001'", 1],
  ['c_timetz', 'timetz', "'13:14:15.123456+02'", '11:14:15.123456Z', "'00:30:00-01:30'", '02:00:00Z'],
  ['c_ts', 'timestamp', "'2024-02-29 13:14:15.123456'", epochMicros('2024-02-29T13:14:15.123Z', 456n), "'1969-12-31 23:59:59.999999'", -1n],
  ['c_ts3', 'timestamp(3)', "'2024-02-29 13:14:15.123'", BigInt(Date.parse('2024-02-29T13:14:15.123Z')), "'1970-01-01 00:00:00.001'", 1n],
  ['c_tstz', 'timestamptz', "'2024-02-29 13:14:15.123456+05:30'", '2024-02-29T07:44:15.123456Z', "'2000-01-01 00:00:00+00'", '2000-01-01T00:00:00.000000Z'],
  ['c_tstz3', 'timestamptz(3)', "'2024-07-01 00:00:00.12-07'", '2024-07-01T07:00:00.120Z', "'1960-01-01 00:00:00.001+00'", '1960-01-01T00:00:00.001Z'],
  [
    'c_interval', 'interval',
    "'1 year 2 mons 3 days 04:05:06.789012'", 14n * 2_629_800n * US + 3n * 86_400n * US + (4n * 3600n + 5n * 60n + 6n) * US + 789_012n,
    "'-1 days -00:00:00.000001'", -86_400n * US - 1n,
  ],
  ['c_uuid', 'uuid', "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "'00000000-0000-0000-0000-000000000000'", '00000000-0000-0000-0000-000000000000'],
  ['c_json', 'json', `'{"b": 1,  "a": [1,2]}'`, '{"b": 1,  "a": [1,2]}', "'[]'", '[]'],
  ['c_jsonb', 'jsonb', `'{"b": 1,  "a": [1,2]}'`, '{"a": [1, 2], "b": 1}', "'null'", 'null'],
  ['c_int_arr', 'int[]', "'{1,NULL,-3}'", [1, null, -3], "'{}'", []],
  ['c_text_arr', 'text[]', `ARRAY['a b', 'c,d', NULL, '"q"', 'NULL']`, ['a b', 'c,d', null, '"q"', 'NULL'], "'{}'", []],
  ['c_enum', 'ENUM', "'happy'", 'happy', "'sad'", 'sad'],
  ['c_inet', 'inet', "'192.168.1.5/24'", '192.168.1.5/24', "'::1'", '::1'],
  ['c_cidr', 'cidr', "'10.1.0.0/16'", '10.1.0.0/16', "'2001:db8::/32'", '2001:db8::/32'],
  ['c_macaddr', 'macaddr', "'08:00:2B:01:02:03'", '08:00:2b:01:02:03', "'00:00:00:00:00:00'", '00:00:00:00:00:00'],
  ['c_money', 'money', "'-1234.56'", '-1234.56', "'0'", '0.00'],
  // Debezium's bit strings: the last bit is bit 0, bytes little-endian up to the highest set bit (BitSet.toByteArray).
  ['c_bit', 'bit(16)', "B'0000000100000010'", hex('0201'), "B'0000000000000000'", hex('')],
  ['c_bit1', 'bit(1)', "B'1'", true, "B'0'", false],
  ['c_varbit', 'varbit(20)', "B'101'", hex('05'), "B'10000000001'", hex('0104')],
  ['c_xml', 'xml', `'<a x="1">t</a>'`, '<a x="1">t</a>', "'<b/>'", '<b/>'],
];

/** Registered field schema per column, as Debezium's Avro converter writes it (type and connect.name). */
const SCHEMA_CHECKS: Record<string, { type: string; connectName?: string; parameters?: Record<string, string> }> = {
  c_int2: { type: 'int', connectName: undefined },
  c_int8: { type: 'long' },
  c_num_ps: { type: 'bytes', connectName: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '4', 'connect.decimal.precision': '12' } },
  c_num: { type: 'record', connectName: 'io.debezium.data.VariableScaleDecimal' },
  c_real: { type: 'float' },
  c_date: { type: 'int', connectName: 'io.debezium.time.Date' },
  c_time: { type: 'long', connectName: 'io.debezium.time.MicroTime' },
  c_time3: { type: 'int', connectName: 'io.debezium.time.Time' },
  c_timetz: { type: 'string', connectName: 'io.debezium.time.ZonedTime' },
  c_ts: { type: 'long', connectName: 'io.debezium.time.MicroTimestamp' },
  c_ts3: { type: 'long', connectName: 'io.debezium.time.Timestamp' },
  c_tstz: { type: 'string', connectName: 'io.debezium.time.ZonedTimestamp' },
  c_interval: { type: 'long', connectName: 'io.debezium.time.MicroDuration' },
  c_uuid: { type: 'string', connectName: 'io.debezium.data.Uuid' },
  c_json: { type: 'string', connectName: 'io.debezium.data.Json' },
  c_jsonb: { type: 'string', connectName: 'io.debezium.data.Json' },
  c_int_arr: { type: 'array' },
  c_enum: { type: 'string', connectName: 'io.debezium.data.Enum', parameters: { allowed: 'sad,ok,happy' } },
  c_money: { type: 'bytes', connectName: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '2' } },
  c_bit: { type: 'bytes', connectName: 'io.debezium.data.Bits', parameters: { length: '16' } },
  c_bit1: { type: 'boolean' },
  c_varbit: { type: 'bytes', connectName: 'io.debezium.data.Bits', parameters: { length: '20' } },
  c_xml: { type: 'string', connectName: 'io.debezium.data.Xml' },
};

interface AvroField {
  name: string;
  type: unknown;
}

/** The non-null branch of an optional field's union. */
function fieldType(field: AvroField): Record<string, unknown> {
  const type = Array.isArray(field.type) ? (field.type as unknown[]).find((t) => t !== 'null') : field.type;
  return typeof type === 'string' ? { type } : (type as Record<string, unknown>);
}

function unscaledToString(bytes: Buffer, scale: number): string {
  let unscaled = bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) unscaled -= 1n << BigInt(bytes.length * 8);
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** A decoded row with decimals turned into exact strings (scale from the registered schema) and bytes into hex. */
function normalize(row: Record<string, unknown> | null, fields: Map<string, Record<string, unknown>>): Record<string, unknown> | null {
  if (row === null) return null;
  return Object.fromEntries(
    Object.entries(row).map(([name, value]) => {
      const type = fields.get(name)!;
      if (value === null) return [name, null];
      if (type['connect.name'] === 'org.apache.kafka.connect.data.Decimal') {
        const scale = Number((type['connect.parameters'] as Record<string, string>).scale);
        return [name, unscaledToString(value as Buffer, scale)];
      }
      if (type['connect.name'] === 'io.debezium.data.VariableScaleDecimal') {
        const { scale, value: bytes } = value as { scale: number; value: Buffer };
        return [name, unscaledToString(bytes, scale)];
      }
      if (Buffer.isBuffer(value)) return [name, hex(value.toString('hex'))];
      return [name, value];
    }),
  );
}

async function latestSchema(subject: string): Promise<{ id: number; version: number; schema: Record<string, unknown> }> {
  const response = await fetch(`${registry.url}/subjects/${encodeURIComponent(subject)}/versions/latest`);
  assert.equal(response.status, 200, `subject ${subject} is registered`);
  const body = (await response.json()) as { id: number; version: number; schema: string };
  return { id: body.id, version: body.version, schema: JSON.parse(body.schema) as Record<string, unknown> };
}

test('every common PostgreSQL type reaches Kafka as Debezium writes it: snapshot, insert, update, delete', async () => {
  const name = uniqueName('e2e_pg_types');
  const enumType = `${name}_mood`;
  const topic = `${name}.public.${name}`;
  const pg = await admin();
  const columnsSql = MATRIX.map(([column, type]) => `${column} ${type === 'ENUM' ? enumType : type}`).join(', ');
  const literals = (pick: 'a' | 'b'): string[] =>
    MATRIX.map(([, type, a, , b]) => {
      const literal = pick === 'a' ? a : b;
      return type === 'ENUM' ? `${literal}::${enumType}` : literal;
    });
  const expected = (pick: 'a' | 'b', id: number): Record<string, unknown> => ({
    id,
    ...Object.fromEntries(MATRIX.map(([column, , , a, , b]) => [column, pick === 'a' ? a : b])),
  });
  const allNull = (id: number): Record<string, unknown> => ({ id, ...Object.fromEntries(MATRIX.map(([column]) => [column, null])) });
  const columnList = MATRIX.map(([column]) => column).join(', ');

  await pg.query(`CREATE TYPE ${enumType} AS ENUM ('sad', 'ok', 'happy')`);
  await pg.query(`CREATE TABLE ${name} (id int PRIMARY KEY, ${columnsSql})`);
  await pg.query(`ALTER TABLE ${name} REPLICA IDENTITY FULL`);
  await pg.query(`INSERT INTO ${name} (id, ${columnList}) VALUES (1, ${literals('a').join(', ')})`);
  await pg.query(`INSERT INTO ${name} (id) VALUES (2)`);
  const config = writeDaemonConfig(
    [{ name, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, tables: [{ name: `public.${name}` }] }],
    registry.url,
  );
  const daemon = new Daemon(config);
  try {
    await daemon.waitForLog(/streaming changes/);
    await pg.query(`INSERT INTO ${name} (id, ${columnList}) VALUES (3, ${literals('a').join(', ')})`);
    await pg.query(`UPDATE ${name} SET (${columnList}) = (${literals('b').join(', ')}) WHERE id = 3`);
    await pg.query(`DELETE FROM ${name} WHERE id = 3`);
    await pg.query(`UPDATE ${name} SET (${columnList}) = (${literals('a').join(', ')}) WHERE id = 2`);

    const records = await readDecoded(registry.url, topic, (r) => r.length >= 7);
    const value = await latestSchema(`${topic}-value`);
    const envelopeFields = value.schema.fields as AvroField[];
    const rowSchema = fieldType(envelopeFields.find((f) => f.name === 'before')!);
    const fields = new Map((rowSchema.fields as AvroField[]).map((f) => [f.name, fieldType(f)]));

    const events = records.map((r) => ({
      key: r.key,
      op: r.value?.op ?? null,
      before: r.value === null ? undefined : normalize(r.value.before, fields),
      after: r.value === null ? undefined : normalize(r.value.after, fields),
      snapshot: r.value?.source.snapshot,
    }));
    assert.deepEqual(events.map((e) => [e.op, e.key]), [
      ['r', { id: 1 }],
      ['r', { id: 2 }],
      ['c', { id: 3 }],
      ['u', { id: 3 }],
      ['d', { id: 3 }],
      [null, { id: 3 }],
      ['u', { id: 2 }],
    ]);
    const [snap1, snap2, insert, update, remove, , fill] = events;
    assert.deepEqual(snap1!.after, expected('a', 1), 'snapshot row with every type');
    assert.deepEqual(snap2!.after, allNull(2), 'snapshot row of nulls');
    assert.equal(snap2!.snapshot, 'last');
    assert.deepEqual(insert!.after, expected('a', 3), 'streamed insert');
    assert.equal(insert!.before, null);
    assert.deepEqual(update!.before, expected('a', 3), 'update before (REPLICA IDENTITY FULL)');
    assert.deepEqual(update!.after, expected('b', 3), 'update after');
    assert.deepEqual(remove!.before, expected('b', 3), 'delete before');
    assert.equal(remove!.after, null);
    assert.deepEqual(fill!.before, allNull(2));
    assert.deepEqual(fill!.after, expected('a', 2));

    // The registered schemas: Debezium's record names, field order and Connect types per column.
    assert.equal(value.schema.name, 'Envelope');
    assert.equal(value.schema.namespace, topic);
    assert.deepEqual(envelopeFields.map((f) => f.name), ['before', 'after', 'source', 'transaction', 'op', 'ts_ms', 'ts_us', 'ts_ns']);
    // The row record is declared inside the envelope, so it inherits the envelope's namespace.
    assert.equal(`${String(rowSchema.namespace ?? value.schema.namespace)}.${String(rowSchema.name)}`, `${topic}.Value`);
    if (process.env.E2E_PRINT_SCHEMAS) console.log(JSON.stringify(value.schema, null, 1));
    assert.deepEqual([...fields.keys()], ['id', ...MATRIX.map(([column]) => column)]);
    for (const [column, check] of Object.entries(SCHEMA_CHECKS)) {
      const type = fields.get(column)!;
      assert.equal(type.type, check.type, `${column} type`);
      assert.equal(type['connect.name'], check.connectName, `${column} connect.name`);
      for (const [parameter, expectedValue] of Object.entries(check.parameters ?? {})) {
        assert.equal((type['connect.parameters'] as Record<string, string>)[parameter], expectedValue, `${column} ${parameter}`);
      }
    }
    assert.deepEqual(fields.get('c_int2')!['connect.type'], 'int16');
    const key = await latestSchema(`${topic}-key`);
    assert.equal(`${String(key.schema.namespace)}.${String(key.schema.name)}`, `${topic}.Key`);
    assert.deepEqual((key.schema.fields as AvroField[]).map((f) => [f.name, f.type]), [['id', 'int']]);
    assert.equal(await daemon.stop(), 0);
  } finally {
    if (daemon.running) daemon.kill('SIGKILL');
    await daemon.exited;
    await dropSlotAndPublication(`tributary_${name}`, `tributary_${name}`);
    await pg.query(`DROP TABLE IF EXISTS ${name}`);
    await pg.query(`DROP TYPE IF EXISTS ${enumType}`);
    await pg.end();
  }
});
