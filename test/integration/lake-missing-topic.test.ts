/**
 * `tributary compact` over a config with a table whose change topic does not exist yet (the daemon never ran, or
 * the table has no snapshot yet): that table has nothing to compact, which is a warning naming it and its topic,
 * not a failure; the other tables are compacted, and the continuous mode picks the table up once its topic exists.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDaemonConfig } from '../support/daemon.js';
import { ChangeFeed, column, pgTable, readSnapshot, startTestRegistry, target, type TestRegistry } from '../support/lake.js';
import { compact } from '../support/mixed-workload.js';
import { waitFor } from '../support/postgres.js';
import { uniqueTopic } from '../support/kafka.js';

let registry: TestRegistry;
let lake: string;

before(async () => {
  registry = await startTestRegistry();
  lake = await mkdtemp(join(tmpdir(), 'tributary-lake-missing-'));
});

after(async () => {
  await registry.registry.close();
  await rm(lake, { recursive: true, force: true });
});

const columns = [column('id', { kind: 'int64' }, false), column('note', { kind: 'string' })];

/** A config whose one source has `tables` (compacted in this order) under `prefix`, compacting every second. */
function config(prefix: string, lakePath: string, tables: readonly string[]): string {
  return writeDaemonConfig(
    [{ name: 'pg', kind: 'postgres', topicPrefix: prefix, connection: { database: 'test', user: 'postgres' }, tables: tables.map((name) => ({ name })) }],
    registry.registry.url,
    { lake: { path: lakePath, compact: { intervalMs: 1000 } } },
  );
}

/** Whether the table at `root` has a published lake snapshot. */
const published = (root: string): boolean => existsSync(join(root, 'metadata', 'version-hint.text'));

/** The warnings the compactor logged (JSON lines) about `topic`. */
function missingTopicWarnings(output: string, topic: string): { msg: string; table: string }[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; msg: string; table: string; topic?: string })
    .filter((entry) => entry.level === 'warn' && entry.topic === topic);
}

test('compact --once compacts the tables whose topics exist, warns about one whose topic does not, and exits 0', async () => {
  const prefix = uniqueTopic('lake_missing').replaceAll('-', '_');
  const lakePath = join(lake, prefix);
  const present = new ChangeFeed(registry.client, pgTable('present', columns), prefix);
  await present.createTopic();
  for (let i = 0; i < 25; i++) present.upsert({ id: BigInt(i), note: `row ${i}` }, 'r');
  await present.close();
  const absentTopic = `${prefix}.public.absent`;

  const run = await compact(config(prefix, lakePath, ['public.absent', 'public.present']), 'once').result;
  assert.equal(run.code, 0, `exit code (stderr: ${run.stderr})`);
  assert.match(run.stdout, /^public\.present: snapshot 1, 25 rows, 25 changes applied/m);
  assert.doesNotMatch(run.stdout, /^public\.absent:/m);
  const [warning, ...more] = missingTopicWarnings(run.stdout, absentTopic);
  assert.equal(more.length, 0);
  assert.equal(warning?.table, 'public.absent');
  assert.match(warning?.msg ?? '', new RegExp(`no change topic ${absentTopic} yet for public\\.absent: nothing to compact \\(run \`tributary run\` first\\)`));

  const snapshot = await readSnapshot(target(lakePath, present).root);
  assert.equal(snapshot.rows.size, 25);
  assert.equal(published(join(lakePath, 'pg', 'public', 'absent')), false, 'nothing is published for the missing topic');
});

test('the continuous mode compacts a table once its topic appears', async () => {
  const prefix = uniqueTopic('lake_appears').replaceAll('-', '_');
  const lakePath = join(lake, prefix);
  const present = new ChangeFeed(registry.client, pgTable('present', columns), prefix);
  await present.createTopic();
  present.upsert({ id: 1n, note: 'present' }, 'r');
  await present.close();
  const absent = new ChangeFeed(registry.client, pgTable('absent', columns), prefix);
  const absentRoot = target(lakePath, absent).root;

  const command = compact(config(prefix, lakePath, ['public.absent', 'public.present']), 'continuous');
  try {
    // Tables are compacted in config order: once `present` is published, the round has passed `absent`.
    await waitFor(() => published(target(lakePath, present).root), 'the present table to be compacted', 60_000);
    assert.equal(published(absentRoot), false);
    await absent.createTopic();
    for (let i = 0; i < 10; i++) absent.upsert({ id: BigInt(i), note: `late ${i}` }, 'r');
    await absent.close();
    await waitFor(() => published(absentRoot), 'the table whose topic appeared to be compacted', 60_000);
  } finally {
    const run = await command.stop();
    assert.equal(run.code, 0, `exit code (stderr: ${run.stderr})`);
    assert.ok(missingTopicWarnings(run.stdout, absent.topic).length >= 1, 'the missing topic was named while it was missing');
  }
  const snapshot = await readSnapshot(absentRoot);
  assert.deepEqual([...snapshot.rows.values()].map((r) => r['note']).sort(), [...absent.rows.values()].map((r) => String(r['note'])).sort());
});
