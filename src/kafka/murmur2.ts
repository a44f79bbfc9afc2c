/**
 * Kafka's key partitioning (Java's Utils.murmur2 and BuiltInPartitioner: `toPositive(murmur2(key)) % partitions`),
 * so a key lands in the partition Debezium's Kafka Connect producer would choose. @platformatic/kafka's own
 * murmur2 computes in bigint, which allocates several bigints per 4 bytes of every key; 32-bit integer arithmetic
 * (Math.imul) gives the same hash.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

/** Java's Utils.murmur2: the signed 32-bit hash of `data`. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= data[whole + 2]! << 16;
    if (tail >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partition of a record with `key` in a topic of `partitions` partitions, as Java's producer picks it (the
 * positive murmur2 of the key bytes, modulo the partition count). Keyless records all go to partition 0.
 */
export function javaKeyPartition(key: Uint8Array | null, partitions: number): number {
  return key === null ? 0 : (murmur2(key) & 0x7fffffff) % partitions;
}
