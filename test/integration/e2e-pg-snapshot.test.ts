/**
 * The consistent initial snapshot under concurrent writes, end to end: a writer inserts, updates and deletes
 * while `tributary run` snapshots a 20k-row table in chunks and then streams; a consumer that applies the
 * topic's events by key must end up with exactly the table's rows (no gap, no stale row, nothing resurrected).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { admin, dropSlotAndPublication, uniqueName } from '../support/postgres.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

const ROWS = 20_000;

test('snapshot + stream under concurrent writes: the consumer rebuilds exactly the table', async () => {
  const name = uniqueName('e2e_pg_snap');
  const topic = `${name}.public.${name}`;
  const pg = await admin();
  const writerConnection = await admin();
  await pg.query(`CREATE TABLE ${name} (id int PRIMARY KEY, v int NOT NULL, note text)`);
  await pg.query(`INSERT INTO ${name} SELECT g, 0, 'row ' || g FROM generate_series(1, ${ROWS}) g`);
  const config = writeDaemonConfig(
    [{ name, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, snapshotChunkRows: 500, tables: [{ name: `public.${name}` }] }],
    registry.url,
  );

  // The writer runs from before the slot exists until well after streaming started, one change per transaction.
  let stopWriter = false;
  let writes = 0;
  let nextId = ROWS + 1;
  const writer = (async () => {
    while (!stopWriter) {
      const id = 1 + Math.floor(Math.random() * (nextId - 1));
      const choice = writes % 4;
      if (choice === 0) await writerConnection.query(`INSERT INTO ${name} VALUES ($1, $2, 'new')`, [nextId++, writes]);
      else if (choice === 3) await writerConnection.query(`DELETE FROM ${name} WHERE id = $1`, [id]);
      else await writerConnection.query(`UPDATE ${name} SET v = v + 1, note = $2 WHERE id = $1`, [id, `w${writes}`]);
      writes++;
    }
  })();

  const daemon = new Daemon(config);
  try {
    await daemon.waitForLog(/taking the initial snapshot/);
    const writesAtSlot = writes;
    await daemon.waitForLog(/streaming changes/);
    const writesAtStream = writes;
    const target = writes + 300;
    while (writes < target) await new Promise((resolve) => setImmediate(resolve));
    stopWriter = true;
    await writer;
    assert.ok(writesAtStream > writesAtSlot, 'the writer was writing during the snapshot');
    // A marker row, written last: once it is in the topic, everything before it is too.
    await pg.query(`INSERT INTO ${name} VALUES (0, -1, 'marker')`);

    const records = await readDecoded(
      registry.url,
      topic,
      // The marker's key is the wire header and the Avro int 0: six bytes, the last one zero.
      (r) => r.length > ROWS && r.at(-1)?.value !== null && r.at(-1)?.key?.length === 6 && r.at(-1)?.key?.[5] === 0,
      90_000,
    );
    const table = new Map<number, Record<string, unknown>>();
    let snapshotRows = 0;
    for (const record of records) {
      if (record.value === null) continue;
      const { op, before: old, after: row } = record.value;
      if (op === 'r') snapshotRows++;
      // A gap or an overlap between snapshot and stream shows as a change to a row the consumer lacks or already has.
      const id = (op === 'd' ? old!.id : row!.id) as number;
      const present = table.has(id);
      assert.equal(present, op === 'u' || op === 'd', `op ${op} for id ${id} which is ${present ? 'present' : 'absent'}`);
      if (op === 'd') table.delete(id);
      else table.set(id, row!);
    }
    const expected = await pg.query<{ id: number; v: number; note: string }>(`SELECT id, v, note FROM ${name} ORDER BY id`);
    const rebuilt = [...table.values()].sort((a, b) => (a.id as number) - (b.id as number));
    assert.equal(rebuilt.length, expected.rows.length);
    assert.deepEqual(rebuilt, expected.rows);
    console.log(`# snapshot rows ${snapshotRows}, writes ${writes} (${writesAtStream - writesAtSlot} during the snapshot), records ${records.length}`);
    assert.equal(await daemon.stop(), 0);
  } finally {
    stopWriter = true;
    await writer.catch(() => undefined);
    if (daemon.running) daemon.kill('SIGKILL');
    await daemon.exited;
    await dropSlotAndPublication(`tributary_${name}`, `tributary_${name}`);
    await pg.query(`DROP TABLE IF EXISTS ${name}`);
    await writerConnection.end();
    await pg.end();
  }
});
