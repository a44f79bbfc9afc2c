/**
 * `/metrics` of a running `tributary run` after a known workload on two tables: tributary_events_total counts
 * exactly the inserts, updates and deletes of each table once Kafka holds them all; tributary_source_lag_bytes
 * is there and back near zero once the source confirmed past WAL written after the workload.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readTopic, type ReadRecord } from '../support/kafka.js';
import { opsUrl, waitForLagAtMost } from '../support/ops.js';
import { admin, dropSlotAndPublication, uniqueName } from '../support/postgres.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

/** The key of id -1 (Confluent header, then zigzag(-1) = 1): the marker written last to each table. */
const isMarker = (record: ReadRecord | undefined): boolean => record?.key?.length === 6 && record.key[5] === 1;

/** tributary_events_total samples of `source`, as `table op` → count. */
function eventCounts(text: string, source: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^tributary_events_total\{([^}]*)\} (\S+)$/.exec(line);
    if (match === null) continue;
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.source !== source) continue;
    counts.set(`${labels.table} ${labels.op}`, Number(match[2]));
  }
  return counts;
}

test('/metrics counts the events of a known workload per table and op', async () => {
  const name = uniqueName('e2e_ops_metrics');
  const tables = [
    { table: `${name}_a`, inserts: 40, updates: 15, deletes: 6 },
    { table: `${name}_b`, inserts: 25, updates: 9, deletes: 4 },
  ];
  const pg = await admin();
  for (const { table } of tables) await pg.query(`CREATE TABLE ${table} (id int PRIMARY KEY, note text)`);
  const config = writeDaemonConfig(
    // Keepalives asked for every 500 ms: an idle slot's position follows the server closely.
    [{ name, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, tables: tables.map((t) => ({ name: `public.${t.table}` })), heartbeat: { intervalMs: 500 } }],
    registry.url,
  );
  const daemon = new Daemon(config);
  try {
    const expected = new Map<string, number>();
    for (const { table, inserts, updates, deletes } of tables) {
      expected.set(`public.${table} c`, inserts + 1);
      expected.set(`public.${table} u`, updates);
      expected.set(`public.${table} d`, deletes);
    }
    const ops = await opsUrl(daemon);
    await daemon.waitForLog(/streaming changes/);
    for (const { table, inserts, updates, deletes } of tables) {
      await pg.query(`INSERT INTO ${table} SELECT g, 'new' FROM generate_series(1, $1::int) g`, [inserts]);
      // One statement per row for updates, to count events rather than statements.
      for (let id = 1; id <= updates; id++) await pg.query(`UPDATE ${table} SET note = 'changed' WHERE id = $1`, [id]);
      await pg.query(`DELETE FROM ${table} WHERE id > $1`, [inserts - deletes]);
      await pg.query(`INSERT INTO ${table} VALUES (-1, 'marker')`);
      // Scraped mid-workload too: the endpoint answers while streaming and never counts ahead of the work done.
      const during = eventCounts(await (await fetch(`${ops}/metrics`)).text(), name);
      for (const [key, count] of during) assert.ok(count <= (expected.get(key) ?? 0), `${key} = ${count} mid-workload`);
    }
    for (const { table } of tables) {
      await readTopic(`${name}.public.${table}`, { until: (r) => isMarker(r.at(-1)), timeoutMs: 30_000 });
    }

    // Kafka holds everything; the counter follows the acknowledgement, so it may lag the read by a moment.
    const deadline = Date.now() + 10_000;
    let counts = new Map<string, number>();
    for (;;) {
      const response = await fetch(`${ops}/metrics`);
      assert.equal(response.status, 200);
      counts = eventCounts(await response.text(), name);
      const matches = [...expected].every(([key, count]) => counts.get(key) === count);
      if (matches || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    console.log(`# tributary_events_total: ${JSON.stringify(Object.fromEntries(counts))}`);
    assert.deepEqual(Object.fromEntries([...counts].filter(([, count]) => count > 0)), Object.fromEntries(expected));

    // 3 MB of WAL the slot reads through without an event (a logical message); keepalives move the source past it.
    const message = await pg.query<{ lsn: string }>(`SELECT pg_logical_emit_message(true, 'tributary-lag-test', repeat('x', 3000000))::text AS lsn`);
    const lags = await waitForLagAtMost(ops, name, 256 * 1024, async () => {
      const slot = await pg.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND confirmed_flush_lsn >= $2::pg_lsn', [`tributary_${name}`, message.rows[0]!.lsn]);
      return slot.rowCount === 1;
    });
    console.log(`# tributary_source_lag_bytes: first ${lags[0]}, last ${lags.at(-1)}, max ${Math.max(...lags)}`);
    assert.ok(lags.every((lag) => lag >= 0));
    assert.equal(await daemon.stop(), 0, daemon.tail());
  } finally {
    if (daemon.running) daemon.kill('SIGKILL');
    await daemon.exited;
    await dropSlotAndPublication(`tributary_${name}`, `tributary_${name}`);
    for (const { table } of tables) await pg.query(`DROP TABLE IF EXISTS ${table}`);
    await pg.end();
  }
});
