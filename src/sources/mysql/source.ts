/**
 * The MySQL/MariaDB source: checks the server, snapshots the captured tables if asked to, then streams the
 * binlog from the snapshot's position (or from the saved checkpoint).
 */
import type { Logger } from '../../ops/logger.js';
import { runEvery } from '../../ops/periodic.js';
import type { SourceEvent } from '../../model/change.js';
import type { TableSchema } from '../../model/schema.js';
import { SERVER_POSITION_POLL_MS, type ActivityListener, type Source, type SnapshotProgressStore } from '../source.js';
import {
  assertServerFit,
  currentGtids,
  openQueryConnection,
  readBinlogEnd,
  readBinlogFiles,
  readServerInfo,
  type MysqlConnectionConfig,
  type QueryConnection,
  type ServerInfo,
} from './connection.js';
import { buildTableSchema, parseTableName, readCatalogTable, type MysqlTableConfig } from './catalog.js';
import { missingBinlogError } from './errors.js';
import { binlogDistance, parseCheckpoint, type BinlogCoordinates, type MysqlCheckpoint } from './position.js';
import { readSnapshot } from './snapshot.js';
import { streamBinlog } from './stream.js';

export interface MysqlSourceOptions {
  readonly name: string;
  /** Written into `source.name` of every event; defaults to `name`. */
  readonly topicPrefix?: string;
  readonly connection: MysqlConnectionConfig;
  /** Our replica id, unique among the server's replicas. */
  readonly serverId: number;
  /** Resume by GTID rather than by binlog file and offset. */
  readonly gtid: boolean;
  readonly tables: readonly MysqlTableConfig[];
  readonly snapshot: 'initial' | 'never' | 'initial_only';
  readonly snapshotChunkRows: number;
  readonly transactions: boolean;
  /** Emit TRUNCATE TABLE as op 't' events (default true). */
  readonly truncate?: boolean;
  /** The checkpoint to resume from (a position string this source handed out). */
  readonly startPosition?: string;
  readonly progress: SnapshotProgressStore;
  readonly logger: Logger;
  readonly clock?: () => number;
  readonly heartbeatMs?: number;
  /** Binlog events buffered before the socket is paused. */
  readonly highWater?: number;
  readonly report?: ActivityListener;
}

export class MysqlSource implements Source {
  readonly name: string;
  private catalog: QueryConnection | null = null;
  private confirmed: MysqlCheckpoint | null = null;
  private lag: number | undefined;
  private snapshotPending = false;
  private readonly clock: () => number;
  private readonly closing = new AbortController();

  constructor(private readonly options: MysqlSourceOptions) {
    this.name = options.name;
    this.clock = options.clock ?? Date.now;
  }

  async *events(outer: AbortSignal): AsyncGenerator<SourceEvent> {
    const { options } = this;
    const signal = AbortSignal.any([outer, this.closing.signal]);
    const logger = options.logger;
    const catalog = await openQueryConnection(options.connection);
    this.catalog = catalog;
    const info = await readServerInfo(catalog);
    assertServerFit(info, options.gtid);
    const startSchemas = new Map<string, TableSchema>();
    for (const table of options.tables) {
      startSchemas.set(table.name, buildTableSchema(await readCatalogTable(catalog, parseTableName(table.name)), table));
    }
    logger.info({ version: info.version, flavor: info.flavor }, 'MySQL source connected');

    const saved = options.startPosition === undefined ? undefined : parseCheckpoint(options.startPosition);
    let from: MysqlCheckpoint;
    if (saved !== undefined && (saved.snapshot !== true || options.snapshot === 'never')) {
      from = { ...saved, snapshot: undefined } as MysqlCheckpoint;
      if (!(options.gtid && from.gtids !== null)) await this.assertBinlogAvailable(from);
    } else if (options.snapshot === 'never') {
      from = await this.binlogEnd(info);
    } else {
      if (saved?.snapshot === true) logger.warn('the previous snapshot did not finish; snapshotting again');
      this.snapshotPending = true;
      options.report?.('snapshotting');
      from = yield* readSnapshot({
        connection: options.connection,
        flavor: info.flavor,
        sourceName: options.name,
        serverName: options.topicPrefix ?? options.name,
        serverId: info.serverId,
        tables: options.tables,
        chunkRows: options.snapshotChunkRows,
        progress: options.progress,
        clock: this.clock,
        logger,
        signal,
      });
      if (options.snapshot === 'initial_only') return;
    }
    logger.info({ file: from.file, pos: from.pos, gtids: from.gtids, skip: from.skip }, 'streaming the binlog');
    const stopMeasuring = runEvery(SERVER_POSITION_POLL_MS, () => this.measureLag(catalog, info.version, from), (error) => logger.debug({ err: error }, 'could not read the binlog position'), {
      immediately: true,
    });
    try {
      yield* this.stream(catalog, info, from, startSchemas, signal);
    } finally {
      stopMeasuring();
    }
  }

  private stream(catalog: QueryConnection, info: ServerInfo, from: MysqlCheckpoint, startSchemas: Map<string, TableSchema>, signal: AbortSignal): AsyncGenerator<SourceEvent> {
    const { options } = this;
    return streamBinlog(
      {
        connection: options.connection,
        catalog,
        serverName: options.topicPrefix ?? options.name,
        flavor: info.flavor,
        replicaServerId: options.serverId,
        serverId: info.serverId,
        tables: options.tables,
        gtid: options.gtid,
        transactions: options.transactions,
        truncate: options.truncate ?? true,
        checksum: info.variables.binlog_checksum?.toUpperCase() === 'CRC32',
        from,
        startSchemas,
        clock: this.clock,
        logger: options.logger,
        report: options.report,
        ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
        ...(options.highWater === undefined ? {} : { highWater: options.highWater }),
      },
      signal,
    );
  }

  /**
   * Binlog bytes from the last confirmed position (at first, where streaming started) to the server's current one,
   * across files when the binlog rotated in between: what a restart would read again, so it also counts events
   * read but not yet in Kafka. The server's position comes from SHOW MASTER STATUS: event headers carry only the
   * end of their own event, not the end of the server's binlog.
   */
  private async measureLag(catalog: QueryConnection, version: string, from: BinlogCoordinates): Promise<void> {
    const acked = this.confirmed ?? from;
    const end = await readBinlogEnd(catalog, version);
    const files = end.file === acked.file ? [] : await readBinlogFiles(catalog);
    this.lag = binlogDistance(files, end, acked).bytes ?? undefined;
  }

  lagBytes(): number | undefined {
    return this.lag;
  }

  /** MySQL keeps no replica state for us: remembering the position (and finishing the snapshot record) is all. */
  async confirm(position: string): Promise<void> {
    const checkpoint = parseCheckpoint(position);
    this.confirmed = checkpoint;
    if (this.snapshotPending && checkpoint.snapshot !== true) {
      this.snapshotPending = false;
      const state = await this.options.progress.getSnapshot(this.options.name);
      if (state !== undefined) await this.options.progress.saveSnapshot(this.options.name, { ...state, completed: true });
    }
  }

  /** The last confirmed checkpoint, for diagnostics. */
  get confirmedPosition(): MysqlCheckpoint | null {
    return this.confirmed;
  }

  /** Stops a running stream (its generator returns) and closes the connections. */
  async close(): Promise<void> {
    this.closing.abort();
    const catalog = this.catalog;
    this.catalog = null;
    await catalog?.end().catch(() => catalog.destroy());
  }

  private async binlogEnd(info: ServerInfo): Promise<MysqlCheckpoint> {
    const catalog = this.catalog!;
    const end = await readBinlogEnd(catalog, info.version);
    return { ...end, gtids: await currentGtids(catalog, info.flavor), skip: 0 };
  }

  private async assertBinlogAvailable(from: MysqlCheckpoint): Promise<void> {
    const files = await readBinlogFiles(this.catalog!);
    const problem = missingBinlogError(files.map((f) => f.file), from.file);
    if (problem !== null) throw problem;
  }
}
