/**
 * `tributary replay` from the lake, interrupted: killed with -9 and rerun, the topic ends with every row and at
 * most one batch of duplicates; stopped cleanly on a table whose composite text key spreads rows over hash
 * buckets, the rerun continues exactly after the last acknowledged row. The lakes are compacted from change
 * topics written by the test, so no database is involved, as none is in a lake replay.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { loadConfig } from '../../src/config/index.js';
import { compactTable } from '../../src/lake/compactor.js';
import type { Row } from '../../src/model/change.js';
import type { TableSchema } from '../../src/model/schema.js';
import { silentLogger } from '../../src/ops/logger.js';
import { replayProgressName, runReplay } from '../../src/replay/index.js';
import { writeDaemonConfig } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { uniqueTopic } from '../support/kafka.js';
import { ChangeFeed, column, deps, pgTable, startTestRegistry, target, type TestRegistry } from '../support/lake.js';
import { uniqueName, waitFor } from '../support/postgres.js';
import { checkRecords, expectedRow, ReplayChild, topicEnd } from '../support/replay.js';

const BATCH = 2000;

let registry: TestRegistry;
let lake: string;
before(async () => {
  registry = await startTestRegistry();
  lake = mkdtempSync(join(tmpdir(), 'tributary-replay-lake-'));
});
after(async () => {
  await registry.registry.close();
  rmSync(lake, { recursive: true, force: true });
});

/** Writes `rows` to a change topic, compacts it, and returns a config whose source has that table and lake. */
async function lakeTable(schema: TableSchema, rows: Iterable<Row>, buckets = {}): Promise<{ file: string; table: string }> {
  const feed = new ChangeFeed(registry.client, schema);
  await feed.createTopic();
  for (const row of rows) feed.upsert(row, 'r');
  await feed.close();
  await compactTable(target(lake, feed), deps(registry.registry.url, { buckets }));
  const table = `public.${schema.id.table}`;
  const file = writeDaemonConfig(
    [{ name: 'pg', kind: 'postgres', topicPrefix: feed.prefix, connection: { database: 'test', user: 'postgres' }, tables: [{ name: table }] }],
    registry.registry.url,
    { lake: { path: lake }, logging: { level: 'warn' } },
  );
  return { file, table };
}

/** Rows checkRecords knows: for these column types the neutral values are what the consumer decodes. */
function* generated(count: number): Generator<Row> {
  for (let id = 1; id <= count; id++) yield expectedRow(id) as Row;
}

const GENERATED = pgTable(uniqueName('replay_lake_kill'), [
  column('id', { kind: 'int32' }, false),
  column('name', { kind: 'string' }, false),
  column('qty', { kind: 'int64' }),
  column('flag', { kind: 'boolean' }),
  column('note', { kind: 'string' }),
  column('ts', { kind: 'timestamp', precision: 6 }),
  column('score', { kind: 'float64' }),
]);

test('kill -9 mid-replay from the lake, rerun: every row, duplicates within one batch', async () => {
  const ROWS = 100_000;
  const { file, table } = await lakeTable(GENERATED, generated(ROWS), { rangeWidth: 10_000 });
  const config = loadConfig(file);
  const topic = uniqueTopic('replay-lake-kill');
  // No --from: the table has a lake snapshot, so that is what the replay reads.
  const child = new ReplayChild(file, { table, toTopic: topic, rate: 20_000 });
  const store = CheckpointStore.open(config.checkpoint.path);
  try {
    await waitFor(() => (store.getSnapshot(replayProgressName(table, topic), table)?.rows ?? 0) >= 30_000, 'replay progress', 60_000);
  } finally {
    store.close();
  }
  child.kill('SIGKILL');
  const exit = await child.exited;
  assert.equal(exit.signal, 'SIGKILL', child.stderr.join(''));

  const result = await runReplay(config, { table, toTopic: topic, logger: silentLogger() });
  assert.equal(result.from, 'lake');
  assert.equal(result.resumed, true);
  assert.equal(result.completed, true);
  assert.equal(result.totalRows, ROWS);
  assert.ok(result.rows < ROWS - 25_000, `the rerun continued instead of starting over (${result.rows} rows)`);

  const end = await topicEnd(topic);
  const records = await readDecoded(registry.registry.url, topic, (r) => r.length >= end, 120_000);
  const seen = checkRecords(records);
  assert.equal(seen.size, ROWS, 'every row');
  const duplicates = records.length - ROWS;
  assert.ok(duplicates <= BATCH, `${duplicates} duplicates, at most one batch (${BATCH})`);
  assert.equal(records.at(-1)!.value!.source.snapshot, 'last');
});

test('a stopped replay of a hash-bucketed composite text key continues exactly after the last acknowledged row', async () => {
  const ROWS = 30_000;
  const schema = pgTable(
    uniqueName('replay_lake_text_key'),
    [column('region', { kind: 'string' }, false), column('n', { kind: 'int64' }, false), column('label', { kind: 'string' })],
    ['region', 'n'],
  );
  const rows = function* (): Generator<Row> {
    for (let i = 0; i < ROWS; i++) yield { region: `r-${i % 7} ✓`, n: BigInt(i) - 15_000n, label: `label ${i}` };
  };
  const { file, table } = await lakeTable(schema, rows(), { hashBuckets: 8 });
  const config = loadConfig(file);
  const topic = uniqueTopic('replay-lake-stop');
  const stop = new AbortController();
  const running = runReplay(config, { table, from: 'lake', toTopic: topic, logger: silentLogger(), rate: 20_000, signal: stop.signal });
  const store = CheckpointStore.open(config.checkpoint.path);
  try {
    await waitFor(() => (store.getSnapshot(replayProgressName(table, topic), table)?.rows ?? 0) >= 10_000, 'replay progress', 60_000);
  } finally {
    store.close();
  }
  stop.abort();
  const stopped = await running;
  assert.equal(stopped.completed, false);

  const result = await runReplay(config, { table, from: 'lake', toTopic: topic, logger: silentLogger() });
  assert.equal(result.resumed, true);
  assert.equal(result.totalRows, ROWS);
  assert.equal(result.rows, ROWS - stopped.totalRows, 'a clean stop leaves no duplicates');
  const records = await readDecoded(registry.registry.url, topic, (r) => r.length >= ROWS, 120_000);
  const keys = new Set(records.map((r) => `${String(r.key!.region)}/${String(r.key!.n)}`));
  assert.equal(records.length, ROWS);
  assert.equal(keys.size, ROWS, 'every key once');
  for (const record of records) {
    const after = record.value!.after!;
    assert.equal(after.label, `label ${Number(after.n as bigint) + 15_000}`);
  }
});
