/**
 * `tributary replay --from database` against real MariaDB and Kafka: the table read inside
 * START TRANSACTION WITH CONSISTENT SNAPSHOT, replayed to a new topic, is rebuilt exactly by an independent
 * consumer, with the snapshot's binlog position in every source block; a stopped replay continues on rerun.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.js';
import { silentLogger } from '../../src/ops/logger.js';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { replayProgressName, runReplay } from '../../src/replay/index.js';
import { startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { uniqueTopic } from '../support/kafka.js';
import { adminConnection, uniqueName } from '../support/mysql.js';
import { waitFor } from '../support/postgres.js';
import { checkRecords, MYSQL_COLUMNS, topicEnd } from '../support/replay.js';

const ROWS = 50_000;

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

test('MariaDB: replay to a new topic rebuilds exactly the table; a stopped replay continues on rerun', async () => {
  const name = uniqueName('replay_my');
  const mysql = await adminConnection();
  try {
    await mysql.query(`CREATE TABLE ${name} (${MYSQL_COLUMNS})`);
    await mysql.query(
      `INSERT INTO ${name} SELECT seq, CONCAT('name-', seq), seq * 1000, seq % 2 = 0, IF(seq % 10 = 0, NULL, CONCAT('note ', seq)),
         TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND, seq / 4 FROM seq_1_to_${ROWS}`,
    );
    const file = writeDaemonConfig(
      [{ name, kind: 'mysql', connection: { user: 'root' }, serverId: 7000 + Math.floor(Math.random() * 1000), tables: [{ name: `test.${name}` }] }],
      registry.url,
    );
    const config = loadConfig(file);
    const topic = uniqueTopic(`${name}-replay`);

    // Stopped part-way (as by Ctrl-C): progress is saved and the rerun continues behind the last acked key.
    const stop = new AbortController();
    const progress = replayProgressName(`test.${name}`, topic);
    const running = runReplay(config, { table: `test.${name}`, toTopic: topic, logger: silentLogger(), rate: 20_000, signal: stop.signal });
    const store = CheckpointStore.open(config.checkpoint.path);
    try {
      await waitFor(() => (store.getSnapshot(progress, `test.${name}`)?.rows ?? 0) >= 10_000, 'replay progress', 60_000);
    } finally {
      store.close();
    }
    stop.abort();
    const stopped = await running;
    assert.equal(stopped.completed, false);
    assert.ok(stopped.totalRows >= 10_000 && stopped.totalRows < ROWS, `stopped after ${stopped.totalRows} rows`);

    const result = await runReplay(config, { table: `test.${name}`, toTopic: topic, logger: silentLogger() });
    assert.equal(result.resumed, true);
    assert.equal(result.completed, true);
    assert.equal(result.totalRows, ROWS);
    assert.equal(result.rows, ROWS - stopped.totalRows, 'a clean stop leaves no duplicates');
    assert.match(result.positions.current, /^\S+:\d+/);

    const end = await topicEnd(topic);
    assert.equal(end, ROWS);
    const records = await readDecoded(registry.url, topic, (r) => r.length >= end, 120_000);
    const seen = checkRecords(records, 'int');
    assert.equal(seen.size, ROWS);
    assert.deepEqual(records.map((r) => r.value!.after!.id), Array.from({ length: ROWS }, (_, i) => i + 1));
    const [binlogFile, pos] = result.positions.current.split(' ')[0]!.split(':');
    const tail = records.slice(stopped.totalRows);
    for (const record of tail) {
      assert.equal(record.value!.source.file, binlogFile);
      assert.equal(record.value!.source.pos, BigInt(pos!));
    }
    assert.equal(records.at(-1)!.value!.source.snapshot, 'last');
    assert.equal(records.filter((r) => r.value!.source.snapshot === 'last').length, 1);
  } finally {
    await mysql.query(`DROP TABLE IF EXISTS ${name}`);
    await mysql.end();
  }
});
