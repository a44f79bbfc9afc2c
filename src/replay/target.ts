/**
 * Which table of the config a replay is about, where its live topic is, and the reader for `--from database`.
 */
import type { Config, SourceConfig, TableConfig } from '../config/index.js';
import { tlsOptions } from '../config/index.js';
import { ConfigError } from '../model/errors.js';
import type { Logger } from '../ops/logger.js';
import { PostgresSnapshotReader } from './postgres-reader.js';
import { MysqlSnapshotReader } from './mysql-reader.js';
import type { SnapshotReader } from './snapshot-reader.js';

export interface ReplayTarget {
  readonly source: SourceConfig;
  readonly sourceIndex: number;
  readonly table: TableConfig;
  /** The live topic: `<topicPrefix>.<schema|database>.<table>`. */
  readonly liveTopic: string;
}

/** `schema.table` / `database.table`, or `<source>.<schema>.<table>` when several sources have the table. */
export function resolveTarget(config: Config, name: string): ReplayTarget {
  const all = config.sources.flatMap((source, sourceIndex) =>
    source.tables.map((table) => ({ source, sourceIndex, table, liveTopic: `${source.topicPrefix}.${table.name}` })),
  );
  const matching = all.filter((t) => name === t.table.name || name === `${t.source.name}.${t.table.name}`);
  if (matching.length === 1) return matching[0]!;
  if (matching.length === 0) {
    throw new ConfigError(`--table ${name} is not a table of any source in the config`, {
      fix: `use one of: ${all.map((t) => t.table.name).join(', ')} (tables are listed under sources[].tables)`,
    });
  }
  throw new ConfigError(`--table ${name} names a table in several sources`, {
    fix: `prefix it with the source name: ${matching.map((t) => `${t.source.name}.${t.table.name}`).join(' or ')}`,
  });
}

export function databaseReader(target: ReplayTarget, chunkRows: number, logger: Logger): SnapshotReader {
  const { source, sourceIndex, table } = target;
  const now = Date.now;
  if (source.kind === 'postgres') {
    const tls = tlsOptions(source.connection.tls, `sources[${sourceIndex}].connection.tls`);
    return new PostgresSnapshotReader({
      connection: { ...source.connection, tls: tls === undefined ? undefined : { ...tls } },
      table,
      serverName: source.topicPrefix,
      chunkRows,
      logger,
      now,
    });
  }
  return new MysqlSnapshotReader({
    connection: source.connection,
    table,
    serverName: source.topicPrefix,
    serverId: BigInt(source.serverId),
    chunkRows,
    logger,
    now,
  });
}
