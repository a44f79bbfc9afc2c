/** Builds the configured sources: config sections in, `Source` objects out. */
import type { Config, PostgresSourceConfig, MysqlSourceConfig } from '../config/index.js';
import { tlsOptions } from '../config/index.js';
import type { Logger } from '../ops/logger.js';
import type { ActivityListener, SnapshotProgressStore, Source } from '../sources/source.js';

export interface SourceDeps {
  readonly progress: SnapshotProgressStore;
  readonly logger: Logger;
  /** The last checkpointed position of this source, if any. */
  readonly startPosition: string | undefined;
  readonly report: ActivityListener;
}

/**
 * Each kind's modules are imported on first use: a daemon with only PostgreSQL sources never loads mysql2 and
 * zongji, and the other way round (each is 10–15 MiB of resident memory).
 */
export async function createSource(config: Config['sources'][number], index: number, deps: SourceDeps): Promise<Source> {
  const logger = deps.logger.child({ source: config.name });
  return config.kind === 'postgres' ? postgresSource(config, index, deps, logger) : mysqlSource(config, deps, logger);
}

async function postgresSource(config: PostgresSourceConfig, index: number, deps: SourceDeps, logger: Logger): Promise<Source> {
  const { PostgresSource } = await import('../sources/postgres/source.js');
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

async function mysqlSource(config: MysqlSourceConfig, deps: SourceDeps, logger: Logger): Promise<Source> {
  const { MysqlSource } = await import('../sources/mysql/source.js');
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
