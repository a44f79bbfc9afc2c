import { test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { BinlogClient } from '../../src/sources/mysql/binlog-client.js';
import { parseRowsEvent, RowsDecoder } from '../../src/sources/mysql/rows-event.js';
import { adminConnection, MYSQL, uniqueName } from '../support/mysql.js';

test('a consumer that stops pulling pauses the binlog socket; pulling again resumes it with nothing lost', async () => {
  const admin = await adminConnection();
  const table = uniqueName('bp');
  await admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY)`);
  const [status] = await admin.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
  const client = new BinlogClient({
    connection: MYSQL,
    replicaServerId: 50_000 + Math.floor(Math.random() * 10_000),
    start: { file: String(status[0]!.File), pos: Number(status[0]!.Position) },
    tables: { test: [table] },
    heartbeatMs: 1_000,
    highWater: 20,
    checksum: true,
    flavor: 'mariadb',
  });
  const signal = new AbortController().signal;
  try {
    client.start();
    for (let i = 1; i <= 200; i++) await admin.query(`INSERT INTO ${table} VALUES (?)`, [i]);
    const deadline = Date.now() + 10_000;
    while (!client.isPaused && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(client.isPaused, 'paused once 20 events were waiting');
    // 200 transactions are ~800 events; a paused socket holds the queue near the high-water mark.
    assert.ok(client.queued < 200, `queue bounded, held ${client.queued}`);

    const ids: number[] = [];
    while (ids.length < 200) {
      const event = await client.next(signal);
      if (event.type !== 'rows') continue;
      const decoder = new RowsDecoder(table, event.tableMap!.columns, [{ name: 'id', type: { kind: 'int32' }, nullable: false, sourceType: 'int' }]);
      ids.push(...decoder.decode(parseRowsEvent(event.rowsEvent!, true)).map((image) => image.after!.id as number));
    }
    assert.deepEqual(ids, Array.from({ length: 200 }, (_, i) => i + 1));
    assert.ok(client.verifiedEvents >= 800, 'every event had its checksum verified');
  } finally {
    await client.stop();
    await admin.query(`DROP TABLE ${table}`);
    await admin.end();
  }
});
