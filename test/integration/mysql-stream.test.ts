import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { MysqlSourceInfo } from '../../src/model/change.js';
import { createLogger } from '../../src/ops/logger.js';
import { parseCheckpoint } from '../../src/sources/mysql/position.js';
import { adminConnection, EventCollector, mysqlSource, uniqueName } from '../support/mysql.js';

test('streams inserts, updates and deletes with before/after images and transaction boundaries', async () => {
  const admin = await adminConnection();
  const table = uniqueName('crud');
  await admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, qty INT)`);
  const source = mysqlSource({ tables: [{ name: `test.${table}` }], transactions: true });
  const collector = new EventCollector(source);
  try {
    // Wait for the stream to be reading before writing: a heartbeat proves the dump started.
    await collector.until((events) => events.some((e) => e.type === 'heartbeat'));
    await admin.query(`BEGIN; INSERT INTO ${table} VALUES (1, 'a', 10), (2, 'b', NULL); COMMIT`);
    await admin.query(`UPDATE ${table} SET qty = 11 WHERE id = 1`);
    await admin.query(`DELETE FROM ${table} WHERE id = 2`);
    await collector.until((events) => events.filter((e) => e.type === 'end').length === 3);
    const [c1, c2, u, d] = collector.changes();
    assert.equal(c1!.op, 'c');
    assert.deepEqual(c1!.after, { id: 1, name: 'a', qty: 10 });
    assert.deepEqual(c2!.after, { id: 2, name: 'b', qty: null });
    assert.equal(u!.op, 'u');
    assert.deepEqual(u!.before, { id: 1, name: 'a', qty: 10 });
    assert.deepEqual(u!.after, { id: 1, name: 'a', qty: 11 });
    assert.equal(d!.op, 'd');
    assert.deepEqual(d!.before, { id: 2, name: 'b', qty: null });
    assert.equal(d!.after, null);
    assert.deepEqual(c1!.schema.key, ['id']);
    assert.equal(c1!.source.table, table);
    assert.equal(c1!.source.snapshot, 'false');
    assert.equal(c1!.source.connector, 'mariadb', 'the local server is MariaDB');
    assert.equal(c1!.transaction?.id, c2!.transaction?.id);
    assert.equal(c2!.transaction?.totalOrder, 2n);

    const boundaries = collector.events.filter((e) => e.type === 'begin' || e.type === 'end');
    assert.deepEqual(boundaries.map((e) => e.type), ['begin', 'end', 'begin', 'end', 'begin', 'end']);
    const end = boundaries[1]!;
    assert.equal(end.type === 'end' && end.counts?.get(`test.${table}`), 2);

    // Positions: rows in a transaction resume at its start with a growing skip; the end is past the commit.
    const p1 = parseCheckpoint(c1!.position);
    const p2 = parseCheckpoint(c2!.position);
    assert.equal(p1.pos, p2.pos);
    assert.deepEqual([p1.skip, p2.skip], [1, 2]);
    const pEnd = parseCheckpoint(end.position);
    assert.equal(pEnd.skip, 0);
    assert.ok(pEnd.pos > p1.pos);
    assert.ok(pEnd.gtids !== null && pEnd.gtids !== p1.gtids);
  } finally {
    await collector.stop();
    await source.close();
    await admin.query(`DROP TABLE ${table}`);
    await admin.end();
  }
});

test('resuming from a position mid-transaction skips the rows already delivered', async () => {
  const admin = await adminConnection();
  const table = uniqueName('resume');
  await admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY)`);
  const first = mysqlSource({ tables: [{ name: `test.${table}` }] });
  const collector = new EventCollector(first);
  let resumeAt: string;
  try {
    await collector.until((events) => events.some((e) => e.type === 'heartbeat'));
    await admin.query(`BEGIN; INSERT INTO ${table} VALUES (1), (2), (3); COMMIT; INSERT INTO ${table} VALUES (4)`);
    await collector.until(() => collector.changes().length === 4);
    resumeAt = collector.changes()[1]!.position; // after row 2 of the 3-row transaction
  } finally {
    await collector.stop();
    await first.close();
  }
  for (const gtid of [true, false]) {
    const second = mysqlSource({ tables: [{ name: `test.${table}` }], startPosition: resumeAt, gtid });
    const again = new EventCollector(second);
    try {
      await again.until(() => again.changes().length >= 2);
      assert.deepEqual(again.changes().map((e) => e.after?.id), [3, 4], `gtid=${gtid}`);
    } finally {
      await again.stop();
      await second.close();
    }
  }
  await admin.query(`DROP TABLE ${table}`);
  await admin.end();
});

test('follows binlog rotation and reconnects after the server kills the dump without losing or repeating rows', async () => {
  const admin = await adminConnection();
  const table = uniqueName('rotate');
  await admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY)`);
  const logLines: string[] = [];
  const logger = createLogger('warn', new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) }));
  const activity: { activity: string; at: number }[] = [];
  const source = mysqlSource({ tables: [{ name: `test.${table}` }], logger, report: (a) => activity.push({ activity: a, at: performance.now() }) });
  const collector = new EventCollector(source);
  try {
    await collector.until((events) => events.some((e) => e.type === 'heartbeat'));
    assert.deepEqual(activity.map((a) => a.activity), ['streaming'], 'streaming reported once the dump started');
    await admin.query(`INSERT INTO ${table} VALUES (1)`);
    await admin.query('FLUSH BINARY LOGS');
    await admin.query(`INSERT INTO ${table} VALUES (2)`);
    await collector.until(() => collector.changes().length === 2);
    const files = collector.changes().map((e) => parseCheckpoint(e.position).file);
    assert.notEqual(files[0], files[1], 'the second row is in the new binlog file');
    assert.equal((collector.changes()[1]!.source as MysqlSourceInfo).file, files[1]);

    // Kill our binlog dump thread: the source reconnects from its last position.
    const [threads] = await admin.query<import('mysql2/promise').RowDataPacket[]>(
      "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'",
    );
    for (const t of threads) await admin.query(`KILL ${Number(t.ID)}`).catch(() => undefined);
    await admin.query(`INSERT INTO ${table} VALUES (3)`);
    await admin.query(`BEGIN; INSERT INTO ${table} VALUES (4), (5); COMMIT`);
    await collector.until(() => collector.changes().length >= 5, 30_000);
    assert.deepEqual(collector.changes().map((e) => e.after?.id), [1, 2, 3, 4, 5]);
    assert.ok(threads.length > 0 && logLines.some((l) => l.includes('reconnecting')), 'the dump was killed and reopened');
    // Told as it happened: lost, then streaming again (before any row of the new connection was pulled).
    const lost = activity.findIndex((a) => a.activity === 'reconnecting');
    assert.ok(lost > 0 && activity[lost + 1]?.activity === 'streaming', JSON.stringify(activity));
    console.log(`# the binlog connection was down for ${(activity[lost + 1]!.at - activity[lost]!.at).toFixed(1)} ms`);
    assert.ok(!logLines.some((l) => l.includes('CRC32')), 'every event passed its checksum');
  } finally {
    await collector.stop();
    await source.close();
    await admin.query(`DROP TABLE ${table}`);
    await admin.end();
  }
});

test('TRUNCATE TABLE of a captured table becomes an op t event; of another table, nothing', async () => {
  const admin = await adminConnection();
  const table = uniqueName('trunc');
  const other = uniqueName('trunc_other');
  await admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY); CREATE TABLE ${other} (id INT PRIMARY KEY)`);
  const source = mysqlSource({ tables: [{ name: `test.${table}` }] });
  const collector = new EventCollector(source);
  try {
    await collector.until((events) => events.some((e) => e.type === 'heartbeat'));
    await admin.query(`INSERT INTO ${table} VALUES (1)`);
    await admin.query(`TRUNCATE TABLE ${other}`);
    await admin.query(`TRUNCATE TABLE test.${table}`);
    await admin.query(`INSERT INTO ${table} VALUES (2)`);
    await collector.until(() => collector.changes().length === 3);
    assert.deepEqual(collector.changes().map((e) => e.op), ['c', 't', 'c']);
    const truncate = collector.changes()[1]!;
    assert.equal(truncate.before, null);
    assert.equal(truncate.after, null);
    assert.equal(truncate.source.table, table);
    assert.equal(parseCheckpoint(truncate.position).skip, 0);
  } finally {
    await collector.stop();
    await source.close();
    await admin.query(`DROP TABLE ${table}; DROP TABLE ${other}`);
    await admin.end();
  }
});
