/**
 * The Kafka part of the configuration as this module needs it, and its translation into @platformatic/kafka
 * client options. The config loader produces an object of this same shape; the type is kept structural so
 * neither module imports the other.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { BaseOptions, SASLOptions } from '@platformatic/kafka';
import { ConfigError } from '../model/errors.js';

/** The config file's `kafka` section as far as it differs from KafkaSettings: TLS carries an `enabled` switch. */
export interface KafkaConfigSection extends Omit<KafkaSettings, 'tls'> {
  readonly tls: { readonly enabled: boolean; readonly ca?: string; readonly cert?: string; readonly key?: string; readonly rejectUnauthorized: boolean };
}

/** Settings for the clients from the config section: TLS only when enabled. */
export function kafkaSettings(kafka: KafkaConfigSection): KafkaSettings {
  const { tls, ...rest } = kafka;
  return {
    ...rest,
    tls: tls.enabled ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized } : undefined,
  };
}

export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface KafkaSettings {
  /** `host:port` bootstrap addresses. */
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly tls?: {
    /** Paths to PEM files. */
    readonly ca?: string;
    readonly cert?: string;
    readonly key?: string;
    readonly rejectUnauthorized: boolean;
  };
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    readonly username: string;
    readonly password: string;
  };
  readonly producer: {
    readonly compression: KafkaCompression;
    /** How long an idle producer waits for more records before sending a request. */
    readonly lingerMs: number;
    /** Upper bound of one produce request's payload; keep it below the broker's `message.max.bytes`. */
    readonly batchBytes: number;
  };
}

const SASL_MECHANISMS = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const satisfies Record<NonNullable<KafkaSettings['sasl']>['mechanism'], SASLOptions['mechanism']>;

/** Connection options shared by the producer, the admin client and the test consumer. */
export function clientOptions(settings: KafkaSettings, role: string): BaseOptions {
  return {
    clientId: `${settings.clientId}-${role}`,
    bootstrapBrokers: [...settings.brokers],
    connectTimeout: 10_000,
    ...(settings.tls === undefined ? {} : { tls: tlsOptions(settings.tls) }),
    ...(settings.sasl === undefined
      ? {}
      : {
          sasl: {
            mechanism: SASL_MECHANISMS[settings.sasl.mechanism],
            username: settings.sasl.username,
            password: settings.sasl.password,
          },
        }),
  };
}

function tlsOptions(tls: NonNullable<KafkaSettings['tls']>): TlsOptions {
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.ca === undefined ? {} : { ca: readPem(tls.ca, 'kafka.tls.ca') }),
    ...(tls.cert === undefined ? {} : { cert: readPem(tls.cert, 'kafka.tls.cert') }),
    ...(tls.key === undefined ? {} : { key: readPem(tls.key, 'kafka.tls.key') }),
  };
}

function readPem(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`${setting}: cannot read ${path}`, {
      cause: error,
      fix: `point ${setting} at a readable PEM file`,
    });
  }
}
