/**
 * One idempotent producer session: a producer id from the broker, the next sequence number of every partition
 * written to, and the connections to the partition leaders. produce() partitions records by key as Java does,
 * encodes one RecordBatch per partition (record-batch.ts) and sends one Produce request (acks=all) per leader.
 *
 * @platformatic/kafka provides the connections, the metadata (cached, refreshed on request), the producer id
 * (Producer.initIdempotentProducer) and the response parser; its Producer.send is not used, as it builds several
 * objects and small Buffers per record (see record-batch.ts).
 *
 * Failures that may pass (leader moved, broker restarting, request timed out) are retried with backoff by resending
 * the very same batches with the same sequence numbers: the broker writes each batch once, whether or not it had
 * written it before (it answers a duplicate with success or DUPLICATE_SEQUENCE_NUMBER). Partitions acknowledged
 * in an attempt are not resent. Any other failure ends produce(); the caller must then drop the session, since
 * the broker may or may not have written the failed batches.
 */
import { MultipleErrors, Producer, ProtocolError, ResponseError, produceV9, type ClusterMetadata, type ClusterTopicMetadata, type Connection, type Writer } from '@platformatic/kafka';
import { TributaryError, invariant } from '../model/errors.js';
import type { Logger } from '../ops/logger.js';
import { retry } from '../ops/retry.js';
import { isRetriableProduceFailure } from './errors.js';
import { javaKeyPartition } from './murmur2.js';
import { createProduceRequest, PRODUCE_VERSION, type TopicBatches } from './produce-request.js';
import { encodeRecordBatch, type BatchRecord } from './record-batch.js';
import { clientOptions, type KafkaSettings } from './settings.js';

export interface ProducerRecord extends BatchRecord {
  readonly topic: string;
}

interface PendingBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: number;
  readonly baseSequence: number;
  readonly batch: Buffer;
  acknowledged: boolean;
}

type ProduceResponse = produceV9.ProduceResponse;

const PRODUCE_API_KEY = 0;
const ACKS_ALL = -1;
/** How long the leader waits for the in-sync replicas before answering REQUEST_TIMED_OUT. */
const PRODUCE_TIMEOUT_MS = 30_000;
const RETRY = { retries: 5, initialDelayMs: 500, maxDelayMs: 4_000 } as const;
/** The broker already has the batch (brokers before 1.1 say so instead of answering success): written. */
const DUPLICATE_SEQUENCE_NUMBER = 46;
const MAX_SEQUENCE = 0x7fffffff;

/** The client's parser, returning the response also when partitions failed: produce() handles each partition. */
const parseProduceResponse: typeof produceV9.parseResponse = (...args) => {
  try {
    return produceV9.parseResponse(...args);
  } catch (error) {
    if (error instanceof ResponseError) return error.response as ProduceResponse;
    throw error;
  }
};

export class ProduceSession {
  readonly #settings: KafkaSettings;
  readonly #logger: Logger;
  /** Used for its connections, metadata and InitProducerId; never for send(). */
  readonly #client: Producer;
  #producer: { readonly id: bigint; readonly epoch: number } | undefined;
  #produceVersionChecked = false;
  /** Per topic, the next sequence number of each partition. */
  readonly #sequences = new Map<string, number[]>();

  constructor(settings: KafkaSettings, logger: Logger) {
    this.#settings = settings;
    this.#logger = logger;
    // Retries are ours (produce()), around metadata, connections and produce alike.
    this.#client = new Producer({ ...clientOptions(settings, 'producer'), retries: 0, timeout: PRODUCE_TIMEOUT_MS, autocreateTopics: false });
  }

  /** Resolves once the broker has acknowledged every record; records of `groups` keep their order per partition. */
  async produce(groups: readonly (readonly ProducerRecord[])[]): Promise<void> {
    const topics = topicsOf(groups);
    let batches: PendingBatch[] | undefined;
    await retry(
      async (attempt) => {
        const metadata = await this.#client.metadata({ topics, autocreateTopics: false, forceUpdate: attempt > 0 });
        this.#producer ??= await this.#initProducer();
        if (!this.#produceVersionChecked) await this.#checkProduceVersion();
        batches ??= this.#encode(groups, metadata, this.#producer);
        await this.#sendAll(batches.filter((batch) => !batch.acknowledged), metadata);
      },
      {
        ...RETRY,
        shouldRetry: isRetriableProduceFailure,
        onRetry: (error, attempt, delayMs) => this.#logger.debug({ err: error, attempt, delayMs }, 'Kafka produce failed; retrying'),
      },
    );
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  async #initProducer(): Promise<{ id: bigint; epoch: number }> {
    const { producerId, producerEpoch } = await this.#client.initIdempotentProducer({});
    return { id: producerId, epoch: producerEpoch };
  }

  async #checkProduceVersion(): Promise<void> {
    checkProduceVersion(await this.#client.listApis(), this.#settings.brokers);
    this.#produceVersionChecked = true;
  }

  /** Partitions the records and encodes one batch per partition, numbered from the partition's next sequence. */
  #encode(groups: readonly (readonly ProducerRecord[])[], metadata: ClusterMetadata, producer: { id: bigint; epoch: number }): PendingBatch[] {
    const byTopic = new Map<string, ProducerRecord[][]>();
    let topic: string | undefined;
    let partitions: ProducerRecord[][] = [];
    let partitionCount = 0;
    for (const group of groups) {
      for (const record of group) {
        if (record.topic !== topic) {
          topic = record.topic;
          partitionCount = topicMetadata(metadata, topic).partitionsCount;
          partitions = byTopic.get(topic) ?? [];
          byTopic.set(topic, partitions);
        }
        (partitions[javaKeyPartition(record.key, partitionCount)] ??= []).push(record);
      }
    }
    const timestamp = Date.now();
    const batches: PendingBatch[] = [];
    for (const [name, records] of byTopic) {
      const sequences = this.#sequences.get(name) ?? [];
      this.#sequences.set(name, sequences);
      records.forEach((partitionRecords, partition) => {
        const baseSequence = sequences[partition] ?? 0;
        invariant(baseSequence + partitionRecords.length - 1 <= MAX_SEQUENCE, `sequence numbers of ${name}-${partition} would wrap: renew the session sooner`);
        const batch = encodeRecordBatch(partitionRecords, {
          timestamp,
          producerId: producer.id,
          producerEpoch: producer.epoch,
          baseSequence,
          compression: this.#settings.producer.compression,
        });
        batches.push({ topic: name, partition, records: partitionRecords.length, baseSequence, batch, acknowledged: false });
      });
    }
    return batches;
  }

  /** Sends each leader its batches, all leaders at once; throws why when any batch was not acknowledged. */
  async #sendAll(batches: readonly PendingBatch[], metadata: ClusterMetadata): Promise<void> {
    const byLeader = new Map<number, PendingBatch[]>();
    for (const batch of batches) {
      const leader = topicMetadata(metadata, batch.topic).partitions[batch.partition]?.leader ?? -1;
      const forLeader = byLeader.get(leader) ?? [];
      forLeader.push(batch);
      byLeader.set(leader, forLeader);
    }
    const results = await Promise.allSettled([...byLeader].map(([leader, forLeader]) => this.#sendToLeader(leader, forLeader, metadata)));
    const failures: unknown[] = [];
    for (const result of results) if (result.status === 'rejected') failures.push(result.reason);
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new MultipleErrors('Producing to several brokers failed.', failures as Error[]);
  }

  async #sendToLeader(leader: number, batches: PendingBatch[], metadata: ClusterMetadata): Promise<void> {
    const broker = metadata.brokers.get(leader);
    if (broker === undefined) {
      throw new ProtocolError('LEADER_NOT_AVAILABLE', `no leader for ${batches.map((batch) => `${batch.topic}-${batch.partition}`).join(', ')}`);
    }
    const connection = await this.#client.connections.get(broker);
    const response = await send(connection, createProduceRequest(ACKS_ALL, PRODUCE_TIMEOUT_MS, byTopic(batches)));
    const failures: Error[] = [];
    let answered = 0;
    for (const { name, partitionResponses } of response.responses) {
      for (const { index, errorCode, errorMessage } of partitionResponses) {
        const batch = batches.find((candidate) => candidate.partition === index && candidate.topic === name);
        invariant(batch !== undefined, `Kafka answered for ${name}-${index}, which the request did not carry`);
        answered++;
        if (errorCode === 0 || errorCode === DUPLICATE_SEQUENCE_NUMBER) this.#acknowledged(batch);
        else failures.push(new ProtocolError(errorCode, errorMessage));
      }
    }
    invariant(answered === batches.length, `Kafka answered for ${answered} of the ${batches.length} partitions of a produce request`);
    if (failures.length > 0) throw new MultipleErrors(`Produce request to ${broker.host}:${broker.port} failed.`, failures);
  }

  #acknowledged(batch: PendingBatch): void {
    batch.acknowledged = true;
    this.#sequences.get(batch.topic)![batch.partition] = batch.baseSequence + batch.records;
  }
}

/** Throws, naming the fix, unless the brokers' ApiVersions answer includes the Produce version we send. */
export function checkProduceVersion(apis: readonly { apiKey: number; minVersion: number; maxVersion: number }[], brokers: readonly string[]): void {
  const produce = apis.find((api) => api.apiKey === PRODUCE_API_KEY);
  if (produce === undefined || produce.minVersion > PRODUCE_VERSION || produce.maxVersion < PRODUCE_VERSION) {
    throw new TributaryError(
      `The Kafka brokers at ${brokers.join(', ')} speak Produce v${produce?.minVersion}-v${produce?.maxVersion}, Tributary v${PRODUCE_VERSION}`,
      { fix: 'use Kafka 2.4 or newer' },
    );
  }
}

function topicMetadata(metadata: ClusterMetadata, topic: string): ClusterTopicMetadata {
  const found = metadata.topics.get(topic);
  invariant(found !== undefined, `the Kafka metadata lacks topic ${topic}, which it was asked for`);
  return found;
}

function topicsOf(groups: readonly (readonly ProducerRecord[])[]): string[] {
  const topics = new Set<string>();
  let last: string | undefined;
  for (const group of groups) {
    for (const { topic } of group) {
      if (topic !== last) topics.add((last = topic));
    }
  }
  return [...topics];
}

function byTopic(batches: readonly PendingBatch[]): TopicBatches[] {
  const topics = new Map<string, TopicBatches>();
  for (const { topic, partition, batch } of batches) {
    const entry = topics.get(topic) ?? { topic, partitions: [] };
    entry.partitions.push({ partition, batch });
    topics.set(topic, entry);
  }
  return [...topics.values()];
}

function send(connection: Connection, request: Writer): Promise<ProduceResponse> {
  return new Promise((resolve, reject) => {
    connection.send(PRODUCE_API_KEY, PRODUCE_VERSION, () => request, parseProduceResponse, true, true, (error, response) => {
      if (error === null) return resolve(response!);
      // A timed-out request's late answer would derail the connection's response framing: start a new one.
      void connection.close().catch(() => undefined);
      reject(error);
    });
  });
}
