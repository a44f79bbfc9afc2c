/**
 * The pipeline's sink on the Kafka producer: creates each change topic before its first record (brokers in
 * production usually have auto-creation off) and then hands records to the producer.
 */
import type { Config } from '../config/index.js';
import { ensureTopics } from '../kafka/admin.js';
import type { KafkaProducer } from '../kafka/producer.js';
import type { KafkaSettings } from '../kafka/settings.js';
import type { OutgoingRecord, RecordSink } from '../pipeline/pipeline.js';

export class TopicCreatingSink implements RecordSink {
  private readonly known = new Set<string>();
  /** Topic creation is async; chaining it keeps producer.send calls in the order send() was called. */
  private ordered: Promise<void> = Promise.resolve();

  constructor(
    private readonly producer: KafkaProducer,
    private readonly settings: KafkaSettings,
    private readonly topics: Config['kafka']['topics'],
  ) {}

  send(records: OutgoingRecord[]): Promise<void> {
    if (!this.topics.autoCreate) return this.producer.send(records);
    const ready = (this.ordered = this.ordered.then(() => this.createMissing(records)));
    return ready.then(() => this.producer.send(records));
  }

  private async createMissing(records: readonly OutgoingRecord[]): Promise<void> {
    const missing = new Set<string>();
    for (const record of records) if (!this.known.has(record.topic)) missing.add(record.topic);
    if (missing.size === 0) return;
    const { partitions, replicationFactor } = this.topics;
    await ensureTopics(this.settings, [...missing].map((name) => ({ name, partitions, replicationFactor })));
    for (const topic of missing) this.known.add(topic);
  }
}
