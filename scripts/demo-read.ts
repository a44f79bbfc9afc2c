/**
 * The demo's consumer: reads change topics from the beginning and decodes them the way an existing Debezium
 * consumer on Node would, with the stock Confluent deserializer (@kafkajs/confluent-schema-registry), then prints
 * what arrived per topic and op, with one decoded event of each streamed op.
 * Arguments: topic=expectedRecords ...; it waits until that many records arrived on each.
 */
import avro from 'avsc';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { readTopic } from '../test/support/kafka.js';

// Debezium's ts_us/ts_ns (and any BIGINT column) exceed 2^53, so a JavaScript consumer of Debezium topics reads
// Avro longs as bigint; avsc's default long refuses them.
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
const registry = new SchemaRegistry(
  { host: process.env.REGISTRY_URL ?? 'http://127.0.0.1:8081' },
  { [SchemaType.AVRO]: { typeHook: (schema: avro.Schema) => (isLong(schema) ? bigintLong : undefined) } },
);

const json = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);

for (const arg of process.argv.slice(2)) {
  const [topic = '', count] = arg.split('=');
  const records = await readTopic(topic, { until: (read) => read.length >= Number(count), timeoutMs: 60_000 });
  const ops = new Map<string, number>();
  const samples = new Map<string, unknown>();
  for (const record of records) {
    const value = record.value === null ? null : ((await registry.decode(record.value)) as { op: string });
    const op = value?.op ?? 'tombstone';
    ops.set(op, (ops.get(op) ?? 0) + 1);
    if (value !== null && !samples.has(op)) {
      samples.set(op, { key: record.key === null ? null : await registry.decode(record.key), value });
    }
  }
  console.log(`\n${topic}: ${records.length} records (${[...ops].map(([op, n]) => `${op}=${n}`).join(' ')})`);
  for (const op of ['u', 'd']) if (samples.has(op)) console.log(`-- first '${op}' event:\n${json(samples.get(op))}`);
}
