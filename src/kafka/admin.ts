/**
 * Start-up checks and topic management through the Kafka admin API: is the cluster reachable, and do the change
 * topics exist.
 *
 * Topic configuration: Tributary passes no `cleanup.policy` unless the user configures one, so change topics get
 * the broker's default, `delete` — what Debezium's topic auto-creation uses too (topic.creation.default.
 * cleanup.policy). `compact` (set through the topic config) keeps the latest event per key and lets consumers
 * rebuild a table from the topic; it relies on a tombstone after each delete event to drop deleted keys.
 */
import { Admin } from '@platformatic/kafka';
import { ConfigError, ConnectionError, TributaryError } from '../model/errors.js';
import { describeKafkaError, isUnknownTopic, protocolErrorIds, toTributaryError } from './errors.js';
import { clientOptions, type KafkaSettings } from './settings.js';

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** -1 takes the broker's default.replication.factor. */
  readonly replicationFactor: number;
  /** Topic-level configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  readonly config?: Readonly<Record<string, string>>;
}

export interface EnsureTopicsResult {
  readonly created: string[];
  /** Already there: left untouched, whatever their partitions and configs. */
  readonly existing: string[];
}

export interface ClusterInfo {
  readonly clusterId: string;
  readonly controllerId: number;
  readonly brokers: { readonly nodeId: number; readonly host: string; readonly port: number; readonly rack: string | null }[];
}

/** Kafka's rule for topic names. */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Creates the topics that do not exist yet; existing topics are fine. */
export async function ensureTopics(settings: KafkaSettings, topics: readonly TopicSpec[]): Promise<EnsureTopicsResult> {
  topics.forEach(validateTopic);
  const result: EnsureTopicsResult = { created: [], existing: [] };
  if (topics.length === 0) return result;
  const admin = new Admin(clientOptions(settings, 'admin'));
  try {
    for (const topic of topics) {
      try {
        await admin.createTopics({
          topics: [topic.name],
          partitions: topic.partitions,
          replicas: topic.replicationFactor,
          configs: Object.entries(topic.config ?? {}).map(([name, value]) => ({ name, value })),
        });
        result.created.push(topic.name);
      } catch (error) {
        if (!protocolErrorIds(error).has('TOPIC_ALREADY_EXISTS')) {
          throw topicError(error, topic, settings);
        }
        result.existing.push(topic.name);
      }
    }
    return result;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/**
 * Whether `topic` exists, asked without creating it (the metadata request's topic auto-creation stays off). Ask
 * before listing a topic's offsets: the client's Admin.listOffsets throws a TypeError for a topic missing from the
 * metadata.
 */
export async function topicExists(settings: KafkaSettings, topic: string): Promise<boolean> {
  const admin = new Admin(clientOptions(settings, 'admin'));
  try {
    await admin.metadata({ topics: [topic], autocreateTopics: false });
    return true;
  } catch (error) {
    if (isUnknownTopic(error)) return false;
    throw toTributaryError(error, { action: `looking up topic ${topic}`, brokers: settings.brokers });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/**
 * Sets a consumer group's committed offsets for `topic` as an administrator does (generation -1), for a reader
 * that names its own offsets and never joins the group: lag monitoring still sees how far it got.
 */
export async function commitGroupOffsets(settings: KafkaSettings, groupId: string, topic: string, offsets: ReadonlyMap<number, bigint>): Promise<void> {
  if (offsets.size === 0) return;
  const admin = new Admin(clientOptions(settings, 'admin'));
  try {
    await admin.alterConsumerGroupOffsets({ groupId, topics: [{ name: topic, partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset })) }] });
  } catch (error) {
    throw toTributaryError(error, { action: `committing offsets of group ${groupId} on ${topic}`, brokers: settings.brokers });
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Asks the cluster for its metadata within `timeoutMs`; the start-up check that the brokers are reachable. */
export async function probeBrokers(settings: KafkaSettings, timeoutMs: number): Promise<ClusterInfo> {
  const admin = new Admin({ ...clientOptions(settings, 'probe'), connectTimeout: timeoutMs, retries: 0, timeout: timeoutMs });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectionError(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const metadata = await Promise.race([admin.metadata({ topics: [] }), timeout]);
    return {
      clusterId: metadata.id,
      controllerId: metadata.controllerId,
      brokers: [...metadata.brokers].map(([nodeId, broker]) => ({ nodeId, host: broker.host, port: broker.port, rack: broker.rack ?? null })),
    };
  } catch (error) {
    const mapped = toTributaryError(error, { action: 'probing the Kafka cluster', brokers: settings.brokers });
    if (!mapped.retriable) throw mapped;
    throw new ConnectionError(`Cannot reach Kafka at ${settings.brokers.join(', ')}: ${describeKafkaError(error)}`, {
      cause: error,
      fix:
        'check kafka.brokers (host:port of at least one broker; the advertised listeners must be reachable from here too), ' +
        'kafka.tls when the listener is SSL, and that the broker is running (scripts/stack up starts the local one)',
    });
  } finally {
    clearTimeout(timer);
    await admin.close().catch(() => undefined);
  }
}

function validateTopic(topic: TopicSpec): void {
  if (!TOPIC_NAME.test(topic.name)) {
    throw new ConfigError(`Kafka topic name "${topic.name}" is not valid`, {
      fix: 'use 1-249 characters from a-z, A-Z, 0-9, ".", "_" and "-" (check the topic prefix and table names)',
    });
  }
  if (!Number.isInteger(topic.partitions) || topic.partitions < 1) {
    throw new ConfigError(`Kafka topic ${topic.name}: partitions must be a whole number >= 1, got ${topic.partitions}`, {
      fix: 'set the topic partitions setting to 1 or more',
    });
  }
  if (!Number.isInteger(topic.replicationFactor) || (topic.replicationFactor < 1 && topic.replicationFactor !== -1)) {
    throw new ConfigError(`Kafka topic ${topic.name}: replication factor must be >= 1 or -1, got ${topic.replicationFactor}`, {
      fix: "set the replication factor to 1 or more, or -1 for the broker's default.replication.factor",
    });
  }
}

function topicError(error: unknown, topic: TopicSpec, settings: KafkaSettings): TributaryError {
  const ids = protocolErrorIds(error);
  if (ids.has('INVALID_REPLICATION_FACTOR') || ids.has('INVALID_PARTITIONS') || ids.has('INVALID_CONFIG')) {
    return new ConfigError(`Kafka refused to create topic ${topic.name}: ${[...ids].join(', ')}`, {
      cause: error,
      fix: `check the partitions (${topic.partitions}), replication factor (${topic.replicationFactor}, at most the number of brokers) and topic configs ${JSON.stringify(topic.config ?? {})}`,
    });
  }
  return toTributaryError(error, { action: `creating topic ${topic.name}`, brokers: settings.brokers });
}
