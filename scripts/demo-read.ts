/**
 * The demo's consumer: reads change topics from the beginning and decodes them the way an existing Debezium
 * consumer on Node would (the stock Confluent deserializer), then prints what arrived per topic and op, with
 * one decoded event of each streamed op. Arguments: topic=expectedRecords ...; waits for that many records.
 */
import { readDecoded } from '../test/support/debezium-consumer.js';

const registryUrl = process.env.REGISTRY_URL ?? 'http://127.0.0.1:8081';
const json = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);

for (const arg of process.argv.slice(2)) {
  const [topic = '', count] = arg.split('=');
  const records = await readDecoded(registryUrl, topic, (read) => read.length >= Number(count));
  const ops = new Map<string, number>();
  const samples = new Map<string, unknown>();
  for (const { key, value } of records) {
    const op = value?.op ?? 'tombstone';
    ops.set(op, (ops.get(op) ?? 0) + 1);
    if (value !== null && !samples.has(op)) samples.set(op, { key, value });
  }
  console.log(`\n${topic}: ${records.length} records (${[...ops].map(([op, n]) => `${op}=${n}`).join(' ')})`);
  for (const op of ['u', 'd']) if (samples.has(op)) console.log(`-- first '${op}' event:\n${json(samples.get(op))}`);
}
