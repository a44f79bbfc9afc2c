/**
 * `tributary replay` from the lake, interrupted: killed with -9 and rerun, the topic ends with every row and at
 * most one batch of duplicates; stopped cleanly on a table whose composite text key spreads rows over hash
 * buckets, the rerun continues exactly after the last acknowledged row; its snapshot's files removed by two
 * compactions mid-read, it fails naming the rerun, which continues from the new snapshot; stopped and rerun from
 * the database, it starts over with a warning. The lakes are compacted from change topics written by the test,
 * so the database is involved only where a replay reads it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { compactTable } from '../../src/lake/compactor.js';
import type { Row } from '../../src/model/change.js';
import { TributaryError } from '../../src/model/errors.js';
import type { TableSchema } from '../../src/model/schema.js';
import { createLogger, silentLogger } from '../../src/ops/logger.js';
import { replayProgressName, runReplay, type SnapshotReader } from '../../src/replay/index.js';
import { LakeSnapshotReader } from '../../src/replay/lake-reader.js';
import { resolveTarget } from '../../src/replay/target.js';
import { writeDaemonConfig } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { uniqueTopic } from '../support/kafka.js';
import { ChangeFeed, column, deps, pgTable, startTestRegistry, target, type TestRegistry } from '../support/lake.js';
import { sql, uniqueName, waitFor } from '../support/postgres.js';
import { checkRecords, expectedRow, PG_COLUMNS, pgFill, ReplayChild, topicEnd } from '../support/replay.js';

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

/**
 * Writes `rows` to a change topic, compacts it, and returns a config whose source has that table and lake (and
 * the PostgreSQL database test, for a table created there too), with the feed's topic prefix for later changes.
 */
async function lakeTable(schema: TableSchema, rows: Iterable<Row>, buckets = {}): Promise<{ file: string; table: string; prefix: string }> {
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
  return { file, table, prefix: feed.prefix };
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

/** The lake reader, holding back the row numbered by a key of `pauses` until its function has run. */
function pausingLakeReader(config: Config, table: string, pauses: ReadonlyMap<number, () => Promise<void>>): SnapshotReader {
  const inner = new LakeSnapshotReader({ config, target: resolveTarget(config, table), logger: silentLogger() });
  return {
    kind: 'lake',
    async open(afterKey) {
      const snapshot = await inner.open(afterKey);
      return {
        ...snapshot,
        async *rows(signal) {
          let read = 0;
          for await (const row of snapshot.rows(signal)) {
            await pauses.get(++read)?.();
            yield row;
          }
        },
      };
    },
  };
}

test('two compactions during a lake replay remove the files it reads: a clear error, and a rerun completes from the new snapshot', async () => {
  const ROWS = 20_000;
  const ADDED = 1_000;
  const WIDTH = 2_000;
  const schema = pgTable(uniqueName('replay_lake_replaced'), [...GENERATED.columns]);
  const { file, table, prefix } = await lakeTable(schema, generated(ROWS), { rangeWidth: WIDTH });
  const config = loadConfig(file);
  const topic = uniqueTopic('replay-lake-replaced');
  const feed = new ChangeFeed(registry.client, schema, prefix);
  const compact = async (): Promise<number | null | undefined> => {
    await feed.flush();
    const [published] = await compactTable(target(lake, feed), deps(registry.registry.url, { buckets: { rangeWidth: WIDTH } }));
    return published?.snapshotId;
  };
  const published: (number | null | undefined)[] = [];
  // Each bucket's rows are sorted by DuckDB before the first is handed out, so a pause in a bucket lets the
  // compactions run before the next bucket's files are opened. The first compaction rewrites every bucket; its
  // clean-up keeps the previous version, so the second bucket still reads. The second one keeps only its own and
  // the first one's files: the third bucket of the replay's version is gone.
  const pauses = new Map([
    [1000, async () => {
      for (const row of generated(ROWS)) feed.upsert(row);
      published.push(await compact());
    }],
    [3000, async () => {
      for (let id = ROWS + 1; id <= ROWS + ADDED; id++) feed.upsert(expectedRow(id) as Row);
      published.push(await compact());
    }],
  ]);
  try {
    await assert.rejects(runReplay(config, { table, toTopic: topic, logger: silentLogger(), reader: pausingLakeReader(config, table, pauses) }), (error: unknown) => {
      assert.ok(error instanceof TributaryError, String(error));
      assert.match(error.message, new RegExp(`lake snapshot 1 of ${table} was replaced while it was being replayed`));
      assert.match(error.fix ?? '', new RegExp(`rerun tributary replay -c FILE --table ${table}`));
      return true;
    });
  } finally {
    await feed.close();
  }
  assert.deepEqual(published, [2, 3]);
  const store = CheckpointStore.open(config.checkpoint.path);
  try {
    // Ids 1–3999 were read; the last of them was still held back to learn whether it is the table's last row.
    assert.equal(store.getSnapshot(replayProgressName(table, topic), table)?.rows, 2 * WIDTH - 2, 'the rows emitted before the failure were acknowledged');
  } finally {
    store.close();
  }

  const result = await runReplay(config, { table, toTopic: topic, logger: silentLogger() });
  assert.equal(result.from, 'lake');
  assert.equal(result.resumed, true);
  assert.equal(result.completed, true);
  assert.equal(result.totalRows, ROWS + ADDED, 'the rows the new snapshot added are replayed too');
  assert.notEqual(result.positions.current, result.positions.first, 'the rest is read at the new snapshot’s position');
  const records = await readDecoded(registry.registry.url, topic, (r) => r.length >= ROWS + ADDED, 120_000);
  const seen = checkRecords(records);
  assert.equal(seen.size, ROWS + ADDED, 'every row');
  assert.equal(records.length, ROWS + ADDED, 'no duplicates: the failed run acknowledged what it had emitted');
});

test('an unfinished lake replay rerun with --from database warns and starts from the first row', async () => {
  const ROWS = 20_000;
  const schema = pgTable(uniqueName('replay_lake_switch'), [...GENERATED.columns]);
  const name = schema.id.table;
  await sql(`CREATE TABLE ${name} (${PG_COLUMNS})`, pgFill(name, ROWS));
  try {
    const { file, table } = await lakeTable(schema, generated(ROWS));
    const config = loadConfig(file);
    const topic = uniqueTopic('replay-lake-switch');
    const stop = new AbortController();
    // No --from: the table has a lake snapshot. At 5 000 rows/s the stop comes seconds before the end.
    const running = runReplay(config, { table, toTopic: topic, logger: silentLogger(), rate: 5_000, signal: stop.signal });
    const store = CheckpointStore.open(config.checkpoint.path);
    try {
      await waitFor(() => (store.getSnapshot(replayProgressName(table, topic), table)?.rows ?? 0) >= 2_000, 'replay progress', 60_000);
    } finally {
      store.close();
    }
    stop.abort();
    const stopped = await running;
    assert.equal(stopped.from, 'lake');
    assert.equal(stopped.completed, false);

    const logLines: string[] = [];
    const logger = createLogger('warn', new Writable({ write: (chunk, _enc, done) => (logLines.push(String(chunk)), done()) }));
    const result = await runReplay(config, { table, from: 'database', toTopic: topic, logger });
    const warnings = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.level === 'warn');
    assert.deepEqual(
      warnings.map(({ rows, unfinished, from, msg }) => ({ rows, unfinished, from, msg })),
      [{ rows: stopped.totalRows, unfinished: 'lake', from: 'database', msg: 'the unfinished replay read from the lake; reading from the database starts from the first row' }],
    );
    assert.equal(result.from, 'database');
    assert.equal(result.resumed, false);
    assert.equal(result.completed, true);
    assert.equal(result.rows, ROWS, 'every row again');
    assert.equal(result.totalRows, ROWS, 'the first run’s rows are not counted');

    const end = await topicEnd(topic);
    assert.equal(end, stopped.totalRows + ROWS);
    const records = await readDecoded(registry.registry.url, topic, (r) => r.length >= end, 120_000);
    const seen = checkRecords(records);
    assert.equal(seen.size, ROWS, 'every row');
    const rerun = records.slice(stopped.totalRows);
    assert.deepEqual(rerun.map((r) => r.value!.after!.id), Array.from({ length: ROWS }, (_, i) => i + 1), 'the rerun starts from the first row');
    assert.ok(rerun.every((r) => r.value!.source.lsn !== records[0]!.value!.source.lsn), 'the rerun carries the database read’s position');
    // The only duplicates: the rows the stopped run emitted, each once more.
    const duplicates = [...seen].filter(([, count]) => count > 1);
    assert.equal(duplicates.length, stopped.totalRows);
    assert.ok(duplicates.every(([id, count]) => count === 2 && id <= stopped.totalRows));
  } finally {
    await sql(`DROP TABLE ${name}`);
  }
});
