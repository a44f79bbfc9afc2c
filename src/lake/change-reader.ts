/**
 * Reads a change topic from given offsets up to the end offsets seen when the read started. The lake metadata
 * says where to resume, so the read names its offsets in plain fetch requests and joins no consumer group; the
 * group's committed offsets are only a convenience for lag monitoring, committed after a snapshot is published.
 * Fetch responses are walked directly: the client's message stream costs an object, a closure and a stream push
 * per record, which made it most of a compaction's CPU.
 */
import { Consumer, type RecordsBatch } from '@platformatic/kafka';
import { commitGroupOffsets } from '../kafka/admin.js';
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
  /** Records in offset order within each partition, as fetched: one array per fetch, no object per record beyond it. */
  readonly batches: AsyncIterable<readonly RawRecord[]>;
  /** Partition → next offset after what was read; complete once `records` is exhausted. */
  readonly next: Map<number, bigint>;
  /** Commits `next` for the group (best effort: the lake metadata is what counts). */
  commit(): Promise<void>;
  close(): Promise<void>;
}

export async function readTopic(options: TopicReadOptions): Promise<TopicRead> {
  const consumer = new Consumer({
    ...clientOptions(options.kafka, 'lake-compactor'),
    // Fetches name their offsets: the consumer never joins this group (commit() goes through the admin API).
    groupId: options.groupId,
    autocommit: false,
    maxWaitTime: 200,
  });
  const next = new Map<number, bigint>();
  /** Partition → end offset when the read started, for partitions with something left to read. */
  const pending = new Map<number, bigint>();
  let topicId = '';
  /** Partition → the broker that leads it. */
  const leaders = new Map<number, number>();
  try {
    const [earliest, latest, metadata] = await Promise.all([
      consumer.listOffsets({ topics: [options.topic], timestamp: -2n }),
      consumer.listOffsets({ topics: [options.topic] }),
      consumer.metadata({ topics: [options.topic] }),
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
    const topic = metadata.topics.get(options.topic);
    topicId = topic?.id ?? '';
    topic?.partitions.forEach((info, partition) => leaders.set(partition, info.leader));
  } catch (error) {
    await closeQuietly(() => consumer.close(true));
    throw toTributaryError(error, { action: `reading change topic ${options.topic}`, brokers: options.kafka.brokers });
  }

  /** One fetch from `leader` for its pending partitions: the records up to each partition's end, in offset order. */
  async function fetchFrom(leader: number, partitions: readonly number[], budget: number): Promise<RawRecord[]> {
    const response = await consumer.fetch({
      node: leader,
      topics: [
        {
          topicId,
          partitions: partitions.map((partition) => ({
            partition,
            fetchOffset: next.get(partition) ?? 0n,
            partitionMaxBytes: FETCH_BYTES,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          })),
        },
      ],
      maxBytes: FETCH_BYTES,
    });
    const records: RawRecord[] = [];
    for (const topicResponse of response.responses) {
      for (const answer of topicResponse.partitions) {
        const partition = answer.partitionIndex;
        const end = pending.get(partition);
        if (end === undefined) continue;
        const fetched = next.get(partition) ?? 0n;
        // Retention may have removed records since the read started.
        const from = answer.logStartOffset > fetched ? answer.logStartOffset : fetched;
        const expected = takeRecords(partition, answer.records ?? [], from, end, budget, records);
        next.set(partition, expected);
        if (expected >= end) pending.delete(partition);
      }
    }
    return records;
  }

  async function* batches(): AsyncGenerator<RawRecord[]> {
    let count = 0;
    while (pending.size > 0 && count < options.maxRecords) {
      const byLeader = new Map<number, number[]>();
      for (const partition of pending.keys()) {
        const leader = leaders.get(partition) ?? -1;
        const partitions = byLeader.get(leader);
        if (partitions === undefined) byLeader.set(leader, [partition]);
        else partitions.push(partition);
      }
      for (const [leader, partitions] of byLeader) {
        let records: RawRecord[];
        try {
          records = await fetchFrom(leader, partitions, options.maxRecords - count);
        } catch (error) {
          throw toTributaryError(error, { action: `reading change topic ${options.topic}`, brokers: options.kafka.brokers });
        }
        count += records.length;
        if (records.length > 0) yield records;
        if (count >= options.maxRecords) return;
      }
    }
  }

  return {
    batches: batches(),
    next,
    commit: () => commitGroupOffsets(options.kafka, options.groupId, options.topic, next),
    async close() {
      await closeQuietly(() => consumer.close(true));
    },
  };
}

/**
 * Appends the records of `batches` at offsets [from, end) to `out` until it holds `budget` records, and returns
 * the offset to fetch next. Past a control batch, or past records log compaction removed, that is the batch's end.
 */
export function takeRecords(partition: number, batches: readonly RecordsBatch[], from: bigint, end: bigint, budget: number, out: RawRecord[]): bigint {
  let expected = from;
  for (const batch of batches) {
    if (out.length >= budget) break;
    if ((batch.attributes & IS_CONTROL) === 0) {
      for (const record of batch.records) {
        const offset = batch.firstOffset + BigInt(record.offsetDelta);
        if (offset < expected || offset >= end) continue;
        out.push({ partition, offset, key: record.key, value: record.value });
        expected = offset + 1n;
        if (out.length >= budget) break;
      }
    }
    const batchEnd = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
    if (out.length < budget && batchEnd > expected) expected = batchEnd < end ? batchEnd : end;
  }
  return expected;
}

/** A record batch's attribute bit for transaction markers, which carry no change. */
const IS_CONTROL = 1 << 5;
/**
 * Bytes per fetch. Larger fetches make the client hold far more heap (measured with the stream API: 4 MB fetches
 * needed more than 64 MB of heap where 1 MB ran in under 48 MB).
 */
const FETCH_BYTES = 1024 * 1024;

async function closeQuietly(close: () => unknown): Promise<void> {
  try {
    await close();
  } catch {
    // Closing after a failure: the first error is the one worth reporting.
  }
}
