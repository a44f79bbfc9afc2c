import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceError } from '../../src/model/errors.js';
import { adminConnection, EventCollector, mysqlSource, uniqueName } from '../support/mysql.js';

async function firstError(source: ReturnType<typeof mysqlSource>): Promise<unknown> {
  const collector = new EventCollector(source);
  try {
    await collector.until(() => false, 15_000);
  } catch (error) {
    return error;
  } finally {
    await collector.stop().catch(() => undefined);
    await source.close();
  }
  return undefined;
}

test('a server without binlog_row_metadata=FULL is refused with the variable and the fix', async () => {
  const admin = await adminConnection();
  const table = uniqueName('chk');
  await admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY)`);
  await admin.query("SET GLOBAL binlog_row_metadata = 'MINIMAL'");
  try {
    const error = await firstError(mysqlSource({ tables: [{ name: `test.${table}` }] }));
    assert.ok(error instanceof SourceError, String(error));
    assert.match(error.message, /binlog_row_metadata is MINIMAL, must be FULL/);
    assert.match(error.fix ?? '', /SET GLOBAL binlog_row_metadata = 'FULL'.*my\.cnf/);
  } finally {
    await admin.query("SET GLOBAL binlog_row_metadata = 'FULL'");
    await admin.query(`DROP TABLE ${table}`);
    await admin.end();
  }
});

test('a missing table, a purged binlog and an unknown GTID position each say what to do', async () => {
  const admin = await adminConnection();
  const table = uniqueName('chk');
  await admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY)`);
  try {
    const missing = await firstError(mysqlSource({ tables: [{ name: 'test.no_such_table_here' }] }));
    assert.ok(missing instanceof SourceError);
    assert.match(missing.message, /test\.no_such_table_here does not exist/);

    const purgedAt = JSON.stringify({ file: 'mariadb-bin.000000', pos: 4, gtids: null, skip: 0 });
    const purged = await firstError(mysqlSource({ tables: [{ name: `test.${table}` }], startPosition: purgedAt, gtid: false }));
    assert.ok(purged instanceof SourceError, String(purged));
    assert.match(purged.message, /mariadb-bin\.000000/);
    assert.match(purged.fix ?? '', /delete this source's checkpoint/);

    const aheadAt = JSON.stringify({ file: 'mariadb-bin.000001', pos: 4, gtids: '0-1-999999999', skip: 0 });
    const ahead = await firstError(mysqlSource({ tables: [{ name: `test.${table}` }], startPosition: aheadAt, gtid: true }));
    assert.ok(ahead instanceof SourceError, String(ahead));
    assert.match(ahead.fix ?? '', /checkpoint/);
  } finally {
    await admin.query(`DROP TABLE ${table}`);
    await admin.end();
  }
});
