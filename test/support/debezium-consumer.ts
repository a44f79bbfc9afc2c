/**
 * An independent consumer of Tributary's topics, built the way a Node application consuming Debezium topics is:
 * records read from Kafka and decoded by the stock Confluent deserializer (@kafkajs/confluent-schema-registry),
 * with Avro longs as bigint (Debezium's ts_us/ts_ns and BIGINT columns exceed 2^53).
 */
import avro from 'avsc';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { readTopic, type ReadRecord } from './kafka.js';

const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

const isLong = (schema: avro.Schema): boolean =>
  schema === 'long' || (typeof schema === 'object' && (schema as { type?: unknown }).type === 'long');

export function debeziumRegistry(url: string): SchemaRegistry {
  return new SchemaRegistry(
    { host: url },
    { [SchemaType.AVRO]: { typeHook: (schema: avro.Schema) => (isLong(schema) ? bigintLong : undefined) } },
  );
}

export interface DecodedRecord<K = Record<string, unknown>, V = DebeziumEnvelope> {
  readonly key: K | null;
  /** null for a tombstone. */
  readonly value: V | null;
  readonly offset: bigint;
  readonly partition: number;
}

export interface DebeziumEnvelope {
  readonly before: Record<string, unknown> | null;
  readonly after: Record<string, unknown> | null;
  readonly source: Record<string, unknown>;
  readonly op: 'c' | 'u' | 'd' | 'r' | 't';
  readonly ts_ms: bigint;
  readonly transaction: { id: string; total_order: bigint; data_collection_order: bigint } | null;
}

/** avsc decodes records into class instances; tests compare against plain objects. */
function toPlain(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map(toPlain);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]));
}

export async function decodeRecords<K, V>(registry: SchemaRegistry, records: readonly ReadRecord[]): Promise<DecodedRecord<K, V>[]> {
  const decoded: DecodedRecord<K, V>[] = [];
  for (const record of records) {
    decoded.push({
      key: record.key === null ? null : (toPlain(await registry.decode(record.key)) as K),
      value: record.value === null ? null : (toPlain(await registry.decode(record.value)) as V),
      offset: record.offset,
      partition: record.partition,
    });
  }
  return decoded;
}

/** Every record of `topic` from the beginning, decoded, once `until` holds for the raw records. */
export async function readDecoded<K = Record<string, unknown>, V = DebeziumEnvelope>(
  registryUrl: string,
  topic: string,
  until: (records: readonly ReadRecord[]) => boolean,
  timeoutMs = 60_000,
): Promise<DecodedRecord<K, V>[]> {
  return decodeRecords<K, V>(debeziumRegistry(registryUrl), await readTopic(topic, { until, timeoutMs }));
}
