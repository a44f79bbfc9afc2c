/**
 * `tributary replay --from database` against real PostgreSQL and Kafka: a 100k-row table replayed to a new
 * topic is rebuilt exactly by an independent consumer; a replay killed with -9 and rerun ends with every row and
 * at most one batch of duplicates; an incompatible registered schema and an unknown table fail with their fix.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { ConfigError, TributaryError } from '../../src/model/errors.js';
import { silentLogger } from '../../src/ops/logger.js';
import { replayProgressName, runReplay } from '../../src/replay/index.js';
import { startTestRegistry, type TestRegistry } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { uniqueTopic } from '../support/kafka.js';
import { admin, sql, uniqueName, waitFor } from '../support/postgres.js';
import { checkRecords, PG_COLUMNS, pgConfig, pgFill, ReplayChild, topicEnd } from '../support/replay.js';

const ROWS = 100_000;
/** The size for the full rebuild; the kill -9 cases use ROWS. */
const FULL_ROWS = 1_000_000;
const BATCH = 2000;

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

async function table(rows: number): Promise<string> {
  const name = uniqueName('replay_pg');
  await sql(`CREATE TABLE ${name} (${PG_COLUMNS})`, pgFill(name, rows));
  return name;
}

test('replay of a 1M-row table to a new topic: an independent consumer rebuilds exactly the table', async () => {
  const name = await table(FULL_ROWS);
  try {
    const { config } = pgConfig(name, `public.${name}`, registry.url);
    const topic = uniqueTopic(`${name}-replay`);
    const result = await runReplay(config, { table: `public.${name}`, toTopic: topic, logger: silentLogger() });
    assert.equal(result.completed, true);
    assert.equal(result.totalRows, FULL_ROWS);
    assert.equal(result.resumed, false);
    assert.match(result.positions.current, /^[0-9A-F]+\/[0-9A-F]+$/);
    // The temporary slot that gave the consistent point is gone: nothing holds WAL for the replay.
    const client = await admin();
    try {
      const slots = await client.query("SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'tributary_replay_%' AND NOT active");
      assert.deepEqual(slots.rows, []);
    } finally {
      await client.end();
    }

    const records = await readDecoded(registry.url, topic, (r) => r.length >= FULL_ROWS, 300_000);
    const seen = checkRecords(records);
    assert.equal(seen.size, FULL_ROWS);
    assert.equal(records.length, FULL_ROWS, 'no duplicates in an uninterrupted replay');
    // Debezium's snapshot markers and the snapshot's position in every source block.
    const [hi, lo] = result.positions.current.split('/').map((part) => BigInt(`0x${part}`));
    const lsn = (hi! << 32n) | lo!;
    records.forEach((record, index) => {
      const source = record.value!.source;
      assert.equal(source.snapshot, index === records.length - 1 ? 'last' : 'true');
      assert.equal(source.lsn, lsn);
      assert.equal(source.table, name);
      assert.equal(source.name, name);
    });
    // Key order, as the table's key.
    assert.deepEqual(records.map((r) => r.value!.after!.id), Array.from({ length: FULL_ROWS }, (_, i) => i + 1));
    // The live topic's subjects are untouched; the target topic's carry the schemas.
    const subjects = (await (await fetch(`${registry.url}/subjects`)).json()) as string[];
    assert.ok(subjects.includes(`${topic}-value`) && subjects.includes(`${topic}-key`));
    assert.ok(!subjects.includes(`${name}.public.${name}-value`));
  } finally {
    await sql(`DROP TABLE ${name}`);
  }
});

test('kill -9 mid-replay, rerun: every row, duplicates within one batch', async () => {
  const name = await table(ROWS);
  try {
    const { file, config } = pgConfig(name, `public.${name}`, registry.url);
    const topic = uniqueTopic(`${name}-replay`);
    const child = new ReplayChild(file, { table: `public.${name}`, toTopic: topic, rate: 20_000 });
    const store = CheckpointStore.open(config.checkpoint.path);
    try {
      await waitFor(() => (store.getSnapshot(replayProgressName(`public.${name}`, topic), `public.${name}`)?.rows ?? 0) >= 30_000, 'replay progress', 60_000);
    } finally {
      store.close();
    }
    child.kill('SIGKILL');
    const exit = await child.exited;
    assert.equal(exit.signal, 'SIGKILL', child.stderr.join(''));

    const result = await runReplay(config, { table: `public.${name}`, toTopic: topic, logger: silentLogger() });
    assert.equal(result.resumed, true);
    assert.equal(result.completed, true);
    assert.equal(result.totalRows, ROWS);
    assert.ok(result.rows < ROWS - 25_000, `the rerun continued instead of starting over (${result.rows} rows)`);

    // The rerun returned after Kafka acknowledged everything: the end offset is the whole topic.
    const end = await topicEnd(topic);
    const records = await readDecoded(registry.url, topic, (r) => r.length >= end, 120_000);
    const seen = checkRecords(records);
    assert.equal(seen.size, ROWS, 'every row');
    const duplicates = records.length - ROWS;
    assert.ok(duplicates <= BATCH, `${duplicates} duplicates, at most one batch (${BATCH})`);
    assert.equal(records.at(-1)!.value!.source.snapshot, 'last');
  } finally {
    await sql(`DROP TABLE ${name}`);
  }
});

test('a target topic whose registered value schema is incompatible stops the replay before producing', async () => {
  const name = await table(10);
  try {
    const { config } = pgConfig(name, `public.${name}`, registry.url);
    const topic = uniqueTopic(`${name}-taken`);
    const other = { type: 'record', name: 'Other', fields: [{ name: 'something', type: 'int' }] };
    const registered = await fetch(`${registry.url}/subjects/${topic}-value/versions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(other) }),
    });
    assert.equal(registered.status, 200);
    await assert.rejects(runReplay(config, { table: `public.${name}`, toTopic: topic, logger: silentLogger() }), (error: unknown) => {
      assert.ok(error instanceof TributaryError);
      assert.match(error.message, new RegExp(`incompatible with the schema registered for subject "${topic}-value"`));
      assert.match(error.fix ?? '', /--to-topic/);
      return true;
    });
    const store = CheckpointStore.open(config.checkpoint.path);
    try {
      assert.equal(store.getSnapshot(replayProgressName(`public.${name}`, topic), `public.${name}`)?.rows, 0, 'no row was emitted');
    } finally {
      store.close();
    }
  } finally {
    await sql(`DROP TABLE ${name}`);
  }
});

test('an unknown table names the tables the config has', async () => {
  const name = uniqueName('replay_pg');
  const { config } = pgConfig(name, `public.${name}`, registry.url);
  await assert.rejects(runReplay(config, { table: 'public.nope', logger: silentLogger() }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /--table public\.nope is not a table of any source/);
    assert.match(error.fix ?? '', new RegExp(`public\\.${name}`));
    return true;
  });
});
