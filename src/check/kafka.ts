/**
 * Kafka check: one metadata request to the configured brokers (reachability, TLS, SASL), then rules on what
 * the metadata says about the topic settings.
 */
import zlib from 'node:zlib';
import { Admin, type SASLOptions } from '@platformatic/kafka';
import { tlsOptions, type KafkaConfig } from '../config/index.js';
import { errorText } from './connect-errors.js';
import type { CheckProblem } from './report.js';

export const KAFKA_SERVICE = 'kafka';

export interface KafkaFacts {
  /** Brokers in the cluster as the metadata reports them. */
  readonly brokers: number;
}

/** Problems visible without a connection. */
// Node 20's typings predate zstd; the function exists from Node 22.15.
const nodeHasZstd = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

export function judgeKafkaConfig(kafka: KafkaConfig, zstdAvailable = nodeHasZstd): CheckProblem[] {
  if (kafka.producer.compression !== 'zstd' || zstdAvailable) return [];
  return [
    {
      service: KAFKA_SERVICE,
      severity: 'error',
      problem: `kafka.producer.compression is zstd, which this Node.js (${process.version}) cannot compress`,
      fix: 'set kafka.producer.compression to lz4, or run Tributary on Node.js 22.15 or newer',
    },
  ];
}

export function judgeKafka(kafka: KafkaConfig, facts: KafkaFacts): CheckProblem[] {
  if (kafka.topics.replicationFactor <= facts.brokers) return [];
  return [
    {
      service: KAFKA_SERVICE,
      severity: 'error',
      problem: `kafka.topics.replicationFactor is ${kafka.topics.replicationFactor} but the cluster has ${facts.brokers} broker${facts.brokers === 1 ? '' : 's'}, so topics cannot be created`,
      fix: `set kafka.topics.replicationFactor to at most ${facts.brokers}`,
    },
  ];
}

export function describeKafkaError(kafka: KafkaConfig, error: unknown): CheckProblem {
  const text = errorText(error);
  const brokers = kafka.brokers.join(', ');
  if (/sasl|authenticat/i.test(text)) {
    return {
      service: KAFKA_SERVICE,
      severity: 'error',
      problem: `the brokers (${brokers}) rejected the SASL login (${text})`,
      fix: 'check kafka.sasl.mechanism, kafka.sasl.username and kafka.sasl.password',
    };
  }
  return {
    service: KAFKA_SERVICE,
    severity: 'error',
    problem: `no broker answered a metadata request at kafka.brokers (${brokers}): ${text}`,
    fix: 'check kafka.brokers (host:port of a listener), kafka.tls and kafka.sasl, and that the broker is running',
  };
}

export async function probeKafka(kafka: KafkaConfig, timeoutMs: number): Promise<KafkaFacts> {
  const tls = tlsOptions(kafka.tls, 'kafka.tls');
  const sasl: SASLOptions | undefined =
    kafka.sasl === undefined
      ? undefined
      : { mechanism: kafka.sasl.mechanism.toUpperCase() as SASLOptions['mechanism'], username: kafka.sasl.username, password: kafka.sasl.password };
  const admin = new Admin({
    clientId: `${kafka.clientId}-check`,
    bootstrapBrokers: [...kafka.brokers],
    connectTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    timeout: timeoutMs,
    retries: 0,
    ...(tls === undefined ? {} : { tls }),
    ...(sasl === undefined ? {} : { sasl }),
  });
  try {
    const metadata = await admin.metadata({ topics: [], autocreateTopics: false });
    return { brokers: metadata.brokers.size };
  } finally {
    await admin.close().catch(() => undefined);
  }
}
