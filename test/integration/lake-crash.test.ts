import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChangeFeed, childEnv, column, pgTable, readSnapshot, startTestRegistry, target, type TestRegistry } from '../support/lake.js';
import { uniqueTopic } from '../support/kafka.js';

let registry: TestRegistry;
let lake: string;

before(async () => {
  registry = await startTestRegistry();
  lake = await mkdtemp(join(tmpdir(), 'tributary-lake-crash-'));
});

after(async () => {
  await registry.registry.close();
  await rm(lake, { recursive: true, force: true });
});

const table = pgTable('items', [column('id', { kind: 'int64' }, false), column('name', { kind: 'string' }), column('n', { kind: 'int32' })]);

interface ChildRun {
  readonly outcome: 'done' | 'killed';
  /** From the child's start of compaction to its exit. */
  readonly ms: number;
}

/** Runs the compactor in a child; kills it with SIGKILL `killAfterMs` after it began compacting, unless it finishes first. */
function runChild(env: Record<string, string>, killAfterMs: number | undefined): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/lake.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let started = 0;
  let timer: NodeJS.Timeout | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (started === 0 && out.includes('started')) {
      started = performance.now();
      if (killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const ms = started === 0 ? 0 : performance.now() - started;
      if (signal === 'SIGKILL') resolve({ outcome: 'killed', ms });
      else if (code === 0 && out.includes('done')) resolve({ outcome: 'done', ms });
      else reject(new Error(`compactor child exited with ${code ?? signal}`));
    });
  });
}

test('killing the compactor at random points never exposes a partial snapshot, and a rerun converges', { timeout: 300_000 }, async () => {
  const feed = new ChangeFeed(registry.client, table);
  await feed.createTopic(2);
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 10_000; i++) {
      const id = (i * 7919 + round * 13) % 12_000;
      if ((i + round) % 11 === 0) feed.delete({ id: BigInt(id) });
      else feed.upsert({ id: BigInt(id), name: `r${round}-${i}`, n: i });
    }
  }
  await feed.close();
  const settings = { registryUrl: registry.registry.url, maxChangesPerSnapshot: 6000, rangeWidth: 1000 };
  // An uninterrupted run into a lake of its own tells how long a whole compaction takes on this machine,
  // so that the kills land inside the work however fast the machine is.
  const calibration = target(join(lake, 'calibration'), feed);
  const whole = await runChild(childEnv({ ...settings, target: calibration, groupId: uniqueTopic('lake-crash-calibration') }), undefined);
  assert.equal(whole.outcome, 'done');

  const t = target(lake, feed);
  const env = childEnv({ ...settings, target: t, groupId: uniqueTopic('lake-crash') });
  let kills = 0;
  let lastVersion = 0;
  for (let attempt = 0; attempt < 12 && kills < 8; attempt++) {
    // The first kill comes early enough to be sure to interrupt; later ones anywhere in what is left.
    const fraction = attempt === 0 ? 0.3 : Math.random() * 0.9;
    const { outcome } = await runChild(env, Math.floor(whole.ms * fraction));
    if (outcome === 'killed') kills++;
    const published = await readSnapshot(t.root).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (published === undefined) continue;
    // Whatever was published is complete: every listed file is there and the rows add up.
    for (const file of published.metadata.files) await access(join(t.root, file.path));
    assert.equal(published.rows.size, published.metadata.snapshots.at(-1)?.rows);
    assert.ok(published.version >= lastVersion);
    lastVersion = published.version;
    if (outcome === 'done') break;
  }
  assert.ok(kills >= 1, 'at least one run was killed');

  assert.equal((await runChild(env, undefined)).outcome, 'done');
  const final = await readSnapshot(t.root);
  assert.equal(final.rows.size, feed.rows.size);
  for (const [key, row] of feed.rows) assert.equal(final.rows.get(key)?.['name'], row['name'], `name of ${key}`);
  const offsets = final.metadata.snapshots.at(-1)?.kafka.offsets ?? {};
  assert.equal(Object.values(offsets).reduce((sum, o) => sum + Number(o), 0), feed.records);

  // No garbage: only the current and the previous version's files, and no spill directories.
  const previous = (await readSnapshotVersionFiles(t.root, final.version - 1)) ?? [];
  const expected = new Set([...final.metadata.files.map((f) => f.path.slice(5)), ...previous]);
  assert.deepEqual((await readdir(join(t.root, 'data'))).sort(), [...expected].sort());
  assert.deepEqual((await readdir(t.root)).filter((n) => n.startsWith('.spill')), []);
});

async function readSnapshotVersionFiles(root: string, version: number): Promise<string[] | undefined> {
  try {
    const metadata = JSON.parse(await readFile(join(root, 'metadata', `v${version}.metadata.json`), 'utf8')) as { files: { path: string }[] };
    return metadata.files.map((f) => f.path.slice(5));
  } catch {
    return undefined;
  }
}
