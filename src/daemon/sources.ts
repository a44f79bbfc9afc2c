/** Builds the configured sources: config sections in, `Source` objects out. */
import type { Config, PostgresSourceConfig, MysqlSourceConfig } from '../config/index.js';
import { tlsOptions } from '../config/index.js';
import type { Logger } from '../ops/logger.js';
import type { ActivityListener, SnapshotProgressStore, Source } from '../sources/source.js';
import { PostgresSource } from '../sources/postgres/source.js';
import { MysqlSource } from '../sources/mysql/source.js';

export interface SourceDeps {
  readonly progress: SnapshotProgressStore;
  readonly logger: Logger;
  /** The last checkpointed position of this source, if any. */
  readonly startPosition: string | undefined;
  readonly report: ActivityListener;
}

export function createSource(config: Config['sources'][number], index: number, deps: SourceDeps): Source {
  const logger = deps.logger.child({ source: config.name });
  return config.kind === 'postgres' ? postgresSource(config, index, deps, logger) : mysqlSource(config, deps, logger);
}

function postgresSource(config: PostgresSourceConfig, index: number, deps: SourceDeps, logger: Logger): Source {
  const tls = tlsOptions(config.connection.tls, `sources[${index}].connection.tls`);
  return new PostgresSource({
    name: config.topicPrefix,
    connection: { ...config.connection, tls: tls === undefined ? undefined : { ...tls } },
    slot: config.slot,
    publication: config.publication,
    tables: config.tables,
    snapshot: config.snapshot,
    snapshotChunkRows: config.snapshotChunkRows,
    truncate: config.truncate,
    transactions: config.transactions,
    heartbeatIntervalMs: config.heartbeat.intervalMs,
    heartbeatQuery: config.heartbeat.query,
    startPosition: deps.startPosition,
    progress: deps.progress,
    logger,
    clock: { now: Date.now },
    report: deps.report,
  });
}

function mysqlSource(config: MysqlSourceConfig, deps: SourceDeps, logger: Logger): Source {
  return new MysqlSource({
    name: config.name,
    topicPrefix: config.topicPrefix,
    connection: config.connection,
    serverId: config.serverId,
    gtid: config.gtid,
    tables: config.tables,
    snapshot: config.snapshot,
    snapshotChunkRows: config.snapshotChunkRows,
    transactions: config.transactions,
    startPosition: deps.startPosition,
    progress: deps.progress,
    logger,
    report: deps.report,
  });
}
