/**
 * What the benches read from Kafka: how many records a topic holds (end offsets: the high watermark, i.e. what
 * acks=all has acknowledged), and each record's arrival as a consumer sees it, for latency.
 */
import { Admin, Consumer, MessagesStreamModes } from '@platformatic/kafka';
import { waitFor } from './daemon.js';

export const BROKER = process.env.KAFKA_BROKER ?? '127.0.0.1:9092';

export class TopicWatcher {
  private readonly admin = new Admin({ clientId: 'tributary-bench-admin', bootstrapBrokers: [BROKER] });

  /** Records in `topic`: the sum of its partitions' end offsets (a fresh topic, nothing deleted). */
  async count(topic: string, partitions = 1): Promise<number> {
    try {
      const result = await this.admin.listOffsets({
        topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })) }],
      });
      return result.flatMap((t) => t.partitions).reduce((sum, p) => sum + Number(p.offset), 0);
    } catch {
      return 0; // not created yet
    }
  }

  /** Resolves with the time (performance.now()) at which the topic held `expected` records, polled every 10 ms. */
  async until(topic: string, expected: number, timeoutMs: number, alive: () => void = () => undefined): Promise<number> {
    let seen = 0;
    await waitFor(async () => {
      alive();
      return (seen = await this.count(topic)) >= expected;
    }, timeoutMs, `${expected} records in ${topic}`, 10);
    if (seen > expected) throw new Error(`${topic} holds ${seen} records, expected ${expected}: duplicates`);
    return performance.now();
  }

  async drop(topics: string[]): Promise<void> {
    await this.admin.deleteTopics({ topics }).catch(() => undefined);
  }

  close(): Promise<void> {
    return this.admin.close();
  }
}

/**
 * Calls `onRecord(key, receivedAt)` for every record of `topic` from the start, as soon as a fetch returns it:
 * with minBytes 1 the broker answers a waiting fetch as soon as a record is committed, so the receive time is
 * when the record became readable, plus one loopback hop.
 */
export async function tailTopic(
  topic: string,
  onRecord: (key: Buffer | null, receivedAt: number, value: Buffer | null) => void,
): Promise<() => Promise<void>> {
  const consumer = new Consumer({
    clientId: 'tributary-bench-tail',
    groupId: `tributary-bench-tail-${Date.now()}`,
    bootstrapBrokers: [BROKER],
    autocommit: false,
    minBytes: 1,
    maxWaitTime: 500,
  });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
  stream.on('data', (message: { key?: Buffer; value?: Buffer }) => onRecord(message.key ?? null, performance.now(), message.value ?? null));
  return async () => {
    await stream.close();
    await consumer.close(true);
  };
}

/** Key plus value bytes of the first record of `topic`: what a limit run's records should weigh. */
export async function firstRecordBytes(topic: string): Promise<number> {
  let bytes = 0;
  const stop = await tailTopic(topic, (key, _at, value) => (bytes ||= (key?.length ?? 0) + (value?.length ?? 0)));
  try {
    await waitFor(() => bytes > 0, 30_000, `a record of ${topic}`);
  } finally {
    await stop();
  }
  return bytes;
}

/** The long (zigzag varint) in a Confluent-framed Avro key whose record has one long field, e.g. `{id}`. */
export function keyLong(key: Buffer): bigint {
  let result = 0n;
  let shift = 0n;
  for (let i = 5; i < key.length; i++) {
    const byte = key[i]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) break;
    shift += 7n;
  }
  return (result >> 1n) ^ -(result & 1n);
}
