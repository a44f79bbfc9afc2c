import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNAVAILABLE, type Row } from '../../src/model/change.js';
import { compactTable } from '../../src/lake/compactor.js';
import { LakeMetadataError, nextMetadata, type SchemaField } from '../../src/lake/metadata.js';
import { TableDirectory } from '../../src/lake/table-dir.js';
import { silentLogger } from '../../src/ops/logger.js';
import { Admin } from '@platformatic/kafka';
import { localKafkaSettings } from '../support/kafka.js';
import { ChangeFeed, column, deps, pgTable, readSnapshot, startTestRegistry, target, type TestRegistry } from '../support/lake.js';

/** The group's committed offsets on `topic`, as lag monitoring sees them. */
async function committedOffsets(groupId: string, topic: string): Promise<Record<string, string>> {
  const admin = new Admin({ clientId: 'lake-compact-test', bootstrapBrokers: [...localKafkaSettings().brokers] });
  try {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const offsets: Record<string, string> = {};
    for (const t of group?.topics ?? []) {
      if (t.name === topic) for (const p of t.partitions) offsets[String(p.partitionIndex)] = String(p.committedOffset);
    }
    return offsets;
  } finally {
    await admin.close();
  }
}

let registry: TestRegistry;
let lake: string;

before(async () => {
  registry = await startTestRegistry();
  lake = await mkdtemp(join(tmpdir(), 'tributary-lake-'));
});

after(async () => {
  await registry.registry.close();
  await rm(lake, { recursive: true, force: true });
});

const typed = pgTable('typed', [
  column('id', { kind: 'int64' }, false),
  column('name', { kind: 'string' }),
  column('amount', { kind: 'decimal', precision: 12, scale: 2 }),
  column('exact', { kind: 'decimal' }),
  column('created', { kind: 'timestamp', precision: 6 }),
  column('seen', { kind: 'timestamptz', precision: 6 }),
  column('day', { kind: 'date' }),
  column('at', { kind: 'time', precision: 6 }),
  column('doc', { kind: 'json' }),
  column('raw', { kind: 'bytes' }),
  column('flag', { kind: 'boolean' }),
  column('ref', { kind: 'uuid' }),
  column('score', { kind: 'float64' }),
  column('small', { kind: 'int16' }),
  column('tags', { kind: 'array', items: { kind: 'int32' } }),
]);

function typedRow(i: number, version = 0): Row {
  return {
    id: BigInt(i),
    name: `name-${i}-${version}`,
    amount: `${i}.${String(i % 100).padStart(2, '0')}`,
    exact: `-${i}.00${version + 1}`,
    created: 1_700_000_000_000_000n + BigInt(i) * 1_000_001n,
    seen: new Date(1_700_000_000_000 + i * 1000).toISOString().replace('Z', '123Z').replace('.000123Z', '.000123Z'),
    day: 19_000 + i,
    at: BigInt(i % 86_400) * 1_000_000n + 123_456n,
    doc: JSON.stringify({ i, v: version }),
    raw: Uint8Array.of(i & 255, version),
    flag: i % 2 === 0,
    ref: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    score: i / 4,
    small: i % 1000,
    tags: [i, version],
  };
}

/** DuckDB prints fractional seconds without trailing zeros. */
const trimFraction = (text: string): string => (text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text);

/** What DuckDB prints for each value of typedRow. */
function expectedText(row: Row): Record<string, string | null> {
  const ts = (micros: bigint): string => {
    const d = new Date(Number(micros / 1000n));
    return trimFraction(`${d.toISOString().slice(0, 19).replace('T', ' ')}.${String(micros % 1_000_000n).padStart(6, '0')}`);
  };
  const out: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(row)) {
    if (value === null) out[name] = null;
    else if (name === 'created') out[name] = ts(value as bigint);
    else if (name === 'seen') out[name] = `${trimFraction((value as string).replace('T', ' ').replace('Z', ''))}+00`;
    else if (name === 'day') out[name] = new Date((value as number) * 86_400_000).toISOString().slice(0, 10);
    else if (name === 'at') {
      const s = ts(value as bigint);
      out[name] = s.slice(11);
    } else if (name === 'raw') out[name] = Buffer.from(value as Uint8Array).toString('hex').toUpperCase();
    else if (name === 'score') out[name] = Number.isInteger(value) ? `${value as number}.0` : String(value);
    else if (name === 'tags') out[name] = `[${(value as number[]).join(', ')}]`;
    else out[name] = String(value);
  }
  return out;
}

function assertSnapshotEquals(snapshot: Awaited<ReturnType<typeof readSnapshot>>, feed: ChangeFeed, columns: string[]): void {
  assert.equal(snapshot.rows.size, feed.rows.size, 'row count');
  assert.equal(snapshot.metadata.snapshots.at(-1)?.rows, feed.rows.size, 'row count in metadata');
  for (const [key, row] of feed.rows) {
    const got = snapshot.rows.get(key);
    assert.ok(got, `row ${key} is in the snapshot`);
    const want = expectedText(row);
    for (const c of columns) assert.equal(got[c], want[c] ?? null, `row ${key} column ${c}`);
  }
}

test('changes of every kind land in the snapshot with faithful Parquet types', async () => {
  const feed = new ChangeFeed(registry.client, typed);
  await feed.createTopic(2);
  for (let i = 0; i < 3000; i++) feed.upsert(typedRow(i), 'r');
  for (let i = 0; i < 3000; i += 3) feed.upsert(typedRow(i, 1));
  for (let i = 1; i < 3000; i += 7) feed.delete(typedRow(i));
  await feed.flush();
  const t = target(lake, feed);
  const firstDeps = deps(registry.registry.url, { buckets: { rangeWidth: 500 } });
  const first = await compactTable(t, firstDeps);
  assert.equal(first.length, 1);

  const snapshot = await readSnapshot(t.root);
  assert.deepEqual(Object.fromEntries(snapshot.types), {
    id: 'BIGINT',
    name: 'VARCHAR',
    amount: 'DECIMAL(12,2)',
    exact: 'VARCHAR',
    created: 'TIMESTAMP',
    seen: 'TIMESTAMP WITH TIME ZONE',
    day: 'DATE',
    at: 'TIME',
    doc: 'JSON',
    raw: 'BLOB',
    flag: 'BOOLEAN',
    ref: 'UUID',
    score: 'DOUBLE',
    small: 'SMALLINT',
    tags: 'INTEGER[]',
  });
  assertSnapshotEquals(snapshot, feed, typed.columns.map((c) => c.name));
  const current = snapshot.metadata.snapshots.at(-1);
  assert.deepEqual(current?.source, { connector: 'postgresql', lsn: feed.lastLsn.toString(), txId: '7', tsMs: 1_700_000_000_000 });
  const partitions = Object.keys(current?.kafka.offsets ?? {});
  assert.deepEqual(partitions, ['0', '1']);
  assert.deepEqual(await committedOffsets(firstDeps.groupId, t.topic), current?.kafka.offsets, 'the group shows the lag as of the snapshot');
  assert.ok(snapshot.metadata.files.every((f) => f.path.startsWith('data/')));
  assert.equal(snapshot.metadata.files.length, 6, 'one file per key range of 500');

  // Nothing new: no new snapshot.
  assert.deepEqual(await compactTable(t, deps(registry.registry.url)), []);

  // Schema evolution: drop `small`, add `note`; then a truncate followed by new rows.
  const evolved = pgTable('typed', [...typed.columns.filter((c) => c.name !== 'small'), column('note', { kind: 'string' })]);
  feed.alter(evolved);
  for (let i = 3000; i < 3100; i++) feed.upsert({ ...typedRow(i), small: undefined as never, note: `n${i}` });
  for (const row of [...feed.rows.values()].slice(0, 50)) feed.upsert({ ...row, name: 'changed' });
  await feed.flush();
  await compactTable(t, deps(registry.registry.url));
  const evolvedSnapshot = await readSnapshot(t.root);
  assert.equal(evolvedSnapshot.types.has('small'), false);
  assert.equal(evolvedSnapshot.types.get('note'), 'VARCHAR');
  for (const [key, row] of feed.rows) {
    assert.equal(evolvedSnapshot.rows.get(key)?.['note'] ?? null, (row['note'] as string | undefined) ?? null, `note of ${key}`);
    assert.equal(evolvedSnapshot.rows.get(key)?.['name'], row['name'], `name of ${key}`);
  }
  assert.equal(evolvedSnapshot.metadata.schemas.length, 2);

  feed.truncate();
  for (let i = 0; i < 10; i++) feed.upsert({ ...typedRow(10_000 + i), small: undefined as never, note: 'after truncate' });
  await feed.close();
  await compactTable(t, deps(registry.registry.url));
  const truncated = await readSnapshot(t.root);
  assert.equal(truncated.rows.size, 10);
  assert.deepEqual([...truncated.rows.keys()].sort(), [...feed.rows.keys()].sort());
  // Only the current and the previous version's files remain.
  const data = await readdir(join(t.root, 'data'));
  const previous = evolvedSnapshot.metadata.files.map((f) => f.path.slice(5));
  assert.deepEqual(data.sort(), [...truncated.metadata.files.map((f) => f.path.slice(5)), ...previous].sort());
});

test('values an update left out (unchanged TOAST) keep what the row held, from the batch or the current file', async () => {
  const toasted = pgTable('toasted', [
    column('id', { kind: 'int64' }, false),
    column('v', { kind: 'int32' }),
    column('body', { kind: 'string' }),
    column('doc', { kind: 'json' }),
    column('raw', { kind: 'bytes' }),
    column('tags', { kind: 'array', items: { kind: 'int32' } }),
  ]);
  const feed = new ChangeFeed(registry.client, toasted);
  await feed.createTopic();
  const full = (id: number, v: number): Row => ({ id: BigInt(id), v, body: `body ${id}.${v}`, doc: JSON.stringify({ id, v }), raw: Uint8Array.of(id, v), tags: [id, v] });
  const leftOut = (id: number, v: number): Row => ({ id: BigInt(id), v, body: UNAVAILABLE, doc: UNAVAILABLE, raw: UNAVAILABLE, tags: UNAVAILABLE });
  for (let id = 1; id <= 4; id++) feed.upsert(full(id, 0));
  await feed.flush();
  const t = target(lake, feed);
  await compactTable(t, deps(registry.registry.url));

  feed.upsert(leftOut(1, 1)); // only the current file has the values
  feed.upsert(full(2, 1));
  feed.upsert(leftOut(2, 2)); // an earlier change in the batch has them
  feed.upsert({ ...full(3, 1), body: null });
  feed.upsert(leftOut(3, 2)); // the earlier change set body to null
  feed.upsert(full(5, 0));
  feed.upsert(leftOut(5, 1)); // a row new in this batch
  feed.upsert(leftOut(4, 1));
  feed.delete({ id: 4n });
  await feed.close();
  await compactTable(t, deps(registry.registry.url));

  const snapshot = await readSnapshot(t.root);
  const text = (id: number, v: number, from: number): Record<string, string> => ({
    id: String(id),
    v: String(v),
    body: `body ${id}.${from}`,
    doc: JSON.stringify({ id, v: from }),
    raw: Buffer.from([id, from]).toString('hex').toUpperCase(),
    tags: `[${id}, ${from}]`,
  });
  assert.deepEqual(Object.fromEntries(snapshot.rows), {
    '1': text(1, 1, 0),
    '2': text(2, 2, 1),
    '3': { ...text(3, 2, 1), body: null },
    '5': text(5, 1, 0),
  });
});

test('a lake directory that cannot be written is named with the fix', async () => {
  // A regular file where a directory should be: fails for root too, unlike a chmod.
  const blocker = join(lake, 'not-a-directory');
  await writeFile(blocker, 'x');
  const feed = new ChangeFeed(registry.client, pgTable('ro', [column('id', { kind: 'int64' }, false)]));
  try {
    await assert.rejects(compactTable(target(blocker, feed), deps(registry.registry.url)), (error: Error & { fix?: string }) => {
      assert.match(error.message, /is not writable/);
      assert.match(error.fix ?? '', /lake\.path/);
      return true;
    });
  } finally {
    await feed.close();
  }
});

test('a lake that holds a MySQL TIME as a time of day is refused before reading, naming the table and the re-compaction', async () => {
  const feed = new ChangeFeed(registry.client, pgTable('wrapped', [column('id', { kind: 'int64' }, false)]));
  await feed.createTopic();
  const t = target(lake, feed);
  // What a Tributary before durations were kept as BIGINT published for a MariaDB table with a TIME column.
  const fields: SchemaField[] = [
    { id: 1, name: 'id', type: 'BIGINT', nullable: false },
    { id: 2, name: 'span', type: 'TIME', nullable: true, semantic: 'io.debezium.time.MicroTime' },
  ];
  const dir = new TableDirectory(t.root, silentLogger());
  await dir.prepare();
  await dir.publish(
    1,
    nextMetadata(
      { tableUuid: crypto.randomUUID(), source: { name: 'pg', connector: 'mariadb' }, namespace: t.namespace, table: t.table, topic: t.topic, partitionSpec: { transform: 'truncate', column: 'id', width: 10 } },
      { schema: { schemaId: 0, fields, key: ['id'] }, lastColumnId: 2, files: [], filesAdded: 0, filesRemoved: 0, changesApplied: 0, source: null, kafka: { topic: t.topic, offsets: {} }, madeAt: new Date() },
    ),
  );
  try {
    await assert.rejects(compactTable(t, deps(registry.registry.url)), (error: LakeMetadataError) => {
      assert.ok(error instanceof LakeMetadataError);
      assert.match(error.message, /lake snapshot of public\.wrapped holds the mariadb TIME column span as a time of day/);
      assert.match(error.fix ?? '', /delete .*\/pg\/public\/wrapped and run tributary compact -c FILE --table public\.wrapped --once/);
      assert.match(error.fix ?? '', /tributary replay -c FILE --table public\.wrapped --from database/);
      return true;
    });
  } finally {
    await feed.close();
  }
});
