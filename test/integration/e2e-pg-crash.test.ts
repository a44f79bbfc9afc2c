/**
 * kill -9 at random moments while 200k rows stream through `tributary run`, restarting each time. Afterwards every
 * row is in Kafka (duplicates after the last checkpoint are allowed; they are counted and printed), and the
 * slot's confirmed_flush_lsn was never ahead of what Kafka had acknowledged: each sample of confirmed_flush_lsn is
 * followed by a read of the topic's high watermark, and every change at or before the sampled LSN must have been
 * written below that watermark.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer } from '@platformatic/kafka';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { debeziumRegistry, decodeRecords } from '../support/debezium-consumer.js';
import { LOCAL_BROKER, readTopic, uniqueTopic } from '../support/kafka.js';
import { admin, dropSlotAndPublication, uniqueName } from '../support/postgres.js';
import { Lsn } from '../../src/sources/postgres/position.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

const ROWS = 200_000;
const ROWS_PER_TRANSACTION = 1000;
const KILLS = 4;

interface Sample {
  readonly confirmed: bigint;
  /** The topic's high watermark read after `confirmed`. */
  readonly highWatermark: bigint;
}

test('kill -9 during a 200k-row stream: every row reaches Kafka and the slot never confirms past Kafka', async () => {
  const name = uniqueName('e2e_pg_crash');
  const slot = `tributary_${name}`;
  const topic = `${name}.public.${name}`;
  const pg = await admin();
  const writerConnection = await admin();
  await pg.query(`CREATE TABLE ${name} (id int PRIMARY KEY, payload text NOT NULL)`);
  const config = writeDaemonConfig(
    [{ name, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, tables: [{ name: `public.${name}` }] }],
    registry.url,
  );
  const offsets = new Consumer({ clientId: 'tributary-test-offsets', groupId: uniqueTopic('offsets'), bootstrapBrokers: [LOCAL_BROKER] });
  const highWatermark = async (): Promise<bigint> => (await offsets.listOffsets({ topics: [topic] })).get(topic)![0]!;

  let daemon = new Daemon(config);
  const samples: Sample[] = [];
  let sampling = true;
  let kills = 0;
  let writer: Promise<void> = Promise.resolve();
  try {
    await daemon.waitForLog(/streaming changes/);
    // Row 0 creates the topic, so its watermark can be read from the start.
    await pg.query(`INSERT INTO ${name} VALUES (0, 'first')`);
    await readTopic(topic, { until: (r) => r.length >= 1 });

    writer = (async () => {
      for (let start = 1; start <= ROWS; start += ROWS_PER_TRANSACTION) {
        await writerConnection.query(
          `INSERT INTO ${name} SELECT g, repeat('x', 50) || g FROM generate_series($1::int, $2::int) g`,
          [start, start + ROWS_PER_TRANSACTION - 1],
        );
      }
    })();

    // Kill points: random watermarks spread over the stream, so every kill lands while events are in flight.
    const killAt = Array.from({ length: KILLS }, (_, i) => BigInt(Math.floor(((i + Math.random()) * ROWS) / (KILLS + 1)))).sort((a, b) => (a < b ? -1 : 1));
    const deadline = Date.now() + 90_000;
    while (sampling) {
      const row = (await pg.query<{ lsn: string | null }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot])).rows[0];
      const confirmed = row?.lsn == null ? 0n : Lsn.parse(row.lsn).toBigInt();
      const watermark = await highWatermark();
      samples.push({ confirmed, highWatermark: watermark });
      if (!daemon.running) assert.fail(`the daemon exited by itself:\n${daemon.tail()}`);
      if (Date.now() > deadline) assert.fail(`no progress: watermark ${watermark} after ${kills} kills, next kill at ${killAt[kills]}:\n${daemon.tail()}`);
      if (process.env.E2E_DEBUG) console.log(`# confirmed ${confirmed} watermark ${watermark} kills ${kills}`);
      if (kills < KILLS && watermark >= killAt[kills]!) {
        daemon.kill('SIGKILL');
        await daemon.exited;
        kills++;
        daemon = new Daemon(config);
        await daemon.waitForLog(/streaming changes/);
      }
      if (kills === KILLS) sampling = false;
    }
    await writer;
    // A marker, written after all rows: once it is in the topic, every earlier change is too.
    await pg.query(`INSERT INTO ${name} VALUES (-1, 'marker')`);
    const raw = await readTopic(topic, { until: (r) => r.length > ROWS && r.at(-1)?.key?.length === 6 && r.at(-1)?.key?.[5] === 1, timeoutMs: 120_000 });
    const records = await decodeRecords<{ id: number }, { source: { lsn: bigint; txId: bigint; sequence: string } }>(debeziumRegistry(registry.url), raw);
    assert.equal(await daemon.stop(), 0, daemon.tail());

    // Every row is there; the surplus are duplicates replayed from the last checkpoint after each kill.
    const firstOffset = new Map<number, bigint>();
    for (const record of records) if (!firstOffset.has(record.key!.id)) firstOffset.set(record.key!.id, record.offset);
    const ids = [...firstOffset.keys()].filter((id) => id >= 1).sort((a, b) => a - b);
    assert.equal(ids.length, ROWS);
    assert.equal(ids[0], 1);
    assert.equal(ids.at(-1), ROWS);
    const duplicates = records.length - firstOffset.size;
    console.log(`# ${kills} kills, ${records.length} records for ${firstOffset.size} rows: ${duplicates} duplicates; ${samples.length} confirmed_flush_lsn samples`);

    // confirmed_flush_lsn never ahead of Kafka. PostgreSQL resends, after a restart, exactly the transactions that
    // commit after the slot's confirmed_flush_lsn, so a sample C promises that every transaction whose commit ends
    // at or before C is in Kafka. (Change LSNs of a transaction still open may lie below C: it is resent whole.)
    // A transaction's commit end LSN is the first element of `source.sequence` in the next transaction's events;
    // after a restart that element is null for the first transaction, so the next known one is used, which only
    // makes the check weaker, never wrong.
    const transactions = new Map<bigint, { maxLsn: bigint; maxFirstOffset: bigint }>();
    const commitEnds: bigint[] = [];
    for (const record of records) {
      const { txId, lsn, sequence } = record.value!.source;
      const [lastCommit] = JSON.parse(sequence) as [string | null, string];
      if (lastCommit !== null) commitEnds.push(BigInt(lastCommit));
      if (firstOffset.get(record.key!.id) !== record.offset) continue;
      const transaction = transactions.get(txId) ?? { maxLsn: 0n, maxFirstOffset: 0n };
      if (lsn > transaction.maxLsn) transaction.maxLsn = lsn;
      if (record.offset > transaction.maxFirstOffset) transaction.maxFirstOffset = record.offset;
      transactions.set(txId, transaction);
    }
    commitEnds.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const firstAbove = (values: readonly bigint[], bound: bigint, inclusive: boolean): number => {
      let low = 0;
      let high = values.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (values[mid]! < bound || (inclusive && values[mid] === bound)) low = mid + 1;
        else high = mid;
      }
      return low;
    };
    const committed = [...transactions.values()]
      .map((t) => ({ commitEnd: commitEnds[firstAbove(commitEnds, t.maxLsn, true)], maxFirstOffset: t.maxFirstOffset }))
      .filter((t): t is { commitEnd: bigint; maxFirstOffset: bigint } => t.commitEnd !== undefined)
      .sort((a, b) => (a.commitEnd < b.commitEnd ? -1 : a.commitEnd > b.commitEnd ? 1 : 0));
    assert.ok(committed.length >= ROWS / ROWS_PER_TRANSACTION, `commit LSNs known for ${committed.length} transactions`);
    const prefixMax: bigint[] = [];
    for (const [i, t] of committed.entries()) prefixMax.push(i === 0 || t.maxFirstOffset > prefixMax[i - 1]! ? t.maxFirstOffset : prefixMax[i - 1]!);
    const commitOrder = committed.map((t) => t.commitEnd);
    let checked = 0;
    for (const sample of samples) {
      const covered = firstAbove(commitOrder, sample.confirmed, true);
      if (covered === 0) continue;
      checked += covered;
      assert.ok(
        prefixMax[covered - 1]! < sample.highWatermark,
        `confirmed_flush_lsn ${sample.confirmed} covers a committed transaction with an event at offset ${prefixMax[covered - 1]}, not below the watermark ${sample.highWatermark} read after it`,
      );
    }
    assert.ok(samples.some((s) => s.confirmed >= commitOrder[0]!), 'the slot confirmed progress while the test sampled it');
    console.log(`# ${checked} (sample, committed transaction) pairs checked against the watermark`);
  } finally {
    sampling = false;
    await writer.catch(() => undefined);
    if (daemon.running) daemon.kill('SIGKILL');
    await daemon.exited;
    await offsets.close();
    await dropSlotAndPublication(slot, slot);
    await pg.query(`DROP TABLE IF EXISTS ${name}`);
    await writerConnection.end();
    await pg.end();
  }
});
