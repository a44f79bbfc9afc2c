import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactTable } from '../../src/lake/compactor.js';
import { ChangeFeed, column, deps, pgTable, readSnapshot, startTestRegistry, target, type TestRegistry } from '../support/lake.js';

let registry: TestRegistry;
let lake: string;

before(async () => {
  registry = await startTestRegistry();
  lake = await mkdtemp(join(tmpdir(), 'tributary-lake-inc-'));
});

after(async () => {
  await registry.registry.close();
  await rm(lake, { recursive: true, force: true });
});

const KEYS = 20_000;
const table = pgTable('orders', [column('id', { kind: 'int64' }, false), column('status', { kind: 'string' }), column('total', { kind: 'decimal', precision: 10, scale: 2 })]);

test('a second compaction after 1% of the keys changed rewrites only the files holding them', async () => {
  const feed = new ChangeFeed(registry.client, table);
  await feed.createTopic();
  for (let i = 0; i < KEYS; i++) feed.upsert({ id: BigInt(i), status: 'new', total: `${i}.50` }, 'r');
  await feed.flush();
  const t = target(lake, feed);
  const options = deps(registry.registry.url, { buckets: { rangeWidth: 200 } });
  await compactTable(t, options);
  const first = await readSnapshot(t.root);
  assert.equal(first.metadata.files.length, KEYS / 200);

  // The most recent 1% of orders change (updates and deletes), as order workloads do.
  for (let i = KEYS - KEYS / 100; i < KEYS; i++) {
    if (i % 10 === 0) feed.delete({ id: BigInt(i) });
    else feed.upsert({ id: BigInt(i), status: 'shipped', total: `${i}.50` });
  }
  await feed.close();
  const [result] = await compactTable(t, options);
  const second = await readSnapshot(t.root);
  const firstPaths = new Set(first.metadata.files.map((f) => f.path));
  const rewritten = second.metadata.files.filter((f) => !firstPaths.has(f.path));
  assert.equal(result?.filesWritten, rewritten.length);
  assert.ok(rewritten.length <= 1, `rewrote ${rewritten.length} of ${second.metadata.files.length} files`);
  assert.equal(second.metadata.snapshots.at(-1)?.filesRemoved, rewritten.length);
  assert.equal(second.rows.size, feed.rows.size);
  for (const [key, row] of feed.rows) assert.equal(second.rows.get(key)?.['status'], row['status'], `status of ${key}`);
});
