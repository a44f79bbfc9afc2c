/**
 * Kafka helpers for integration tests: settings for the local broker, unique topic names, and reading a topic
 * from the beginning until a condition holds.
 */
import { randomBytes } from 'node:crypto';
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';
import type { KafkaSettings } from '../../src/kafka/settings.js';

export const LOCAL_BROKER = process.env.KAFKA_BROKER ?? '127.0.0.1:9092';

export function localKafkaSettings(overrides: Partial<KafkaSettings['producer']> = {}): KafkaSettings {
  return {
    brokers: [LOCAL_BROKER],
    clientId: 'tributary-test',
    producer: { compression: 'lz4', lingerMs: 0, batchBytes: 1_048_576, ...overrides },
  };
}

/** A topic name no other test or run uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export interface ReadRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly offset: bigint;
  readonly partition: number;
  readonly headers: Record<string, string>;
}

export interface ReadTopicOptions {
  /** Called with everything read so far after each record; reading stops when it returns true. */
  readonly until: (records: readonly ReadRecord[]) => boolean;
  readonly timeoutMs?: number;
  readonly brokers?: readonly string[];
}

/**
 * Every record of `topic` from the earliest offset, in arrival order (offset order within a partition), once
 * `until` holds. Rejects with what was read so far if it does not hold within `timeoutMs`.
 */
export async function readTopic(topic: string, options: ReadTopicOptions): Promise<ReadRecord[]> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const records: ReadRecord[] = [];
  const consumer = new Consumer({
    clientId: 'tributary-test-reader',
    groupId: uniqueTopic('tributary-test-reader'),
    bootstrapBrokers: [...(options.brokers ?? [LOCAL_BROKER])],
    autocommit: false,
    maxWaitTime: 100,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`readTopic(${topic}): condition not met within ${timeoutMs} ms; read ${records.length} records`));
      }, timeoutMs);
    });
    const read = (async () => {
      if (options.until(records)) return;
      for await (const message of stream) {
        records.push({
          key: message.key ?? null,
          value: message.value ?? null,
          offset: message.offset,
          partition: message.partition,
          headers: Object.fromEntries([...message.headers].map(([name, value]) => [name.toString(), value.toString()])),
        });
        if (options.until(records)) return;
      }
    })();
    try {
      await Promise.race([read, timedOut]);
    } finally {
      await stream.close();
      await read.catch(() => undefined);
    }
    return records;
  } finally {
    clearTimeout(timer);
    await consumer.close(true);
  }
}
