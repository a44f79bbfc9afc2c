/**
 * `/readyz` of a running `tributary run` while its MariaDB binlog connection is lost: the binlog dump thread is
 * killed on the server (MariaDB itself keeps running for other tests) and the source reopens the connection
 * itself, without being rebuilt and without the daemon restarting. /readyz turns 503 while the connection is
 * down and 200 again as soon as the server streams again, also when nothing is written (an idle source is ready
 * without waiting for an event); rows written before, during and after arrive in Kafka exactly once. Then the
 * binlog lag gauge: present, and back near zero once the source confirmed past 2 MB of binlog it does not capture.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type mysql from 'mysql2/promise';
import { compareCoordinates, parseCheckpoint, type BinlogCoordinates } from '../../src/sources/mysql/position.js';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { adminConnection, uniqueName } from '../support/mysql.js';
import { opsUrl, readiness, ReadinessRecorder, waitForLagAtMost } from '../support/ops.js';
import { waitFor } from '../support/postgres.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

/** Kills the binlog dump thread of `user` (the daemon's only one: the test's own account) and returns its id. */
async function killBinlogDump(admin: mysql.Connection, user: string): Promise<number> {
  let ids: number[] = [];
  await waitFor(async () => {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND COMMAND = 'Binlog Dump'",
      [user],
    );
    ids = rows.map((row) => Number(row.ID));
    return ids.length === 1;
  }, `one binlog dump thread of ${user}`);
  await admin.query(`KILL CONNECTION ${ids[0]!}`);
  return ids[0]!;
}

/** Inserts rows one statement at a time from `firstId` on until stopped. */
class RowWriter {
  written = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(connection: mysql.Connection, table: string, firstId: number) {
    this.done = (async () => {
      while (this.running) {
        await connection.query(`INSERT INTO ${table} VALUES (?, 'busy')`, [firstId + this.written]);
        this.written++;
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

test('/readyz follows the MariaDB binlog connection through a kill and its reconnect, and nothing is lost', async () => {
  const name = uniqueName('e2e_readyz_maria');
  const user = name;
  const password = randomBytes(12).toString('hex');
  const topic = `${name}.test.${name}`;
  const maria = await adminConnection();
  const writes = await adminConnection();
  await maria.query(`CREATE TABLE ${name} (id INT PRIMARY KEY, phase VARCHAR(10))`);
  await maria.query(`CREATE TABLE ${name}_pad (id INT AUTO_INCREMENT PRIMARY KEY, pad LONGBLOB)`);
  // An account of its own, so the test finds and kills this daemon's dump thread and no other test's.
  await maria.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, password]);
  await maria.query(`GRANT SELECT, RELOAD, LOCK TABLES, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO ?@'%'`, [user]);
  const config = writeDaemonConfig(
    [{ name, kind: 'mysql', connection: { user, password }, serverId: 20_000 + Math.floor(Math.random() * 50_000), tables: [{ name: `test.${name}` }] }],
    registry.url,
  );
  const daemon = new Daemon(config);
  let recorder: ReadinessRecorder | undefined;
  let writer: RowWriter | undefined;
  try {
    const ops = await opsUrl(daemon);
    await daemon.waitForLog(/streaming the binlog/);
    await maria.query(`INSERT INTO ${name} SELECT seq, 'before' FROM seq_1_to_20`);
    await waitFor(async () => (await readiness(ops)).status === 200, '/readyz to answer 200 while streaming');
    recorder = new ReadinessRecorder(ops, 5);
    const { seen } = recorder;
    await waitFor(() => seen.length > 0, 'the first /readyz sample');

    // Idle: nothing is written while the connection is down, nor after: ready again only because it streams.
    const idleKill = await killBinlogDump(maria, user);
    await waitFor(() => recorder!.wentDownAndUp(), `/readyz to go 503 and back to 200 after an idle kill (seen ${JSON.stringify(seen)})`, 30_000);

    // Busy: rows keep coming before, during and after the outage.
    const busyFrom = seen.length;
    writer = new RowWriter(writes, name, 1000);
    await waitFor(() => writer!.written >= 50, '50 rows written before the kill');
    const busyKill = await killBinlogDump(maria, user);
    await waitFor(() => recorder!.wentDownAndUp(busyFrom), `/readyz to go 503 and back to 200 under writes (seen ${JSON.stringify(seen)})`, 30_000);
    const recoveredAt = writer.written;
    await waitFor(() => writer!.written >= recoveredAt + 50, '50 rows written after the recovery');
    await writer.stop();
    await recorder.stop();
    console.log(`# killed dump threads ${idleKill} and ${busyKill}; /readyz went through ${JSON.stringify(seen)}; ${writer.written} busy rows`);

    assert.equal(seen[0]?.status, 200);
    // At least: mysql-stream.test.ts kills every binlog dump thread on the server, ours too if it runs meanwhile.
    assert.ok(seen.filter((r) => r.status === 503 && r.states === 'reconnecting').length >= 2, 'unready, reconnecting, for each kill');
    assert.ok(daemon.running, 'the daemon kept running');
    const lost = daemon.logs.filter((l) => /binlog connection lost; reconnecting/.test(l));
    assert.ok(lost.length >= 2, `the binlog stream reopened its connection after each kill:\n${daemon.tail()}`);
    assert.ok(!daemon.logs.some((l) => /restarting from the last checkpoint/.test(l)), `the source was not rebuilt:\n${daemon.tail()}`);

    const expected = 20 + writer.written;
    const records = await readDecoded<{ id: number }>(registry.url, topic, (r) => r.length >= expected, 30_000);
    const ids = records.map((r) => r.key!.id);
    assert.equal(new Set(ids).size, ids.length, 'no row arrived twice');
    const want = [...Array.from({ length: 20 }, (_, i) => i + 1), ...Array.from({ length: writer.written }, (_, i) => 1000 + i)];
    assert.deepEqual([...ids].sort((a, b) => a - b), want, 'every row arrived');

    // 2 MB of binlog the source reads through without an event; commits of uncaptured tables move its checkpoint.
    await maria.query(`INSERT INTO ${name}_pad (pad) VALUES (REPEAT('x', 2000000))`);
    const [status] = await maria.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    const padEnd = { file: String(status[0]!.File), pos: Number(status[0]!.Position) };
    const lags = await waitForLagAtMost(ops, name, 256 * 1024, async () => {
      const checkpoint = await checkpointOf(ops, name);
      return checkpoint !== undefined && compareCoordinates(checkpoint, padEnd) >= 0;
    });
    console.log(`# tributary_source_lag_bytes: first ${lags[0]}, last ${lags.at(-1)}, max ${Math.max(...lags)}`);
    assert.ok(lags.every((lag) => lag >= 0));
    assert.equal(await daemon.stop(), 0, daemon.tail());
  } finally {
    await writer?.stop().catch(() => undefined);
    await recorder?.stop().catch(() => undefined);
    if (daemon.running) daemon.kill('SIGKILL');
    await daemon.exited;
    await maria.query(`DROP USER IF EXISTS ?@'%'`, [user]);
    await maria.query(`DROP TABLE IF EXISTS ${name}, ${name}_pad`);
    await writes.end();
    await maria.end();
  }
});

/** The binlog position of the last checkpoint, from the tributary_checkpoint_info label. */
async function checkpointOf(ops: string, source: string): Promise<BinlogCoordinates | undefined> {
  const text = await (await fetch(`${ops}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`tributary_checkpoint_info{source="${source}",`));
  const match = line === undefined ? null : /position="((?:[^"\\]|\\.)*)"/.exec(line);
  if (match === null) return undefined;
  return parseCheckpoint(match[1]!.replace(/\\"/g, '"').replace(/\\\\/g, '\\'));
}
