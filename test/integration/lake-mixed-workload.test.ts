/**
 * The lake's end-to-end check on both sources: a mixed workload (100k keys, about a million inserts, updates,
 * deletes and re-inserts in large transactions, one ALTER TABLE that adds a column and drops one half-way)
 * streamed by `tributary run` to Kafka, compacted by `tributary compact` (the continuous mode from the ALTER on,
 * then `--once` after the daemon has everything), then read back by a fresh DuckDB over the files the published
 * metadata lists and compared with `SELECT *` of the live table: the same keys, every value equal under the
 * normalization in test/support/mixed-workload.ts, and the recorded source position that of the last change.
 * PostgreSQL's table has a text column that is sometimes TOASTed and never updated, so its updates carry
 * Debezium's unavailable-value placeholder, which the lake must resolve to the value the row holds.
 *
 * LAKE_MIXED_CHANGES sets the number of changes per source (keys: a fifth of it, at most 100k; default the
 * issue's 1M, which took 2m22s for the file on the otherwise idle 2-core test machine, 5m41s with other suites
 * running); LAKE_MIXED_SEED replays a run's choice of keys (the values are the databases' random()).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readSnapshot } from '../support/lake.js';
import {
  compact,
  KeyPlanner,
  normalize,
  recordsFor,
  seededRandom,
  totalChanges,
  waitForEndOffset,
  type CompactCommand,
  type TransactionPlan,
  type ValueKind,
} from '../support/mixed-workload.js';
import { mariadbWorkload, postgresWorkload, type SourceWorkload } from '../support/mixed-workload-sources.js';

const CHANGES = Number(process.env.LAKE_MIXED_CHANGES ?? 1_000_000);
const KEYS = Math.min(100_000, Math.floor(CHANGES / 5));
/** Changes per transaction. */
const TRANSACTION = 20_000;
const SEED = Number(process.env.LAKE_MIXED_SEED ?? Math.floor(Math.random() * 2 ** 31));

let registry: TestRegistry;
let lake: string;

before(async () => {
  registry = await startTestRegistry();
  lake = await mkdtemp(join(tmpdir(), 'tributary-lake-mixed-'));
  console.log(`lake mixed workload: ${CHANGES} changes over ${KEYS} keys per source, seed ${SEED} (LAKE_MIXED_SEED to replay)`);
});

after(async () => {
  await registry.close();
  await rm(lake, { recursive: true, force: true });
});

async function runMixedWorkload(source: SourceWorkload): Promise<void> {
  const configFile = writeDaemonConfig([source.config], registry.url, { lake: { path: lake, compact: { intervalMs: 1000 } } });
  const planner = new KeyPlanner(KEYS, seededRandom(SEED));
  const daemon = new Daemon(configFile);
  const timings: string[] = [];
  const lap = (() => {
    let last = Date.now();
    return (label: string): void => {
      timings.push(`${label} ${((Date.now() - last) / 1000).toFixed(1)} s`);
      last = Date.now();
    };
  })();
  let continuous: CompactCommand | undefined;
  try {
    await daemon.waitForLog(source.streamingLog);
    lap('daemon start');
    const apply = async (plan: TransactionPlan, altered: boolean): Promise<void> => {
      const done = await source.apply(plan, altered);
      assert.deepEqual(done, { updated: plan.update.length + plan.updateInserted.length, deleted: plan.delete.length, inserted: plan.insert.length }, 'rows the statements changed');
    };
    for (const ids of planner.initial(TRANSACTION)) await apply({ update: [], delete: [], insert: ids, updateInserted: [] }, false);
    let altered = false;
    while (totalChanges(planner.counts) < CHANGES - 1) {
      if (!altered && totalChanges(planner.counts) >= CHANGES / 2) {
        await source.alter();
        altered = true;
        // From here on the continuous compactor runs while changes arrive (the daemon lags, so changes from
        // both sides of the ALTER land in one round or another), each round merging onto the last snapshot.
        await waitForEndOffset(source.topic, KEYS, 120_000, false);
        continuous = compact(configFile, 'continuous');
      }
      await apply(planner.next(Math.min(TRANSACTION, CHANGES - 1 - totalChanges(planner.counts))), altered);
    }
    const last = await source.lastChange(planner.anyPresent());
    planner.counts.updates++;
    lap(`workload (${totalChanges(planner.counts)} changes: ${planner.counts.inserts} inserts, ${planner.counts.updates} updates, ${planner.counts.deletes} deletes)`);

    assert.ok(continuous !== undefined, 'the workload reached its ALTER TABLE');
    const records = recordsFor(planner.counts);
    await waitForEndOffset(source.topic, records, 300_000).catch((error: Error) => {
      throw new Error(`${error.message}; the daemon's last lines:\n${daemon.tail()}`);
    });
    const rounds = await continuous.stop();
    assert.equal(rounds.code, 0, `the continuous compactor failed:\n${rounds.stderr}\n${rounds.stdout.slice(-2000)}`);
    const published = rounds.stdout.split('\n').filter((line) => line.includes('lake: snapshot published')).length;
    assert.ok(published > 0, `the continuous compactor published no snapshot:\n${rounds.stdout.slice(-2000)}`);
    lap(`until Kafka held all ${records} records (meanwhile the continuous compactor published ${published} snapshots)`);

    // The continuous compactor's last round may already have had everything; then this finds nothing new.
    const final = await compact(configFile, 'once').result;
    assert.equal(final.code, 0, `the final compaction failed:\n${final.stderr}\n${final.stdout.slice(-2000)}`);
    lap('final compaction');

    const snapshot = await readSnapshot(source.lakeRoot);
    const live = await source.selectAll();
    lap(`reading ${live.rows.size} live rows and the snapshot`);

    // Column set and types: the ALTER's new column is there, the dropped one is gone.
    assert.deepEqual([...live.columns].sort(), Object.keys(source.columns).sort(), 'the live table has the columns the test expects');
    const expectedTypes = Object.entries(source.columns).map(([name, c]) => `${name} ${c.lakeType}`);
    assert.deepEqual([...snapshot.types].map(([name, type]) => `${name} ${type}`).sort(), expectedTypes.sort(), 'lake column types');
    compareRows(live.rows, snapshot.rows, source.columns);

    const current = snapshot.metadata.snapshots.at(-1);
    assert.ok(current !== undefined);
    assert.equal(current.rows, live.rows.size, 'row count in the metadata');
    assert.deepEqual(current.kafka, { topic: source.topic, offsets: { '0': String(records) } }, 'Kafka position in the metadata');
    assert.ok(snapshot.metadata.snapshots.length >= 2, 'the final snapshot was merged onto earlier ones');
    source.assertPosition(current.source, last);
    timings.push(`metadata position ${JSON.stringify(current.source)}`);
    assert.equal(await daemon.stop(), 0, daemon.tail());
  } finally {
    console.log(`${source.label}: ${timings.join('; ')}`);
    if (daemon.running) daemon.kill('SIGKILL');
    await daemon.exited;
    await continuous?.stop();
    await source.cleanup();
  }
}

const shown = (value: string | null | undefined): string => {
  const text = JSON.stringify(value ?? null);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** Every live row is in the snapshot with every value equal (normalized), and the snapshot has no other rows. */
function compareRows(
  live: ReadonlyMap<string, Record<string, string | null>>,
  lakeRows: ReadonlyMap<string, Record<string, string | null>>,
  columns: Readonly<Record<string, { readonly kind: ValueKind }>>,
): void {
  const missing: string[] = [];
  const differing: string[] = [];
  let differences = 0;
  for (const [key, row] of live) {
    const got = lakeRows.get(key);
    if (got === undefined) {
      missing.push(key);
      continue;
    }
    for (const [name, { kind }] of Object.entries(columns)) {
      const want = normalize(kind, row[name] ?? null);
      const have = normalize(kind, got[name] ?? null);
      if (want === have) continue;
      differences++;
      if (differing.length < 10) differing.push(`id ${key} ${name}: live ${shown(row[name])}, lake ${shown(got[name])}`);
    }
  }
  const extra = [...lakeRows.keys()].filter((key) => !live.has(key));
  assert.deepEqual(
    { missing: missing.length, extra: extra.length, differences },
    { missing: 0, extra: 0, differences: 0 },
    `snapshot vs live table: missing ${missing.slice(0, 10).join(',')}; extra ${extra.slice(0, 10).join(',')}; ${differing.join('; ')}`,
  );
  assert.equal(lakeRows.size, live.size);
}

test('PostgreSQL: after a mixed workload the lake snapshot equals the live table', { timeout: 600_000 }, async () => {
  await runMixedWorkload(await postgresWorkload(lake));
});

test('MariaDB: after a mixed workload the lake snapshot equals the live table', { timeout: 600_000 }, async () => {
  await runMixedWorkload(await mariadbWorkload(lake));
});
