import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryAvroDecoder } from '../../src/avro/decoder.js';
import { frame } from '../../src/avro/index.js';
import { bucketOf, canonicalKey, murmur3, partitionSpecFor } from '../../src/lake/buckets.js';
import { decimalString } from '../../src/lake/columns.js';
import { laterPosition } from '../../src/lake/compactor.js';
import { takeRecords, type RawRecord } from '../../src/lake/change-reader.js';
import type { RecordsBatch } from '@platformatic/kafka';
import { evolveSchema, LAKE_FORMAT_VERSION, nextMetadata, parseMetadata, type DataFile, type NewTable } from '../../src/lake/metadata.js';
import { planMerge } from '../../src/lake/plan.js';
import { RegistryRequestError } from '../../src/registry/client.js';

const col = (name: string, type: string) => ({ name, type, nullable: true });

test('murmur3 matches the reference x86 32-bit vectors (as Iceberg uses)', () => {
  assert.equal(murmur3(Buffer.from('')), 0);
  assert.equal(murmur3(Buffer.from('hello')) >>> 0, 0x248bfa47);
  assert.equal(murmur3(Buffer.from('The quick brown fox jumps over the lazy dog')) >>> 0, 0x2e4ff723);
});

test('integer keys split by range, with floor division for negatives; other keys by hash', () => {
  const range = partitionSpecFor([col('id', 'BIGINT')], { rangeWidth: 100 });
  assert.deepEqual(range, { transform: 'truncate', column: 'id', width: 100 });
  assert.equal(bucketOf(range, [0n]), 0);
  assert.equal(bucketOf(range, [199n]), 1);
  assert.equal(bucketOf(range, [-1n]), -1);
  assert.equal(bucketOf(range, [-100n]), -1);
  assert.equal(bucketOf(range, [250]), 2);
  const hash = partitionSpecFor([col('a', 'VARCHAR'), col('b', 'BIGINT')], { hashBuckets: 16 });
  assert.equal(hash.transform, 'bucket');
  const b = bucketOf(hash, ['x', 5n]);
  assert.ok(b >= 0 && b < 16);
  assert.equal(bucketOf(hash, ['x', 5]), b, 'number and bigint keys hash alike');
  assert.notDeepEqual(canonicalKey(['a', 'b']), canonicalKey(['ab', '']));
});

test('merge planning rewrites touched buckets only, and everything after a truncate', () => {
  const file = (bucket: number): DataFile => ({ path: `data/b${bucket}.parquet`, bucket, rows: 10, bytes: 100, schemaId: 0 });
  const files = [file(0), file(1), file(2)];
  const plan = planMerge(files, new Set([1, 7]), false);
  assert.deepEqual([...plan.rewrite.keys()], [1, 7]);
  assert.deepEqual(plan.rewrite.get(1), [file(1)]);
  assert.deepEqual(plan.rewrite.get(7), []);
  assert.deepEqual(plan.keep, [file(0), file(2)]);
  assert.deepEqual(plan.drop, [file(1)]);
  const truncated = planMerge(files, new Set([2]), true);
  assert.deepEqual(truncated.rewrite.get(2), []);
  assert.deepEqual(truncated.keep, []);
  assert.equal(truncated.drop.length, 3);
});

test('schema evolution keeps column ids, gives new columns new ids, and reuses ids of returning columns', () => {
  const first = evolveSchema({ schemas: [], lastColumnId: 0, current: undefined }, [col('id', 'BIGINT'), col('a', 'VARCHAR')], ['id']);
  assert.equal(first.isNew, true);
  assert.deepEqual(first.schema.fields.map((f) => f.id), [1, 2]);
  const same = evolveSchema({ schemas: [first.schema], lastColumnId: 2, current: first.schema }, [col('id', 'BIGINT'), col('a', 'VARCHAR')], ['id']);
  assert.equal(same.isNew, false);
  const dropped = evolveSchema({ schemas: [first.schema], lastColumnId: 2, current: first.schema }, [col('id', 'BIGINT'), col('b', 'DATE')], ['id']);
  assert.deepEqual(dropped.schema.fields.map((f) => [f.name, f.id]), [['id', 1], ['b', 3]]);
  assert.equal(dropped.schema.schemaId, 1);
  const back = evolveSchema({ schemas: [first.schema, dropped.schema], lastColumnId: 3, current: dropped.schema }, [col('id', 'BIGINT'), col('a', 'VARCHAR')], ['id']);
  assert.deepEqual(back.schema.fields.map((f) => f.id), [1, 2]);
  assert.equal(dropped.rewrite, true, 'other columns: the files are rewritten');
});

test('a schema that only describes its columns differently is a new version whose files are not rewritten', () => {
  const first = evolveSchema({ schemas: [], lastColumnId: 0, current: undefined }, [col('id', 'BIGINT'), col('mood', 'VARCHAR')], ['id']);
  const withEnum = (allowed: string) => ({ ...col('mood', 'VARCHAR'), avro: { type: { type: 'string', 'connect.parameters': { allowed } } } });
  const described = evolveSchema({ schemas: [first.schema], lastColumnId: 2, current: first.schema }, [col('id', 'BIGINT'), withEnum('a,b')], ['id']);
  assert.equal(described.isNew, true);
  assert.equal(described.rewrite, false);
  const more = evolveSchema({ schemas: [first.schema, described.schema], lastColumnId: 2, current: described.schema }, [col('id', 'BIGINT'), withEnum('a,b,c')], ['id']);
  assert.deepEqual([more.isNew, more.rewrite, more.schema.schemaId], [true, false, 2]);
  const rekeyed = evolveSchema({ schemas: [first.schema], lastColumnId: 2, current: first.schema }, [col('id', 'BIGINT'), col('mood', 'VARCHAR')], ['id', 'mood']);
  assert.equal(rekeyed.rewrite, true, 'a new key: the files are rewritten');
});

test('metadata versions chain snapshots, and a newer format is refused with the fix', () => {
  const table: NewTable = { tableUuid: 'u', source: { name: 's', connector: 'postgresql' }, namespace: 'public', table: 't', topic: 's.public.t', partitionSpec: { transform: 'truncate', column: 'id', width: 10 } };
  const schema = evolveSchema({ schemas: [], lastColumnId: 0, current: undefined }, [col('id', 'BIGINT')], ['id']).schema;
  const files: DataFile[] = [{ path: 'data/a.parquet', bucket: 0, rows: 3, bytes: 10, schemaId: 0 }];
  const common = { schema, lastColumnId: 1, filesAdded: 1, filesRemoved: 0, changesApplied: 3, kafka: { topic: 's.public.t', offsets: { '0': '3' } }, madeAt: new Date(0) };
  const v1 = nextMetadata(table, { ...common, files, source: { connector: 'postgresql', lsn: '10', txId: null, tsMs: 1 } });
  const v2 = nextMetadata(v1, { ...common, files: [...files, { ...files[0]!, path: 'data/b.parquet', bucket: 1 }], source: null });
  assert.equal(v2.formatVersion, LAKE_FORMAT_VERSION);
  assert.deepEqual(v2.snapshots.map((s) => [s.snapshotId, s.parentSnapshotId, s.rows]), [[1, null, 3], [2, 1, 6]]);
  assert.equal(v2.snapshots[1]?.source?.connector, 'postgresql', 'a snapshot without new positions keeps the last one');
  assert.equal(v2.schemas.length, 1);
  assert.deepEqual(parseMetadata(JSON.stringify(v2), 'v2'), v2);
  assert.throws(() => parseMetadata(JSON.stringify({ ...v2, formatVersion: LAKE_FORMAT_VERSION + 1 }), 'metadata/v3.metadata.json'), (error: Error & { fix?: string }) => {
    assert.match(error.message, /newer Tributary/);
    assert.match(error.fix ?? '', /upgrade/);
    return true;
  });
  assert.throws(() => parseMetadata('{', 'v9'), /not valid JSON/);
});

test('decimal text and source positions', () => {
  assert.equal(decimalString(-1234n, 2), '-12.34');
  assert.equal(decimalString(5n, 3), '0.005');
  assert.equal(decimalString(7n, 0), '7');
  const a = { connector: 'mysql' as const, file: 'bin.000009', pos: '900', row: 0, gtid: null, serverId: '1', tsMs: 1 };
  const b = { ...a, file: 'bin.000010', pos: '4' };
  assert.equal(laterPosition(b, a), b);
  assert.equal(laterPosition(a, b), b);
  const p = (lsn: string) => ({ connector: 'postgresql' as const, lsn, txId: null, tsMs: 1 });
  assert.deepEqual(laterPosition(p('100'), p('20')), p('100'));
  assert.deepEqual(laterPosition(p('20'), p('100')), p('100'));
  assert.deepEqual(laterPosition(p('18446744073709551615'), p('9999999999999999999')), p('18446744073709551615'));
  const q = { connector: 'postgresql' as const, lsn: null, txId: null, tsMs: 1 };
  assert.deepEqual(laterPosition(p('5'), q), p('5'), 'an event without an LSN does not move the position');
  assert.deepEqual(laterPosition(q, p('5')), p('5'));
  assert.deepEqual(laterPosition({ ...a, pos: '1000' }, { ...a, pos: '999' }), { ...a, pos: '1000' });
  assert.deepEqual(laterPosition({ ...a, pos: '1000', row: 2 }, { ...a, pos: '1000', row: 3 }), { ...a, pos: '1000', row: 3 });
});

test('a record whose schema id the registry does not know is named with the fix', async () => {
  const decoder = new RegistryAvroDecoder({
    getById: (id) => Promise.reject(new RegistryRequestError(`schema ${id} not found`, 404, 40403)),
  });
  await assert.rejects(decoder.decode(frame(42, Buffer.alloc(1)), 'value of t[0]@5'), (error: Error & { fix?: string }) => {
    assert.match(error.message, /schema id 42 of the value of t\[0\]@5/);
    assert.match(error.fix ?? '', /registry\.url/);
    return true;
  });
});

test('takeRecords keeps offsets [from, end) up to the budget and says where to fetch next', () => {
  const batch = (firstOffset: number, deltas: number[], lastOffsetDelta = Math.max(...deltas), attributes = 0): RecordsBatch =>
    ({
      firstOffset: BigInt(firstOffset),
      lastOffsetDelta,
      attributes,
      records: deltas.map((offsetDelta) => ({ offsetDelta, key: Buffer.from([offsetDelta]), value: Buffer.from('v') })),
    }) as unknown as RecordsBatch;
  const take = (batches: RecordsBatch[], from: number, end: number, budget: number): [number[], number] => {
    const out: RawRecord[] = [];
    const next = takeRecords(3, batches, BigInt(from), BigInt(end), budget, out);
    assert.ok(out.every((r) => r.partition === 3));
    return [out.map((r) => Number(r.offset)), Number(next)];
  };
  const two = [batch(0, [0, 1, 2]), batch(3, [0, 1, 2])];
  assert.deepEqual(take(two, 0, 6, 100), [[0, 1, 2, 3, 4, 5], 6], 'everything');
  assert.deepEqual(take(two, 2, 6, 100), [[2, 3, 4, 5], 6], 'a fetch starts at a batch boundary, not at the offset asked for');
  assert.deepEqual(take(two, 0, 4, 100), [[0, 1, 2, 3], 4], 'the end seen when the read started');
  assert.deepEqual(take(two, 0, 6, 4), [[0, 1, 2, 3], 4], 'the budget stops mid-batch: the rest is fetched again');
  assert.deepEqual(take([batch(0, [0, 1]), batch(2, [0], 0, 0b10_0000), batch(3, [0])], 0, 4, 100), [[0, 1, 3], 4], 'a transaction marker');
  assert.deepEqual(take([batch(10, [0, 2], 5)], 10, 100, 100), [[10, 12], 16], 'records removed by log compaction');
  assert.deepEqual(take([batch(10, [0, 2], 5)], 10, 14, 100), [[10, 12], 14], 'compaction gap past the end');
  assert.deepEqual(take([], 7, 9, 100), [[], 7], 'nothing returned yet');
});
