/**
 * The PostgreSQL source: prepares publication and slot, takes the consistent initial snapshot when one is
 * needed, then streams pgoutput changes from the slot. Only positions passed to confirm() reach the server.
 *
 * A snapshot that was interrupted is not resumed: the slot is dropped and the snapshot taken again, because
 * the exported snapshot it was consistent with died with its connection.
 */
import type pg from 'pg';
import type { SourceEvent } from '../../model/change.js';
import { ConfigError } from '../../model/errors.js';
import type { Logger } from '../../ops/logger.js';
import { runEvery } from '../../ops/periodic.js';
import { SERVER_POSITION_POLL_MS, type ActivityListener, type SnapshotProgressStore, type Source } from '../source.js';
import { PgCatalog, type ResolvedTable, type TableConfig } from './catalog.js';
import { connect, ReplicationStream, type PgConnectionOptions } from './connection.js';
import { slotLostError } from './errors.js';
import { decodePosition, Lsn, type PgPosition } from './position.js';
import { checkServer, checkSlot, createSlot, dropSlot, ensurePublication, findSlot, readServerLsn } from './setup.js';
import { snapshotEvents } from './snapshot.js';
import { PgoutputEvents } from './stream.js';

export type SnapshotMode = 'initial' | 'never' | 'initial_only';

export interface PostgresSourceOptions {
  /** The logical server name: topic prefix and source.name. */
  readonly name: string;
  readonly connection: PgConnectionOptions;
  readonly slot: string;
  readonly publication: string;
  readonly tables: readonly TableConfig[];
  readonly snapshot: SnapshotMode;
  readonly snapshotChunkRows: number;
  readonly truncate: boolean;
  readonly transactions: boolean;
  readonly heartbeatIntervalMs: number;
  /**
   * Run every heartbeatIntervalMs while streaming (e.g. an UPDATE of a heartbeat table): on a database where
   * nothing else writes, it makes WAL move so the slot's position keeps advancing.
   */
  readonly heartbeatQuery?: string;
  /** The last checkpointed position, from a previous run. */
  readonly startPosition?: string;
  readonly progress: SnapshotProgressStore;
  readonly logger: Logger;
  readonly clock: { now(): number };
  readonly report?: ActivityListener;
}

/** Frames buffered from the replication socket before reading pauses. */
const HIGH_WATER_MARK = 1000;

export class PostgresSource implements Source {
  readonly name: string;
  private query: pg.Client | undefined;
  private replication: pg.Client | undefined;
  private stream: ReplicationStream | undefined;
  /** Set while a snapshot's completion has not been confirmed yet. */
  private pendingSnapshot: Lsn | undefined;
  /** The last LSN confirmed durable downstream (at first, where streaming started). */
  private acked: Lsn | undefined;
  private lag: number | undefined;

  constructor(private readonly options: PostgresSourceOptions) {
    if (options.tables.length === 0) throw new ConfigError(`source "${options.name}" has no tables`, { fix: 'list at least one table under tables' });
    if (!(options.snapshotChunkRows > 0)) throw new ConfigError(`snapshotChunkRows must be positive, got ${options.snapshotChunkRows}`);
    this.name = options.name;
  }

  async *events(signal: AbortSignal): AsyncGenerator<SourceEvent> {
    const { connection, logger } = this.options;
    const query = (this.query = await connect(connection, false, logger));
    await checkServer(query, connection.user);
    const catalog = new PgCatalog(query, connection.database);
    const tables: ResolvedTable[] = [];
    for (const table of this.options.tables) tables.push(await catalog.resolveTable(table));
    await ensurePublication(query, this.options.publication, tables, logger);
    const replication = (this.replication = await connect(connection, true, logger));

    const start = this.options.startPosition === undefined ? undefined : decodePosition(this.options.startPosition);
    const streamedBefore = start !== undefined && start.snapshot === undefined;
    const state = await this.options.progress.getSnapshot(this.name);
    const needSnapshot = this.options.snapshot !== 'never' && state?.completed !== true && !streamedBefore;
    if (needSnapshot) {
      const consistentPoint = yield* this.snapshot(query, replication, catalog, tables, signal);
      if (consistentPoint === undefined || this.options.snapshot === 'initial_only') return;
      yield* this.streamChanges(replication, catalog, tables, consistentPoint, undefined, signal);
    } else {
      if (this.options.snapshot === 'initial_only') return;
      const created = await this.ensureSlot(query, replication, streamedBefore);
      const from = created ?? (streamedBefore ? start.lsn : Lsn.ZERO);
      yield* this.streamChanges(replication, catalog, tables, from, streamedBefore ? start : undefined, signal);
    }
  }

  /**
   * Creates the slot with an exported snapshot and reads every table under it (a slot left by an unfinished
   * snapshot is dropped first). Returns the consistent point to stream from, or undefined when aborted.
   */
  private async *snapshot(
    query: pg.Client,
    replication: pg.Client,
    catalog: PgCatalog,
    tables: readonly ResolvedTable[],
    signal: AbortSignal,
  ): AsyncGenerator<SourceEvent, Lsn | undefined> {
    const { slot, progress, logger, connection } = this.options;
    const existing = await findSlot(query, slot);
    if (existing !== undefined) {
      checkSlot(slot, existing, connection.database, null);
      logger.warn({ slot }, 'no completed snapshot is recorded for this slot: dropping it and taking a new snapshot');
      await dropSlot(query, slot);
    }
    await progress.clear(this.name);
    this.options.report?.('snapshotting');
    const created = await createSlot(replication, slot, true);
    logger.info({ slot, consistentPoint: created.consistentPoint.toString() }, 'created replication slot; taking the initial snapshot');
    await progress.saveSnapshot(this.name, { consistentPoint: created.consistentPoint.toString(), completed: false });
    this.pendingSnapshot = created.consistentPoint;
    let rows = 0;
    for await (const event of snapshotEvents(query, catalog, tables, {
      name: this.name,
      database: connection.database,
      snapshotName: created.snapshotName!,
      consistentPoint: created.consistentPoint,
      chunkRows: this.options.snapshotChunkRows,
      progress,
      logger,
      now: () => this.options.clock.now(),
    })) {
      if (signal.aborted) return undefined;
      rows++;
      yield event;
    }
    // With no rows there is nothing for downstream to confirm.
    if (rows === 0) await this.completeSnapshot();
    if (this.options.snapshot === 'initial_only') {
      // Nothing will stream from the slot; keeping it would hold WAL forever.
      await dropSlot(query, slot);
    }
    return created.consistentPoint;
  }

  /** Checks the slot, creating it in snapshot mode 'never'; returns the new slot's consistent point. */
  private async ensureSlot(query: pg.Client, replication: pg.Client, streamedBefore: boolean): Promise<Lsn | undefined> {
    const { slot, logger, connection } = this.options;
    const existing = await findSlot(query, slot);
    if (existing !== undefined) {
      checkSlot(slot, existing, connection.database, null);
      return undefined;
    }
    if (this.options.snapshot !== 'never') throw slotLostError(slot);
    if (streamedBefore) logger.warn({ slot }, 'the replication slot is gone; changes made since the checkpoint are lost');
    const created = await createSlot(replication, slot, false);
    logger.info({ slot, consistentPoint: created.consistentPoint.toString() }, 'created replication slot');
    return created.consistentPoint;
  }

  private async *streamChanges(
    replication: pg.Client,
    catalog: PgCatalog,
    tables: readonly ResolvedTable[],
    from: Lsn,
    resume: PgPosition | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<SourceEvent> {
    const { logger, slot, publication, report } = this.options;
    const stream = (this.stream = new ReplicationStream(replication, {
      slot,
      publication,
      start: from,
      statusIntervalMs: Math.max(100, Math.min(this.options.heartbeatIntervalMs, 10_000)),
      highWaterMark: HIGH_WATER_MARK,
      logger,
      now: () => this.options.clock.now(),
      onStreaming: () => report?.('streaming'),
      onFailure: (error) => report?.('reconnecting', error instanceof Error ? error.message : String(error)),
    }));
    this.acked = from;
    const decoder = new PgoutputEvents({
      name: this.options.name,
      database: this.options.connection.database,
      tables: new Map(tables.map((table) => [`${table.schema}.${table.table}`, table.config])),
      catalog,
      truncate: this.options.truncate,
      transactions: this.options.transactions,
      resume,
      logger,
    });
    // Reading stops here; the connection closes in close(), after the pipeline's final confirm went out.
    const onAbort = (): void => stream.halt();
    signal.addEventListener('abort', onAbort, { once: true });
    logger.info({ slot, from: from.toString() }, 'streaming changes');
    stream.start();
    const stopHeartbeat = this.startHeartbeatQuery();
    const stopMeasuring = runEvery(SERVER_POSITION_POLL_MS, () => this.measureLag(), (error) => logger.debug({ err: error }, 'could not read the server WAL position'), {
      immediately: true,
    });
    try {
      for (;;) {
        const frame = await stream.next();
        if (frame === undefined || signal.aborted) return;
        for (const event of await decoder.handle(frame)) yield event;
      }
    } finally {
      stopHeartbeat();
      stopMeasuring();
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Runs the configured heartbeat query periodically; a failure is logged, not fatal (it is only a nudge). */
  private startHeartbeatQuery(): () => void {
    const { heartbeatQuery, heartbeatIntervalMs, logger } = this.options;
    if (heartbeatQuery === undefined) return () => undefined;
    return runEvery(
      heartbeatIntervalMs,
      async () => this.query?.query(heartbeatQuery),
      (error) => logger.warn({ err: error, query: heartbeatQuery }, 'heartbeat query failed; fix heartbeat.query'),
    );
  }

  /**
   * The server's current WAL position minus the last acknowledged LSN: what a restart would have to stream again,
   * so it also counts events read but not yet in Kafka. (The walEnd of keepalives would cost no query, but it is
   * where the walsender got to, not the server's WAL end, and it stops arriving while back-pressure pauses the
   * socket: it would read near zero exactly when the lag is large.)
   */
  private async measureLag(): Promise<void> {
    const acked = this.acked;
    if (this.query === undefined || acked === undefined) return;
    this.lag = (await readServerLsn(this.query)).bytesSince(acked);
  }

  lagBytes(): number | undefined {
    return this.lag;
  }

  async confirm(position: string): Promise<void> {
    const decoded = decodePosition(position);
    if (decoded.snapshot === 'row') return;
    await this.completeSnapshot();
    if (decoded.snapshot === undefined) {
      this.stream?.confirm(decoded.lsn);
      this.acked = this.acked?.max(decoded.lsn) ?? decoded.lsn;
    }
  }

  private async completeSnapshot(): Promise<void> {
    const point = this.pendingSnapshot;
    if (point === undefined) return;
    this.pendingSnapshot = undefined;
    await this.options.progress.saveSnapshot(this.options.name, { consistentPoint: point.toString(), completed: true });
  }

  async close(): Promise<void> {
    await this.stream?.stop();
    await this.replication?.end().catch(() => undefined);
    await this.query?.end().catch(() => undefined);
    this.stream = undefined;
    this.replication = undefined;
    this.query = undefined;
  }
}
