/**
 * `tributary replay --from lake` on MariaDB end to end: a type-rich table (unsigned integers widened, DECIMAL,
 * BIT, binary strings, TIME/DATETIME/TIMESTAMP of several precisions, YEAR, ENUM, SET, JSON, defaults) streamed by
 * the daemon, compacted and replayed from the lake. An independent consumer finds the table of the live topic,
 * event for event what a replay from the database gives (but for processing times and the position each was read
 * at), with the lake snapshot's binlog position in every source block. TIME is a duration (negative, or beyond
 * 24 hours up to 838:59:59): an independent DuckDB reader finds the database's values in the Parquet files as
 * microseconds, and the replay from the lake gives them back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { loadConfig } from '../../src/config/index.js';
import { DURATION_DOC } from '../../src/lake/columns.js';
import { currentSchema } from '../../src/lake/metadata.js';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { readSnapshot } from '../support/lake.js';
import { adminConnection, uniqueName } from '../support/mysql.js';
import { assertLiveSchemas, assertSameEvents, replayBoth, tableFromTopic } from '../support/replay-lake.js';

let registry: TestRegistry;
let lake: string;
before(async () => {
  registry = await startTestRegistry();
  lake = mkdtempSync(join(tmpdir(), 'tributary-replay-lake-'));
});
after(async () => {
  await registry.close();
  rmSync(lake, { recursive: true, force: true });
});

const ROWS = 10_000;

/** Column, type, and the value of row `seq` (SQL); every nullable column is null in row 0. */
const COLUMNS: [string, string, string][] = [
  ['ti', 'TINYINT', 'seq % 256 - 128'],
  ['tiu', 'TINYINT UNSIGNED', 'seq % 256'],
  ['siu', 'SMALLINT UNSIGNED', 'seq * 6 % 65536'],
  ['mi', 'MEDIUMINT', 'seq - 8000'],
  ['iu', 'INT UNSIGNED', 'seq * 400000'],
  ['bi', 'BIGINT', 'seq * 1000000007 * IF(seq % 2 = 0, -1, 1)'],
  ['biu', 'BIGINT UNSIGNED', '18446744073709551615 - seq'],
  ['d', 'DECIMAL(30,10)', 'seq / 7'],
  ['d0', 'DECIMAL(5,0)', 'seq'],
  ['f', 'FLOAT', 'seq / 3'],
  ['db', 'DOUBLE', 'seq * 1.1'],
  ['b1', 'BIT(1)', 'seq % 2'],
  ['b12', 'BIT(12)', 'seq % 4096'],
  ['c8', 'CHAR(6) CHARACTER SET utf8mb4', "'déjà'"],
  ['v8', 'VARCHAR(40) CHARACTER SET utf8mb4', "CONCAT('héllo 😀 ', seq)"],
  ['t1', 'TEXT CHARACTER SET latin1', "CONCAT('façade £ ', seq)"],
  ['bin', 'BINARY(4)', "UNHEX(LPAD(HEX(seq), 6, '0'))"],
  ['vb', 'VARBINARY(10)', 'LEFT(UNHEX(MD5(seq)), 10)'],
  ['bl', 'BLOB', 'UNHEX(MD5(seq))'],
  ['dt', 'DATE', "DATE '1969-12-25' + INTERVAL seq DAY"],
  ['tm', 'TIME(6)', 'SEC_TO_TIME(seq * 1.234567)'],
  ['tm0', 'TIME', 'SEC_TO_TIME(seq * 7)'],
  ['dur', 'TIME(6)', "ELT(seq % 5 + 1, '-838:59:59.000000', '-00:00:01.5', '25:00:00', '838:59:59.000000', '12:34:56.789012')"],
  ['dtm', 'DATETIME(6)', "TIMESTAMP '1969-12-31 12:00:00' + INTERVAL seq * 1000001 MICROSECOND"],
  ['dtm0', 'DATETIME', "TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq MINUTE"],
  ['ts', 'TIMESTAMP(6) NULL', "TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq * 1500001 MICROSECOND"],
  ['ts3', 'TIMESTAMP(3) NULL', "TIMESTAMP '2024-07-01 00:00:00' + INTERVAL seq * 120000 MICROSECOND"],
  ['ts0', 'TIMESTAMP NULL', "TIMESTAMP '2001-01-01 00:00:00' + INTERVAL seq HOUR"],
  ['y', 'YEAR', '1901 + seq % 254'],
  ['e', "ENUM('a','b,c','it''s')", "ELT(seq % 3 + 1, 'a', 'b,c', 'it''s')"],
  ['s', "SET('x','y','z')", "ELT(seq % 4 + 1, '', 'x', 'x,z', 'x,y,z')"],
  ['j', 'JSON', "JSON_OBJECT('seq', seq, 'note', 'x  y', 'list', JSON_ARRAY(1, 2.5))"],
];

test('a MariaDB table streamed, compacted and replayed from the lake: the same table, the same events as from the database', async () => {
  const name = uniqueName('replay_lake_my');
  const table = `test.${name}`;
  const liveTopic = `${name}.test.${name}`;
  const mysql = await adminConnection();
  const insert = (from: number, to: number): string =>
    `INSERT INTO test.${name} (id, ${COLUMNS.map(([c]) => c).join(', ')}) SELECT seq, ${COLUMNS.map(([, , v]) => v).join(', ')} FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_${from}_to_${to}) q`;
  try {
    // Defaults go into the schema, so the replay must rebuild them too.
    await mysql.query(
      `CREATE TABLE test.${name} (id INT PRIMARY KEY, ${COLUMNS.map(([c, type]) => `${c} ${type}`).join(', ')},
         d_text VARCHAR(10) NOT NULL DEFAULT 'dflt', d_num DECIMAL(6,2) DEFAULT 1.50, d_ts TIMESTAMP NOT NULL DEFAULT '2000-01-01 00:00:00')`,
    );
    await mysql.query(`INSERT INTO test.${name} (id) VALUES (0)`);
    await mysql.query(insert(1, ROWS));
    const file = writeDaemonConfig(
      [{ name, kind: 'mysql', connection: { user: 'root' }, serverId: 10_000 + Math.floor(Math.random() * 50_000), tables: [{ name: table }] }],
      registry.url,
      { lake: { path: join(lake, name) } },
    );
    const config = loadConfig(file);
    const daemon = new Daemon(file);
    try {
      await daemon.waitForLog(/streaming the binlog/, 90_000);
      const last = ROWS + 200;
      await mysql.query(insert(ROWS + 1, last));
      await mysql.query(`UPDATE test.${name} SET v8 = CONCAT('updated ', id), d = -d, ts = ts + INTERVAL 1 HOUR WHERE id % 10 = 0`);
      await mysql.query(`DELETE FROM test.${name} WHERE id % 17 = 0 AND id > 0`);
      const updated = Math.floor(last / 10) + 1; // ids 0, 10, 20, …
      const deleted = Math.floor(last / 17);
      const tableRows = ROWS + 1 + 200 - deleted;
      // Every change in the live topic: snapshot reads, inserts, updates, deletes with their tombstones.
      const live = await readDecoded(registry.url, liveTopic, (r) => r.length >= ROWS + 1 + 200 + updated + 2 * deleted, 90_000);
      assert.equal(await daemon.stop(), 0);

      const both = await replayBoth(config, table, registry.url);
      assert.equal(both.lake.result.from, 'lake');
      assert.equal(both.lake.result.totalRows, tableRows);
      assert.equal(both.lake.records.length, tableRows, 'no duplicates in an uninterrupted replay');

      const replayed = tableFromTopic(both.lake.records);
      const expected = tableFromTopic(live);
      assert.equal(replayed.size, expected.size);
      for (const [key, row] of expected) assert.equal(replayed.get(key), row, `row ${key}`);

      assertSameEvents(both.lake.records, both.database.records);

      // TIME durations: the database's microseconds, in the Parquet files and in the replay from the lake.
      const [durRows] = await mysql.query<RowDataPacket[]>(`SELECT id, CAST(TIME_TO_SEC(dur) * 1000000 AS SIGNED) AS us FROM test.${name}`);
      const durations = new Map(durRows.map((r) => [String(r['id']), r['us'] === null ? null : BigInt(r['us'] as number | string)]));
      assert.deepEqual(
        new Set(durations.values()),
        new Set([null, -3_020_399_000_000n, -1_500_000n, 90_000_000_000n, 3_020_399_000_000n, 45_296_789_012n]),
      );
      const onDisk = await readSnapshot(join(lake, name, name, 'test', name));
      assert.equal(onDisk.types.get('dur'), 'BIGINT');
      const durField = currentSchema(onDisk.metadata).fields.find((f) => f.name === 'dur');
      assert.deepEqual([durField?.type, durField?.semantic, durField?.doc], ['BIGINT', 'io.debezium.time.MicroTime', DURATION_DOC]);
      assert.equal(onDisk.rows.size, durations.size);
      for (const [id, us] of durations) assert.equal(onDisk.rows.get(id)?.['dur'], us === null ? null : String(us), `dur of row ${id} in the Parquet files`);
      for (const record of both.lake.records) {
        const after = record.value!.after as Record<string, unknown>;
        assert.equal(after['dur'], durations.get(String(after['id'])), `dur of row ${String(after['id'])} replayed from the lake`);
      }
      await assertLiveSchemas(registry.url, liveTopic, [both.lake.topic, both.database.topic]);

      // The lake snapshot's binlog position: that of the last change it holds.
      const lastChange = live.findLast((r) => r.value !== null)!.value!.source;
      assert.match(both.lake.result.positions.current, new RegExp(`^${String(lastChange.file)}:${String(lastChange.pos)}`));
      both.lake.records.forEach((record, index) => {
        const source = record.value!.source;
        assert.equal(source.snapshot, index === both.lake.records.length - 1 ? 'last' : 'true');
        assert.deepEqual([source.file, source.pos, source.gtid], [lastChange.file, lastChange.pos, lastChange.gtid]);
      });
    } finally {
      if (daemon.running) daemon.kill('SIGKILL');
      await daemon.exited;
    }
  } finally {
    await mysql.query(`DROP TABLE IF EXISTS test.${name}`);
    await mysql.end();
  }
});
