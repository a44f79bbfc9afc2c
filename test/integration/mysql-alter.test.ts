import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminConnection, EventCollector, mysqlSource, uniqueName } from '../support/mysql.js';

test('ALTER TABLE mid-stream: rows before and after decode with their own schema version', async () => {
  const admin = await adminConnection();
  const table = uniqueName('alter');
  await admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, a VARCHAR(10), b INT)`);
  const source = mysqlSource({ tables: [{ name: `test.${table}` }] });
  const collector = new EventCollector(source);
  try {
    await collector.until((events) => events.some((e) => e.type === 'heartbeat'));
    await admin.query(`INSERT INTO ${table} VALUES (1, 'x', 5)`);
    await admin.query(`ALTER TABLE ${table} DROP COLUMN b, ADD COLUMN c DECIMAL(5,2) NOT NULL DEFAULT 1.50 AFTER id`);
    await admin.query(`INSERT INTO ${table} VALUES (2, 3.25, 'y')`);
    await admin.query(`UPDATE ${table} SET a = 'z' WHERE id = 1`);
    await collector.until(() => collector.changes().length === 3);
    const [before, after, update] = collector.changes();
    assert.deepEqual(before!.after, { id: 1, a: 'x', b: 5 });
    assert.deepEqual(before!.schema.columns.map((c) => c.name), ['id', 'a', 'b']);
    assert.deepEqual(after!.after, { id: 2, c: '3.25', a: 'y' });
    assert.deepEqual(after!.schema.columns.map((c) => [c.name, c.type.kind, c.nullable]), [
      ['id', 'int32', false],
      ['c', 'decimal', false],
      ['a', 'string', true],
    ]);
    assert.deepEqual(update!.before, { id: 1, c: '1.50', a: 'x' });
    assert.equal(update!.schema, after!.schema);
  } finally {
    await collector.stop();
    await source.close();
    await admin.query(`DROP TABLE ${table}`);
    await admin.end();
  }
});

test('a stream replayed after an ALTER still decodes the older rows with the columns they were written with', async () => {
  const admin = await adminConnection();
  const table = uniqueName('replay');
  await admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, old_col INT)`);
  const [rows] = await admin.query<import('mysql2/promise').RowDataPacket[]>('SHOW MASTER STATUS');
  const start = JSON.stringify({ file: rows[0]!.File, pos: Number(rows[0]!.Position), gtids: null, skip: 0 });
  await admin.query(`INSERT INTO ${table} VALUES (1, 7)`);
  await admin.query(`ALTER TABLE ${table} CHANGE old_col new_col VARCHAR(5)`);
  await admin.query(`INSERT INTO ${table} VALUES (2, 'n')`);
  const source = mysqlSource({ tables: [{ name: `test.${table}` }], startPosition: start, gtid: false });
  const collector = new EventCollector(source);
  try {
    await collector.until(() => collector.changes().length === 2);
    const [first, second] = collector.changes();
    assert.deepEqual(first!.after, { id: 1, old_col: 7 });
    assert.deepEqual(second!.after, { id: 2, new_col: 'n' });
    assert.deepEqual(second!.schema.key, ['id']);
  } finally {
    await collector.stop();
    await source.close();
    await admin.query(`DROP TABLE ${table}`);
    await admin.end();
  }
});
