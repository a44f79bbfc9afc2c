/**
 * SIGTERM while 500k rows stream through `tributary run`: the daemon drains and exits 0 within
 * pipeline.shutdownTimeoutMs, and after a restart every row is in Kafka with at most one batch of duplicates
 * (the pipeline's batch, 2000 events, is the most a graceful stop may leave unconfirmed).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { Consumer } from '@platformatic/kafka';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { debeziumRegistry, decodeRecords } from '../support/debezium-consumer.js';
import { LOCAL_BROKER, readTopic, uniqueTopic } from '../support/kafka.js';
import { admin, dropSlotAndPublication, uniqueName } from '../support/postgres.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

const ROWS = 500_000;
const ROWS_PER_TRANSACTION = 25_000;
const SHUTDOWN_TIMEOUT_MS = 15_000;
/** The pipeline's default maxBatchEvents: what one unacknowledged batch can replay. */
const BATCH_EVENTS = 2000;

test('SIGTERM during a 500k-row stream: exit 0 within the bound, nothing lost, duplicates within one batch', async () => {
  const name = uniqueName('e2e_ops_sigterm');
  const slot = `tributary_${name}`;
  const topic = `${name}.public.${name}`;
  const pg = await admin();
  const writerConnection = await admin();
  await pg.query(`CREATE TABLE ${name} (id int PRIMARY KEY, payload text NOT NULL)`);
  const config = writeDaemonConfig(
    [{ name, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, tables: [{ name: `public.${name}` }] }],
    registry.url,
    { pipeline: { shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS } },
  );
  const offsets = new Consumer({ clientId: 'tributary-test-offsets', groupId: uniqueTopic('offsets'), bootstrapBrokers: [LOCAL_BROKER] });
  const highWatermark = async (): Promise<bigint> => (await offsets.listOffsets({ topics: [topic] })).get(topic)![0]!;

  let daemon = new Daemon(config);
  let writer: Promise<void> = Promise.resolve();
  try {
    await daemon.waitForLog(/streaming changes/);
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

    // Stop once a good part of the stream is in Kafka but well before all of it.
    const stopAt = BigInt(Math.floor(ROWS / 3));
    const deadline = Date.now() + 45_000;
    let watermark = await highWatermark();
    while (watermark < stopAt) {
      if (!daemon.running) assert.fail(`the daemon exited by itself:\n${daemon.tail()}`);
      if (Date.now() > deadline) assert.fail(`no progress: watermark ${watermark}:\n${daemon.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      watermark = await highWatermark();
    }
    const stoppedAt = Date.now();
    daemon.kill('SIGTERM');
    const code = await daemon.exited;
    const shutdownMs = Date.now() - stoppedAt;
    const watermarkAtExit = await highWatermark();
    console.log(`# SIGTERM at watermark ${watermark}; exit ${code} after ${shutdownMs} ms; watermark at exit ${watermarkAtExit}`);
    assert.equal(code, 0, daemon.tail());
    assert.ok(shutdownMs < SHUTDOWN_TIMEOUT_MS, `shutdown took ${shutdownMs} ms, the bound is ${SHUTDOWN_TIMEOUT_MS} ms`);
    assert.ok(daemon.logs.some((l) => /tributary stopped/.test(l)), `no clean stop logged:\n${daemon.tail()}`);
    assert.ok(watermarkAtExit < BigInt(ROWS), 'the stream was still in flight when SIGTERM arrived');
    // The final checkpoint was stored and confirmed to PostgreSQL before the connection closed.
    const store = CheckpointStore.open(path.join(path.dirname(config), 'tributary.db'));
    const stored = store.getConfirmedPosition(name)?.position;
    store.close();
    const storedLsn = (JSON.parse(stored ?? '{"lsn":"none"}') as { lsn: string }).lsn;
    const slotRow = await pg.query<{ lsn: string }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    assert.equal(slotRow.rows[0]?.lsn, storedLsn, 'the slot was not told the final checkpoint');

    daemon = new Daemon(config);
    await daemon.waitForLog(/streaming changes/);
    await writer;
    // A marker, written after all rows: once it is in the topic, every earlier change is too.
    await pg.query(`INSERT INTO ${name} VALUES (-1, 'marker')`);
    const raw = await readTopic(topic, { until: (r) => r.length > ROWS && r.at(-1)?.key?.length === 6 && r.at(-1)?.key?.[5] === 1, timeoutMs: 180_000 });
    assert.equal(await daemon.stop(), 0, daemon.tail());

    const records = await decodeRecords<{ id: number }, { op: string }>(debeziumRegistry(registry.url), raw);
    const seen = new Map<number, number>();
    for (const record of records) seen.set(record.key!.id, (seen.get(record.key!.id) ?? 0) + 1);
    const missing = [];
    for (let id = 1; id <= ROWS; id++) if (!seen.has(id)) missing.push(id);
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} rows missing`);
    assert.equal(seen.size, ROWS + 2);
    const duplicates = records.length - seen.size;
    console.log(`# ${records.length} records for ${seen.size} rows: ${duplicates} duplicates (bound ${BATCH_EVENTS})`);
    assert.ok(duplicates <= BATCH_EVENTS, `${duplicates} duplicates, more than one batch (${BATCH_EVENTS})`);
  } finally {
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
