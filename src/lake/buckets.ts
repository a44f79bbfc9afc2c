/**
 * Which data file a key belongs to. A table keyed by one integer column is split by key range (Iceberg's
 * truncate[W]): keys written or changed together are usually near each other (new rows, recent orders), so a
 * compaction rewrites few files. Other keys are split by hash (Iceberg-style bucket[N], murmur3 over a canonical
 * encoding of the key), which spreads rows evenly but makes every file a candidate for any change.
 */
import { isTimeColumn, type LakeColumn } from './columns.js';
import type { PartitionSpec } from './metadata.js';

export interface BucketOptions {
  /** Rows per key range for integer keys (default 65 536). */
  readonly rangeWidth?: number;
  /** Hash buckets for other keys (default 64). */
  readonly hashBuckets?: number;
}

const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT']);

export function partitionSpecFor(key: readonly LakeColumn[], options: BucketOptions = {}): PartitionSpec {
  const only = key.length === 1 ? key[0] : undefined;
  // A duration kept as BIGINT microseconds is no counter: ranges of 65 536 µs would make a file per 65 ms.
  if (only !== undefined && INTEGER_TYPES.has(only.type) && !isTimeColumn(only)) {
    return { transform: 'truncate', column: only.name, width: options.rangeWidth ?? 65_536 };
  }
  return { transform: 'bucket', columns: key.map((c) => c.name), buckets: options.hashBuckets ?? 64 };
}

/** The bucket of a key, given its values in key order as decoded from Avro (bigint for longs). */
export function bucketOf(spec: PartitionSpec, key: readonly unknown[]): number {
  if (spec.transform === 'truncate') {
    const value = key[0];
    const n = typeof value === 'bigint' ? value : BigInt(value as number);
    const width = BigInt(spec.width);
    // Floor division, so that negative keys get their own ranges (Iceberg's truncate does the same).
    const q = n / width;
    return Number(n < 0n && q * width !== n ? q - 1n : q);
  }
  return (murmur3(canonicalKey(key)) >>> 0) % spec.buckets;
}

/** A byte encoding of key values that does not depend on JavaScript's number/bigint choice. */
export function canonicalKey(key: readonly unknown[]): Buffer {
  const parts = key.map((v) => {
    if (v === null || v === undefined) return 'n';
    if (typeof v === 'bigint' || typeof v === 'number') return `i${v}`;
    if (v instanceof Uint8Array) return `b${Buffer.from(v).toString('hex')}`;
    if (typeof v === 'boolean') return v ? 't' : 'f';
    return `s${String(v)}`;
  });
  return Buffer.from(parts.join('\u0000'), 'utf8');
}

/** MurmurHash3 x86 32-bit, seed 0 (the hash Iceberg's bucket transform uses). */
export function murmur3(data: Uint8Array): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = 0;
  const tail = data.length & ~3;
  for (let i = 0; i < tail; i += 4) {
    let k = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = data.length & 3;
  if (rest > 0) {
    let k = 0;
    if (rest === 3) k ^= data[tail + 2]! << 16;
    if (rest >= 2) k ^= data[tail + 1]! << 8;
    k ^= data[tail]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
