import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldType } from '../../src/model/schema.js';
import { adminConnection, EventCollector, mysqlSource, uniqueName } from '../support/mysql.js';

const COLUMNS = `id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED, d DECIMAL(30,10), f FLOAT, f2 FLOAT, db DOUBLE, db2 DOUBLE, b1 BIT(1), b9 BIT(9),
  c CHAR(5) CHARACTER SET latin1, v VARCHAR(300) CHARACTER SET utf8mb4, t TEXT CHARACTER SET utf8mb4,
  bin BINARY(4), vb VARBINARY(10), bl BLOB, dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL, y YEAR,
  e ENUM('a','b,c','it''s'), s SET('x','y','z'), j JSON`;

const VALUES = `(?, -128, 255, -32768, 65535, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
  '-12345678901234567890.0123456789', 1.1, 16777217e0, 2.25, 0.30000000000000004e0, b'1', b'100000001', 'déjà', 'héllo 😀', 'long ✓ text',
  x'0102', x'ff00', x'00ff10', '2024-02-29', '-838:59:59.000001', '2024-01-02 03:04:05.123456',
  '2024-01-02 03:04:05.654321', 2024, 'it''s', 'x,z', '{"a": [1, 2.5, "x"]}')`;

const EXPECTED = {
  ti: -128,
  tiu: 255,
  si: -32768,
  siu: 65535,
  mi: 16777215,
  i: -2147483648,
  iu: 4294967295n,
  bi: -9223372036854775808n,
  biu: -1n, // bigint.unsigned.handling.mode=long: 2^64-1 wraps like Java's long
  d: '-12345678901234567890.0123456789',
  f: Math.fround(1.1),
  f2: 16777216, // FLOAT text shows 16777200: the snapshot must not read it as text
  db: 2.25,
  db2: 0.30000000000000004,
  b1: true,
  b9: new Uint8Array([1, 1]),
  c: 'déjà',
  v: 'héllo 😀',
  t: 'long ✓ text',
  bin: new Uint8Array([1, 2, 0, 0]),
  vb: new Uint8Array([0xff, 0]),
  bl: new Uint8Array([0, 0xff, 0x10]),
  dt: 19782,
  tm: -(838n * 3600n + 59n * 60n + 59n) * 1_000_000n - 1n,
  dtm: 1704164645123456n,
  ts: '2024-01-02T03:04:05.654321Z',
  y: 2024,
  e: "it's",
  s: 'x,z',
  j: '{"a": [1, 2.5, "x"]}',
};

const TYPES: Record<string, FieldType> = {
  ti: { kind: 'int16' },
  tiu: { kind: 'int16' },
  siu: { kind: 'int32' },
  iu: { kind: 'int64' },
  biu: { kind: 'int64' },
  d: { kind: 'decimal', precision: 30, scale: 10 },
  f: { kind: 'float32' },
  b1: { kind: 'bits', length: 1 },
  b9: { kind: 'bits', length: 9 },
  bin: { kind: 'bytes' },
  tm: { kind: 'time', precision: 6 },
  dtm: { kind: 'timestamp', precision: 6 },
  ts: { kind: 'timestamptz', precision: 6 },
  y: { kind: 'year' },
  e: { kind: 'enum', symbols: ['a', 'b,c', "it's"] },
  s: { kind: 'set', symbols: ['x', 'y', 'z'] },
  j: { kind: 'json' },
};

test('every supported type reads the same from the snapshot and from the binlog', async () => {
  const admin = await adminConnection();
  const table = uniqueName('types');
  await admin.query(`CREATE TABLE ${table} (${COLUMNS})`);
  await admin.query(`INSERT INTO ${table} VALUES ${VALUES}`, [1]);
  await admin.query(`INSERT INTO ${table} (id) VALUES (3)`);
  const zeroTemporals = `INSERT INTO ${table} (id, dt, dtm, ts) VALUES (?, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00')`;
  await admin.query(zeroTemporals, [4]);
  const source = mysqlSource({ tables: [{ name: `test.${table}` }], snapshot: 'initial' });
  const collector = new EventCollector(source);
  try {
    await collector.until(() => collector.changes().length === 3);
    await admin.query(`INSERT INTO ${table} VALUES ${VALUES}`, [2]);
    await admin.query(zeroTemporals, [5]);
    await collector.until(() => collector.changes().length === 5);
    const [snapshotRow, nullRow, snapshotZeros, streamed, streamedZeros] = collector.changes();
    // Zero dates are null in nullable columns, read either way.
    for (const zeros of [snapshotZeros!, streamedZeros!]) {
      assert.deepEqual([zeros.after!.dt, zeros.after!.dtm, zeros.after!.ts], [null, null, null], zeros.op);
    }
    assert.equal(snapshotRow!.op, 'r');
    assert.equal(streamed!.op, 'c');
    assert.deepEqual({ ...snapshotRow!.after, id: 0 }, { ...EXPECTED, id: 0 });
    assert.deepEqual({ ...streamed!.after, id: 0 }, { ...EXPECTED, id: 0 });
    for (const [name, type] of Object.entries(TYPES)) {
      assert.deepEqual(snapshotRow!.schema.columns.find((c) => c.name === name)?.type, type, `snapshot type of ${name}`);
      assert.deepEqual(streamed!.schema.columns.find((c) => c.name === name)?.type, type, `stream type of ${name}`);
    }
    assert.ok(Object.entries(nullRow!.after!).every(([k, v]) => k === 'id' || v === null));
  } finally {
    await collector.stop();
    await source.close();
    await admin.query(`DROP TABLE ${table}`);
    await admin.end();
  }
});
