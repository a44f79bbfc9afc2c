/**
 * Streamed changes through `tributary run` as a Debezium consumer sees them: schema changes mid-stream (each a new
 * registry version, every event decoded with the schema it was written with), transaction metadata, and an update
 * that changes the primary key (a delete, its tombstone and a create, as Debezium emits it).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { debeziumRegistry, decodeRecords, readDecoded, type DebeziumEnvelope } from '../support/debezium-consumer.js';
import { readTopic } from '../support/kafka.js';
import { admin, dropSlotAndPublication, uniqueName } from '../support/postgres.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

function pgSource(name: string, tables: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    kind: 'postgres',
    connection: { database: 'test', user: 'postgres' },
    tables: tables.map((table) => ({ name: `public.${table}` })),
    ...extra,
  };
}

/** Starts the daemon for `source`, runs `body`, then stops it and drops the slot and the tables. */
async function withDaemon(name: string, tables: string[], source: Record<string, unknown>, body: (pg: import('pg').Client, daemon: Daemon) => Promise<void>): Promise<void> {
  const pg = await admin();
  const daemon = new Daemon(writeDaemonConfig([source], registry.url));
  try {
    await daemon.waitForLog(/streaming changes/);
    await body(pg, daemon);
    assert.equal(await daemon.stop(), 0, daemon.tail());
  } finally {
    if (daemon.running) daemon.kill('SIGKILL');
    await daemon.exited;
    await dropSlotAndPublication(`tributary_${name}`, `tributary_${name}`);
    for (const table of tables) await pg.query(`DROP TABLE IF EXISTS ${table}`);
    await pg.end();
  }
}

async function versions(subject: string): Promise<number[]> {
  const response = await fetch(`${registry.url}/subjects/${encodeURIComponent(subject)}/versions`);
  return (await response.json()) as number[];
}

test('ADD COLUMN, DROP COLUMN and ALTER TYPE mid-stream: a new schema version each, every event decoded with its own', async () => {
  const name = uniqueName('e2e_pg_alter');
  const topic = `${name}.public.${name}`;
  const pg = await admin();
  await pg.query(`CREATE TABLE ${name} (id int PRIMARY KEY, a text, b int)`);
  await pg.end();
  await withDaemon(name, [name], pgSource(name, [name]), async (pg) => {
    await pg.query(`INSERT INTO ${name} VALUES (1, 'one', 1)`);
    await pg.query(`ALTER TABLE ${name} ADD COLUMN c numeric(5,2)`);
    await pg.query(`INSERT INTO ${name} VALUES (2, 'two', 2, 1.25)`);
    await pg.query(`ALTER TABLE ${name} DROP COLUMN a`);
    await pg.query(`INSERT INTO ${name} VALUES (3, 3, 2.5)`);
    await pg.query(`ALTER TABLE ${name} ALTER COLUMN b TYPE bigint`);
    // Changes on both sides of an ALTER in one transaction.
    await pg.query(`BEGIN`);
    await pg.query(`INSERT INTO ${name} VALUES (4, 9007199254740993, 3.75)`);
    await pg.query(`ALTER TABLE ${name} ALTER COLUMN c TYPE text`);
    await pg.query(`INSERT INTO ${name} VALUES (5, -1, 'five')`);
    await pg.query(`COMMIT`);
    await pg.query(`UPDATE ${name} SET b = 6 WHERE id = 1`);

    const raw = await readTopic(topic, { until: (r) => r.length >= 6, timeoutMs: 30_000 });
    const decoded = await decodeRecords<Record<string, unknown>, DebeziumEnvelope>(debeziumRegistry(registry.url), raw);
    const schemaIds = raw.map((r) => r.value!.readInt32BE(1));
    assert.deepEqual(decoded.map((r) => [r.value?.op, r.value?.after]), [
      ['c', { id: 1, a: 'one', b: 1 }],
      ['c', { id: 2, a: 'two', b: 2, c: Buffer.from([0x7d]) }],
      ['c', { id: 3, b: 3, c: Buffer.from([0x00, 0xfa]) }],
      ['c', { id: 4, b: 9007199254740993n, c: Buffer.from([0x01, 0x77]) }],
      ['c', { id: 5, b: -1n, c: 'five' }],
      ['u', { id: 1, b: 6n, c: null }],
    ]);
    // One schema per table shape, in order; the update after the last ALTER reuses the last one.
    assert.equal(new Set(schemaIds).size, 5, `schema ids ${schemaIds.join(',')}`);
    assert.equal(schemaIds[4], schemaIds[5]);
    assert.deepEqual(await versions(`${topic}-value`), [1, 2, 3, 4, 5]);
  });
});

test('transactions: true writes BEGIN/END to <prefix>.transaction and a consistent transaction block', async () => {
  const name = uniqueName('e2e_pg_tx');
  const [t1, t2] = [`${name}_a`, `${name}_b`];
  const pg = await admin();
  await pg.query(`CREATE TABLE ${t1} (id int PRIMARY KEY, v text)`);
  await pg.query(`CREATE TABLE ${t2} (id int PRIMARY KEY, v text)`);
  await pg.end();
  await withDaemon(name, [t1, t2], pgSource(name, [t1, t2], { transactions: true }), async (pg) => {
    await pg.query('BEGIN');
    await pg.query(`INSERT INTO ${t1} VALUES (1, 'a')`);
    await pg.query(`INSERT INTO ${t2} VALUES (1, 'b')`);
    await pg.query(`UPDATE ${t1} SET v = 'aa' WHERE id = 1`);
    await pg.query(`INSERT INTO ${t2} VALUES (2, 'c')`);
    await pg.query('COMMIT');
    await pg.query(`INSERT INTO ${t1} VALUES (2, 'd')`);

    type TxValue = { status: string; id: string; event_count: bigint | null; data_collections: { data_collection: string; event_count: bigint }[] | null; ts_ms: bigint };
    const tx = await readDecoded<{ id: string }, TxValue>(registry.url, `${name}.transaction`, (r) => r.length >= 4, 30_000);
    const a = await readDecoded(registry.url, `${name}.public.${t1}`, (r) => r.length >= 3);
    const b = await readDecoded(registry.url, `${name}.public.${t2}`, (r) => r.length >= 2);

    assert.deepEqual(tx.map((r) => r.value?.status), ['BEGIN', 'END', 'BEGIN', 'END']);
    for (const record of tx) assert.equal(record.key?.id, record.value?.id, 'key is the transaction id');
    const [begin1, end1, begin2, end2] = tx.map((r) => r.value!);
    assert.equal(begin1!.event_count, null);
    assert.equal(begin1!.data_collections, null);
    assert.equal(end1!.event_count, 4n);
    assert.deepEqual(end1!.data_collections, [
      { data_collection: `public.${t1}`, event_count: 2n },
      { data_collection: `public.${t2}`, event_count: 2n },
    ]);
    assert.equal(end2!.event_count, 1n);
    assert.deepEqual(end2!.data_collections, [{ data_collection: `public.${t1}`, event_count: 1n }]);

    // Debezium's PostgreSQL transaction id is `<xid>:<LSN>` with the LSN it last saw: each change's own LSN (so
    // BEGIN's is its first change's), and for END the commit's end LSN, which the next transaction's changes carry
    // as the first element of source.sequence. Total order runs across tables, per-table order within each.
    const changes = [...a, ...b]
      .map((r) => r.value!)
      .sort((x, y) => Number((x.source.lsn as bigint) - (y.source.lsn as bigint)));
    const id = (v: DebeziumEnvelope) => `${String(v.source.txId)}:${String(v.source.lsn)}`;
    assert.deepEqual(
      changes.map((v) => [v.source.table, v.op, v.transaction]),
      [
        [t1, 'c', { id: id(changes[0]!), total_order: 1n, data_collection_order: 1n }],
        [t2, 'c', { id: id(changes[1]!), total_order: 2n, data_collection_order: 1n }],
        [t1, 'u', { id: id(changes[2]!), total_order: 3n, data_collection_order: 2n }],
        [t2, 'c', { id: id(changes[3]!), total_order: 4n, data_collection_order: 2n }],
        [t1, 'c', { id: id(changes[4]!), total_order: 1n, data_collection_order: 1n }],
      ],
    );
    assert.equal(new Set(changes.slice(0, 4).map((v) => v.transaction!.id)).size, 4);
    // The source block's txId is the transaction's xid, the same for all its events.
    assert.equal(new Set(changes.slice(0, 4).map((v) => v.source.txId)).size, 1);
    assert.equal(begin1!.id, id(changes[0]!));
    assert.equal(begin2!.id, id(changes[4]!));
    const commitEnd1 = (JSON.parse(changes[4]!.source.sequence as string) as string[])[0];
    assert.equal(end1!.id, `${String(changes[0]!.source.txId)}:${commitEnd1}`);
    assert.match(end2!.id, new RegExp(`^${String(changes[4]!.source.txId)}:(\\d+)$`));
    assert.ok(BigInt(end2!.id.split(':')[1]!) > (changes[4]!.source.lsn as bigint), 'END names the commit end, after the last change');

    // source.ts_us/ts_ns are the commit time to the microsecond, as pgoutput's BEGIN gives it; ts_ms its milliseconds.
    for (const v of changes) {
      const { ts_ms, ts_us, ts_ns } = v.source as { ts_ms: bigint; ts_us: bigint; ts_ns: bigint };
      assert.equal(ts_us / 1000n, ts_ms);
      assert.equal(ts_ns, ts_us * 1000n);
    }
    assert.equal(new Set(changes.slice(0, 4).map((v) => v.source.ts_us)).size, 1, 'one commit time per transaction');
    assert.ok(
      changes.some((v) => (v.source.ts_us as bigint) % 1000n !== 0n),
      `sub-millisecond digits: ${changes.map((v) => String(v.source.ts_us)).join(', ')}`,
    );
  });
});

test('an update that changes the primary key becomes a delete, its tombstone and a create', async () => {
  const name = uniqueName('e2e_pg_pk');
  const topic = `${name}.public.${name}`;
  const pg = await admin();
  await pg.query(`CREATE TABLE ${name} (id int PRIMARY KEY, v text NOT NULL, w int)`);
  await pg.query(`INSERT INTO ${name} VALUES (1, 'a', 10)`);
  await pg.end();
  await withDaemon(name, [name], pgSource(name, [name]), async (pg) => {
    await pg.query(`UPDATE ${name} SET id = 2 WHERE id = 1`);
    await pg.query(`UPDATE ${name} SET v = 'b' WHERE id = 2`);
    const records = await readDecoded(registry.url, topic, (r) => r.length >= 5);
    assert.deepEqual(
      records.map((r) => [r.key, r.value?.op ?? null, r.value?.before ?? null, r.value?.after ?? null]),
      [
        [{ id: 1 }, 'r', null, { id: 1, v: 'a', w: 10 }],
        // REPLICA IDENTITY DEFAULT: the old row holds the key only; NOT NULL columns get Debezium's fallback.
        [{ id: 1 }, 'd', { id: 1, v: '', w: null }, null],
        [{ id: 1 }, null, null, null],
        [{ id: 2 }, 'c', null, { id: 2, v: 'a', w: 10 }],
        [{ id: 2 }, 'u', null, { id: 2, v: 'b', w: 10 }],
      ],
    );
  });
});
