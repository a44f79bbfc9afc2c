/**
 * Every common MariaDB type through `tributary run` into Kafka, read back by an independent consumer (the stock
 * Confluent deserializer) and compared with what was written, in the Debezium MySQL connector's representation.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { adminConnection, uniqueName } from '../support/mysql.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

const COLUMNS = `id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, d DECIMAL(30,10), d0 DECIMAL(5,0), f FLOAT, db DOUBLE,
  b1 BIT(1), b12 BIT(12), b64 BIT(64),
  c8 CHAR(6) CHARACTER SET utf8mb4, v8 VARCHAR(40) CHARACTER SET utf8mb4, t8 TEXT CHARACTER SET utf8mb4,
  c1 CHAR(6) CHARACTER SET latin1, v1 VARCHAR(40) CHARACTER SET latin1, t1 TEXT CHARACTER SET latin1,
  bin BINARY(4), vb VARBINARY(10), bl BLOB, dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL, y YEAR,
  e ENUM('a','b,c','it''s'), s SET('x','y','z'), j JSON`;

const COLUMN_NAMES = COLUMNS.split(',')
  .map((part) => /^\s*([a-z0-9_]+)\s/.exec(part)?.[1])
  .filter((name): name is string => name !== undefined);

/** One row's SQL literals and the values the consumer must decode, column by column. */
interface Sample {
  readonly sql: Record<string, string>;
  readonly decoded: Record<string, unknown>;
}

const MICROS_PER_S = 1_000_000n;

const A: Sample = {
  sql: {
    ti: '-128', tiu: '255', si: '-32768', siu: '65535', mi: '-8388608', miu: '16777215', i: '-2147483648',
    iu: '4294967295', bi: '-9223372036854775808', biu: '18446744073709551615',
    d: "'-12345678901234567890.0123456789'", d0: '99999', f: '1.5', db: '0.30000000000000004e0',
    b1: "b'1'", b12: "b'100000000011'", b64: "x'8000000000000001'",
    c8: "'déjà'", v8: "'héllo 😀 ✓'", t8: "'long ✓ text 𝄞'", c1: "'Grüße'", v1: "'ÀÉÎÕÜ ÿ'", t1: "'façade £ ©'",
    bin: "x'0102'", vb: "x'ff00'", bl: "x'00ff10'", dt: "'2024-02-29'", tm: "'-838:59:59.000001'",
    dtm: "'2024-01-02 03:04:05.123456'", ts: "'2024-01-02 03:04:05.654321'", y: '2024', e: "'it''s'", s: "'x,z'",
    j: `'{"a": [1, 2.5, "x"], "b": null}'`,
  },
  decoded: {
    ti: -128, tiu: 255, si: -32768, siu: 65535, mi: -8388608, miu: 16777215, i: -2147483648,
    iu: 4294967295n, bi: -9223372036854775808n,
    biu: -1n, // bigint.unsigned.handling.mode=long: 2^64-1 wraps as Java's long does
    d: '-12345678901234567890.0123456789', d0: '99999', f: 1.5, db: 0.30000000000000004,
    b1: true,
    // io.debezium.data.Bits: little-endian bytes (Java BitSet order), padded to ceil(n/8)
    b12: Buffer.from([0x03, 0x08]), b64: Buffer.from([0x01, 0, 0, 0, 0, 0, 0, 0x80]),
    c8: 'déjà', v8: 'héllo 😀 ✓', t8: 'long ✓ text 𝄞', c1: 'Grüße', v1: 'ÀÉÎÕÜ ÿ', t1: 'façade £ ©',
    bin: Buffer.from([1, 2, 0, 0]), vb: Buffer.from([0xff, 0]), bl: Buffer.from([0, 0xff, 0x10]),
    dt: 19782, // days since the epoch
    tm: -((838n * 3600n + 59n * 60n + 59n) * MICROS_PER_S + 1n),
    dtm: 1704164645123456n,
    ts: '2024-01-02T03:04:05.654321Z',
    y: 2024, e: "it's", s: 'x,z', j: '{"a": [1, 2.5, "x"], "b": null}',
  },
};

const B: Sample = {
  sql: {
    ti: '127', tiu: '0', si: '32767', siu: '0', mi: '8388607', miu: '0', i: '2147483647', iu: '0',
    bi: '9223372036854775807', biu: '9223372036854775808', d: "'0.0000000001'", d0: '-7', f: '-0.25', db: '-1e300',
    b1: "b'0'", b12: "b'000000000001'", b64: "x'0000000000000100'",
    c8: "'ab'", v8: "''", t8: "'日本語'", c1: "'x'", v1: "'¡olé!'", t1: "''",
    bin: "x'00000000'", vb: "x''", bl: "x'41'", dt: "'1969-12-31'", tm: "'23:59:59.999999'",
    dtm: "'1970-01-01 00:00:00.000001'", ts: "'2038-01-19 03:14:07.999999'", y: '1901', e: "'b,c'", s: "''",
    j: `'[]'`,
  },
  decoded: {
    ti: 127, tiu: 0, si: 32767, siu: 0, mi: 8388607, miu: 0, i: 2147483647, iu: 0n, bi: 9223372036854775807n,
    biu: -9223372036854775808n, d: '0.0000000001', d0: '-7', f: -0.25, db: -1e300,
    b1: false, b12: Buffer.from([0x01, 0x00]), b64: Buffer.from([0, 0x01, 0, 0, 0, 0, 0, 0]),
    c8: 'ab', v8: '', t8: '日本語', c1: 'x', v1: '¡olé!', t1: '',
    bin: Buffer.from([0, 0, 0, 0]), vb: Buffer.alloc(0), bl: Buffer.from('A'), dt: -1,
    tm: 86_399_999_999n, dtm: 1n, ts: '2038-01-19T03:14:07.999999Z', y: 1901, e: 'b,c', s: '', j: '[]',
  },
};

/** The Kafka Connect logical name each column's Avro schema carries (undefined: a plain Avro primitive). */
const CONNECT_NAMES: Record<string, [avroType: string, connectName: string | undefined]> = {
  ti: ['int', undefined], tiu: ['int', undefined], si: ['int', undefined], siu: ['int', undefined],
  mi: ['int', undefined], miu: ['int', undefined], i: ['int', undefined], iu: ['long', undefined],
  bi: ['long', undefined], biu: ['long', undefined],
  d: ['bytes', 'org.apache.kafka.connect.data.Decimal'], d0: ['bytes', 'org.apache.kafka.connect.data.Decimal'],
  f: ['float', undefined], db: ['double', undefined], b1: ['boolean', undefined],
  b12: ['bytes', 'io.debezium.data.Bits'], b64: ['bytes', 'io.debezium.data.Bits'],
  c8: ['string', undefined], v8: ['string', undefined], t8: ['string', undefined],
  c1: ['string', undefined], v1: ['string', undefined], t1: ['string', undefined],
  bin: ['bytes', undefined], vb: ['bytes', undefined], bl: ['bytes', undefined],
  dt: ['int', 'io.debezium.time.Date'], tm: ['long', 'io.debezium.time.MicroTime'],
  dtm: ['long', 'io.debezium.time.MicroTimestamp'], ts: ['string', 'io.debezium.time.ZonedTimestamp'],
  y: ['int', 'io.debezium.time.Year'], e: ['string', 'io.debezium.data.Enum'], s: ['string', 'io.debezium.data.EnumSet'],
  j: ['string', 'io.debezium.data.Json'],
};

const DECIMAL_SCALES: Record<string, number> = { d: 10, d0: 0 };

/** Connect's Decimal: big-endian two's complement of the unscaled value → its decimal text. */
function decimalText(bytes: Buffer, scale: number): string {
  let unscaled = bytes.length === 0 ? 0n : BigInt.asIntN(bytes.length * 8, BigInt(`0x${bytes.toString('hex')}`));
  const negative = unscaled < 0n;
  if (negative) unscaled = -unscaled;
  const digits = unscaled.toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** A decoded row with decimals as text, so it compares with the samples. */
function readable(row: Record<string, unknown> | null): Record<string, unknown> | null {
  if (row === null) return null;
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k, k in DECIMAL_SCALES && Buffer.isBuffer(v) ? decimalText(v, DECIMAL_SCALES[k]!) : v]),
  );
}

const insert = (table: string, id: number, sample: Sample): string =>
  `INSERT INTO ${table} (id, ${COLUMN_NAMES.slice(1).join(', ')}) VALUES (${id}, ${COLUMN_NAMES.slice(1).map((c) => sample.sql[c]).join(', ')})`;

const update = (table: string, id: number, sample: Sample): string =>
  `UPDATE ${table} SET ${COLUMN_NAMES.slice(1).map((c) => `${c} = ${sample.sql[c]}`).join(', ')} WHERE id = ${id}`;

const rowOf = (id: number, sample: Sample): Record<string, unknown> => ({ id, ...sample.decoded });
const nullRow = (id: number): Record<string, unknown> =>
  Object.fromEntries(COLUMN_NAMES.map((c) => [c, c === 'id' ? id : null]));

interface AvroField {
  name: string;
  type: unknown;
}

/** The registered value schema's row fields: column → [Avro type, connect.name]. */
async function registeredColumnTypes(topic: string): Promise<Record<string, [string, string | undefined]>> {
  const response = await fetch(`${registry.url}/subjects/${topic}-value/versions/latest`);
  assert.equal(response.status, 200, `value schema of ${topic} registered`);
  const envelope = JSON.parse(((await response.json()) as { schema: string }).schema) as { fields: AvroField[] };
  const before = envelope.fields.find((f) => f.name === 'before')!.type as unknown[];
  const row = before.find((t) => typeof t === 'object') as { fields: AvroField[] };
  return Object.fromEntries(
    row.fields.map((f) => {
      const type = (Array.isArray(f.type) ? f.type.find((t) => t !== 'null') : f.type) as string | Record<string, unknown>;
      return [f.name, typeof type === 'string' ? [type, undefined] : [type.type as string, type['connect.name'] as string | undefined]];
    }),
  );
}

test('every common MariaDB type: snapshot, insert, update and delete decode as Debezium emits them', async () => {
  const mysql = await adminConnection();
  const name = uniqueName('e2e_my_types');
  const table = name;
  const topic = `${name}.test.${table}`;
  await mysql.query(`CREATE TABLE ${table} (${COLUMNS})`);
  await mysql.query(insert(table, 1, A));
  await mysql.query(insert(table, 2, B));
  await mysql.query(`INSERT INTO ${table} (id) VALUES (3)`);
  const config = writeDaemonConfig(
    [{ name, kind: 'mysql', connection: { user: 'root' }, serverId: 10_000 + Math.floor(Math.random() * 50_000), tables: [{ name: `test.${table}` }] }],
    registry.url,
  );
  const daemon = new Daemon(config);
  try {
    await daemon.waitForLog(/streaming the binlog/);
    await mysql.query(insert(table, 4, B));
    await mysql.query(insert(table, 5, A));
    await mysql.query(update(table, 1, B));
    await mysql.query(update(table, 4, A));
    await mysql.query(`UPDATE ${table} SET ${COLUMN_NAMES.slice(1).map((c) => `${c} = NULL`).join(', ')} WHERE id = 5`);
    await mysql.query(`DELETE FROM ${table} WHERE id IN (2, 4)`);
    const expected: [op: string | null, before: unknown, after: unknown][] = [
      ['r', null, rowOf(1, A)],
      ['r', null, rowOf(2, B)],
      ['r', null, nullRow(3)],
      ['c', null, rowOf(4, B)],
      ['c', null, rowOf(5, A)],
      ['u', rowOf(1, A), rowOf(1, B)],
      ['u', rowOf(4, B), rowOf(4, A)],
      ['u', rowOf(5, A), nullRow(5)],
      ['d', rowOf(2, B), null],
      [null, null, null], // tombstone
      ['d', rowOf(4, A), null],
      [null, null, null],
    ];
    const records = await readDecoded(registry.url, topic, (r) => r.length >= expected.length);
    assert.equal(records.length, expected.length);
    records.forEach((record, i) => {
      const [op, before, after] = expected[i]!;
      const actual = [record.value?.op ?? null, readable(record.value?.before ?? null), readable(record.value?.after ?? null)];
      assert.deepEqual(actual, [op, before, after], `record ${i}`);
      const id = ((after ?? before ?? (expected[i - 1]![1] as Record<string, unknown>)) as { id: number }).id;
      assert.deepEqual(record.key, { id }, `key of record ${i}`);
    });
    const snapshotSource = records[0]!.value!.source;
    // The local server is MariaDB: Debezium's MariaDB connector names itself and its source block.
    assert.equal(snapshotSource.connector, 'mariadb');
    assert.equal(records[3]!.value!.source.connector, 'mariadb');
    const registered = (await (await fetch(`${registry.url}/subjects/${topic}-value/versions/latest`)).json()) as { schema: string };
    assert.match(registered.schema, /"connect.name":"io\.debezium\.connector\.mariadb\.Source"/);
    assert.equal(snapshotSource.db, 'test');
    assert.equal(snapshotSource.table, table);
    assert.ok(['true', 'first', 'last'].includes(String(snapshotSource.snapshot)), `snapshot marker ${String(snapshotSource.snapshot)}`);
    const streamedSource = records[3]!.value!.source;
    assert.equal(streamedSource.snapshot, 'false');
    assert.match(String(streamedSource.file), /\S/);
    assert.ok(typeof streamedSource.pos === 'bigint' && streamedSource.pos > 0n);
    assert.ok(typeof streamedSource.server_id === 'bigint' && streamedSource.server_id > 0n);
    assert.deepEqual(await registeredColumnTypes(topic), { id: ['int', undefined], ...CONNECT_NAMES });
    assert.equal(await daemon.stop(), 0);
  } finally {
    if (daemon.running) daemon.kill('SIGKILL');
    await mysql.query(`DROP TABLE ${table}`);
    await mysql.end();
  }
});
