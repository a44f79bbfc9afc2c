/**
 * An idle selected table while an unselected table writes a lot: heartbeats confirm the server's position, so
 * the slot's confirmed_flush_lsn and restart_lsn follow the WAL and the WAL the slot retains stays bounded. The
 * configured heartbeat query runs on its interval.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { admin, dropSlotAndPublication, uniqueName, waitFor } from '../support/postgres.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

const ROUNDS = 4;
const ROWS_PER_ROUND = 20_000;

test('an idle selected table while another table writes: the slot follows the WAL, retained WAL stays bounded', async () => {
  const name = uniqueName('e2e_pg_idle');
  const busy = `${name}_busy`;
  const beats = `${name}_hb`;
  const slot = `tributary_${name}`;
  const pg = await admin();
  await pg.query(`CREATE TABLE ${name} (id int PRIMARY KEY)`);
  await pg.query(`CREATE TABLE ${busy} (id int PRIMARY KEY, filler text)`);
  await pg.query(`CREATE TABLE ${beats} (beats int NOT NULL)`);
  await pg.query(`INSERT INTO ${beats} VALUES (0)`);
  const config = writeDaemonConfig(
    [{ name, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, heartbeat: { intervalMs: 500, query: `UPDATE ${beats} SET beats = beats + 1` }, tables: [{ name: `public.${name}` }] }],
    registry.url,
  );
  const daemon = new Daemon(config);
  const lsnAtLeast = async (column: 'confirmed_flush_lsn' | 'restart_lsn', target: string): Promise<boolean> => {
    const result = await pg.query<{ reached: boolean }>(`SELECT ${column} >= $2::pg_lsn AS reached FROM pg_replication_slots WHERE slot_name = $1`, [slot, target]);
    return result.rows[0]?.reached === true;
  };
  try {
    await daemon.waitForLog(/streaming changes/);
    let written = 0n;
    for (let round = 0; round < ROUNDS; round++) {
      const start = (await pg.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
      await pg.query(`INSERT INTO ${busy} SELECT g, repeat('y', 200) FROM generate_series(${round * ROWS_PER_ROUND + 1}, ${(round + 1) * ROWS_PER_ROUND}) g`);
      const end = (await pg.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
      const roundBytes = BigInt((await pg.query<{ bytes: string }>('SELECT ($1::pg_lsn - $2::pg_lsn)::text AS bytes', [end, start])).rows[0]!.bytes);
      written += roundBytes;
      // The daemon has nothing to send for these writes, yet confirms past them.
      await waitFor(() => lsnAtLeast('confirmed_flush_lsn', end), `confirmed_flush_lsn to pass ${end} (round ${round})`, 15_000);
      // restart_lsn moves at the next running-transactions record the slot decodes after the confirm; a
      // checkpoint writes one now instead of within bgwriter's 15 s.
      await pg.query('CHECKPOINT');
      await waitFor(() => lsnAtLeast('restart_lsn', end), `restart_lsn to pass ${end} (round ${round})`, 15_000);
      const retained = BigInt(
        (await pg.query<{ bytes: string }>('SELECT (pg_current_wal_lsn() - restart_lsn)::text AS bytes FROM pg_replication_slots WHERE slot_name = $1', [slot])).rows[0]!.bytes,
      );
      console.log(`# round ${round}: wrote ${roundBytes} bytes of WAL to the unselected table; the slot retains ${retained}`);
      assert.ok(retained < roundBytes, `retained WAL ${retained} is below one round's ${roundBytes}`);
    }
    assert.ok(written > 10_000_000n, `the busy table wrote ${written} bytes of WAL`);
    // heartbeat.query ran on its interval while streaming.
    await waitFor(async () => (await pg.query<{ beats: number }>(`SELECT beats FROM ${beats}`)).rows[0]!.beats >= 2, 'the heartbeat query to run');
    assert.equal(await daemon.stop(), 0);
  } finally {
    if (daemon.running) daemon.kill('SIGKILL');
    await daemon.exited;
    await dropSlotAndPublication(slot, slot);
    await pg.query(`DROP TABLE IF EXISTS ${name}, ${busy}, ${beats}`);
    await pg.end();
  }
});
