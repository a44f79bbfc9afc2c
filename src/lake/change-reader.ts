/**
 * Reads a change topic from given offsets up to the end offsets seen when the read started, as a member of a
 * consumer group. The lake metadata says where to resume; the group's committed offsets are only a convenience
 * for lag monitoring, committed after a snapshot is published.
 */
import { Consumer, MessagesStreamModes, type MessagesStream } from '@platformatic/kafka';
import { clientOptions, type KafkaSettings } from '../kafka/settings.js';
import { toTributaryError } from '../kafka/errors.js';

export interface RawRecord {
  readonly partition: number;
  readonly offset: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

export interface TopicReadOptions {
  readonly kafka: KafkaSettings;
  readonly groupId: string;
  readonly topic: string;
  /** Partition → next offset to read; partitions not named start at the earliest offset. */
  readonly from: ReadonlyMap<number, bigint>;
  /** Stop after this many records (the batch ends at a partition-consistent point anyway: offsets are per partition). */
  readonly maxRecords: number;
}

export interface TopicRead {
  /** Records in offset order within each partition. */
  readonly records: AsyncIterable<RawRecord>;
  /** Partition → next offset after what was read; complete once `records` is exhausted. */
  readonly next: Map<number, bigint>;
  /** Commits `next` for the group (best effort: the lake metadata is what counts). */
  commit(): Promise<void>;
  close(): Promise<void>;
}

export async function readTopic(options: TopicReadOptions): Promise<TopicRead> {
  const consumer = new Consumer({
    ...clientOptions(options.kafka, 'lake-compactor'),
    groupId: options.groupId,
    // A compactor killed mid-read stays a member of the group until its session expires, and the next compaction's
    // join waits for that: keep the session short (the broker's minimum is 6 s) so a rerun after a crash starts soon.
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 3_000,
    autocommit: false,
    maxWaitTime: 200,
    // Larger fetches or a deeper buffer than this make the client hold far more heap (measured: 4 MB fetches
    // with 4096 buffered records need more than 64 MB of heap where 1 MB and 1024 run in under 48 MB).
    maxBytes: 1024 * 1024,
    maxBytesPerPartition: 1024 * 1024,
    highWaterMark: 1024,
  });
  const next = new Map<number, bigint>();
  /** Partition → end offset when the read started, for partitions with something to read. */
  const pending = new Map<number, bigint>();
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  try {
    const [earliest, latest] = await Promise.all([
      consumer.listOffsets({ topics: [options.topic], timestamp: -2n }),
      consumer.listOffsets({ topics: [options.topic] }),
    ]);
    const ends = latest.get(options.topic) ?? [];
    const starts = earliest.get(options.topic) ?? [];
    ends.forEach((end, partition) => {
      const from = options.from.get(partition) ?? starts[partition] ?? 0n;
      // Records before the earliest offset were deleted by retention; we can only start where the log starts.
      const start = from < (starts[partition] ?? 0n) ? (starts[partition] ?? 0n) : from;
      next.set(partition, start);
      if (start < end) pending.set(partition, end);
    });
    if (pending.size > 0) {
      stream = await consumer.consume({
        topics: [options.topic],
        mode: MessagesStreamModes.MANUAL,
        offsets: [...pending.keys()].map((partition) => ({ topic: options.topic, partition, offset: next.get(partition) ?? 0n })),
      });
    }
  } catch (error) {
    await closeQuietly(() => consumer.close(true));
    throw toTributaryError(error, { action: `reading change topic ${options.topic}`, brokers: options.kafka.brokers });
  }

  async function* records(): AsyncGenerator<RawRecord> {
    if (stream === undefined) return;
    let remaining = pending.size;
    let count = 0;
    for await (const message of stream) {
      const end = pending.get(message.partition) ?? 0n;
      const expected = next.get(message.partition) ?? 0n;
      if (message.offset < expected || expected >= end) continue;
      next.set(message.partition, message.offset + 1n);
      yield { partition: message.partition, offset: message.offset, key: message.key ?? null, value: message.value ?? null };
      count++;
      if (message.offset + 1n >= end) remaining--;
      if (remaining === 0 || count >= options.maxRecords) return;
    }
  }

  return {
    records: records(),
    next,
    async commit() {
      const offsets = [...next].map(([partition, offset]) => ({ topic: options.topic, partition, offset, leaderEpoch: 0 }));
      await consumer.commit({ offsets });
    },
    async close() {
      if (stream !== undefined) await closeQuietly(() => (stream as MessagesStream<Buffer, Buffer, Buffer, Buffer>).close());
      await closeQuietly(() => consumer.close(true));
    },
  };
}

async function closeQuietly(close: () => unknown): Promise<void> {
  try {
    await close();
  } catch {
    // Closing after a failure: the first error is the one worth reporting.
  }
}
