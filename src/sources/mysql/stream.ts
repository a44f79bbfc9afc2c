/**
 * Binlog events → neutral SourceEvents, in commit order: row changes with their table schema version and
 * MySQL source block, transaction boundaries, heartbeats, and for each event the checkpoint to resume after it.
 * A lost connection is reopened at the current transaction's start, skipping the rows already delivered.
 */
import type { Logger } from '../../ops/logger.js';
import { backoffDelay, isRetriable, sleep } from '../../ops/retry.js';
import type { ChangeEvent, MysqlSourceInfo, SourceEvent } from '../../model/change.js';
import { qualifiedName, type TableSchema } from '../../model/schema.js';
import { invariant } from '../../model/errors.js';
import { BinlogClient, type BinlogStart } from './binlog-client.js';
import type { RawBinlogEvent } from './raw-event.js';
import type { MysqlConnectionConfig, QueryConnection } from './connection.js';
import type { Flavor } from './errors.js';
import { buildTableSchema, parseTableName, readCatalogTable, reconcileWithBinlog, type MysqlTableConfig } from './catalog.js';
import { advanceGtids, checkpointSerializer, serializeCheckpoint, type MysqlCheckpoint } from './position.js';
import { parseRowsEvent, RowsDecoder } from './rows-event.js';
import { catalogTemporalTypes, withColumnTypes } from './column-type.js';
import type { TableMap } from './table-map.js';
import type { ActivityListener } from '../source.js';

export interface StreamOptions {
  readonly connection: MysqlConnectionConfig;
  /** Used for information_schema look-ups while streaming. */
  readonly catalog: QueryConnection;
  readonly serverName: string;
  /** The server's flavor, which names the connector in every source block. */
  readonly flavor: Flavor;
  readonly replicaServerId: number;
  /** server_id of the source server, for events whose GTID does not name the originating server. */
  readonly serverId: bigint;
  readonly tables: readonly MysqlTableConfig[];
  /** Resume by GTID (when the checkpoint has GTIDs) rather than by file and offset. */
  readonly gtid: boolean;
  readonly transactions: boolean;
  /** Emit TRUNCATE TABLE of a captured table as an op 't' event. */
  readonly truncate?: boolean;
  /** binlog_checksum = CRC32 on the server. */
  readonly checksum: boolean;
  readonly from: MysqlCheckpoint;
  /** The captured tables as the catalog described them at start: nullability for table maps that lack it. */
  readonly startSchemas?: ReadonlyMap<string, TableSchema>;
  readonly clock: () => number;
  readonly logger: Logger;
  readonly heartbeatMs?: number;
  readonly highWater?: number;
  readonly maxReconnects?: number;
  /** Told `streaming` whenever a binlog connection starts streaming and `reconnecting` whenever one is lost. */
  readonly report?: ActivityListener;
}

interface TableVersion {
  readonly signature: string;
  readonly schema: TableSchema;
  /** COLUMN_TYPEs the catalog gave for columns whose table map cannot tell them (see catalogTemporalTypes). */
  readonly columnTypes: ReadonlyMap<string, string>;
}

/** What a table id stands for: its table map, the table's schema version for it, and their rows decoder. */
interface MappedTable {
  readonly map: TableMap;
  /** `database.table`. */
  readonly name: string;
  readonly version: TableVersion;
  /** Built at the table id's first rows event. */
  decoder: RowsDecoder | null;
}

const NO_COLUMN_TYPES: ReadonlyMap<string, string> = new Map();

interface Transaction {
  readonly start: MysqlCheckpoint;
  /** The checkpoint after `skip` of this transaction's rows: serialized once per transaction, not per row. */
  readonly positionAfter: (skip: number) => string;
  readonly gtid: string | null;
  /** The originating server, from the GTID: looked up once, not per row. */
  readonly serverId: bigint;
  readonly id: string;
  /** Captured row images seen so far, delivered or skipped. */
  rows: number;
  began: boolean;
  totalOrder: bigint;
  readonly counts: Map<string, number>;
  thread: bigint | null;
  /** Opened by BEGIN (or a MariaDB GTID without FL_STANDALONE): only COMMIT or ROLLBACK closes it. */
  explicit: boolean;
}

/** Streams from `options.from` until `signal` aborts or a permanent error is thrown. */
export async function* streamBinlog(options: StreamOptions, signal: AbortSignal): AsyncGenerator<SourceEvent> {
  const state = new StreamState(options);
  let failures = 0;
  while (!signal.aborted) {
    const client = new BinlogClient({
      connection: options.connection,
      replicaServerId: options.replicaServerId,
      start: state.resumeStart(),
      tables: tablesByDatabase(options.tables),
      heartbeatMs: options.heartbeatMs ?? 10_000,
      // Events, not rows: a rows event of a big transaction holds up to binlog_row_event_max_size (8 KiB) of rows,
      // dozens of them, all decoded at once. 2,000 such events buffered half a GiB in a 1M-row transaction.
      highWater: options.highWater ?? 100,
      checksum: options.checksum,
      flavor: options.flavor,
      onStreaming: () => options.report?.('streaming'),
      onFailure: (error) => options.report?.('reconnecting', error.message),
    });
    client.start();
    try {
      while (true) {
        const raw = await client.next(signal);
        failures = 0;
        yield* await state.handle(raw);
      }
    } catch (error) {
      if (signal.aborted) return;
      if (!isRetriable(error) || failures >= (options.maxReconnects ?? 10)) throw error;
      const delay = backoffDelay(failures++, { initialDelayMs: 500, maxDelayMs: 30_000 });
      options.logger.warn({ err: error, delayMs: delay }, 'binlog connection lost; reconnecting');
      state.prepareReconnect();
      await sleep(delay, signal).catch(() => undefined);
    } finally {
      await client.stop();
    }
  }
}

function tablesByDatabase(tables: readonly MysqlTableConfig[]): Record<string, string[]> {
  const byDb: Record<string, string[]> = {};
  for (const t of tables) {
    const id = parseTableName(t.name);
    (byDb[id.database] ??= []).push(id.table);
  }
  return byDb;
}

/** What outlives a binlog connection: positions, the open transaction and table schema versions. Exported for tests. */
export class StreamState {
  private file: string;
  /** Where the last committed transaction ended. */
  private committed: MysqlCheckpoint;
  private lastEnd: number;
  private tx: Transaction | null = null;
  /** Rows to drop at the start of the first transaction read (a resume mid-transaction). */
  private skip: number;
  /** Set by a reconnect mid-transaction: the replayed transaction continues the interrupted one. */
  private continuing: Transaction | null = null;
  private readonly tableIds = new Map<number, MappedTable>();
  private readonly versions = new Map<string, TableVersion>();
  private readonly configs: Map<string, MysqlTableConfig>;
  private lastIdleHeartbeat = 0;

  constructor(private readonly options: StreamOptions) {
    this.file = options.from.file;
    this.committed = { file: options.from.file, pos: options.from.pos, gtids: options.from.gtids, skip: 0 };
    this.lastEnd = options.from.pos;
    this.skip = options.from.skip;
    this.configs = new Map(options.tables.map((t) => [t.name, t]));
  }

  resumeStart(): BinlogStart {
    const at = this.continuing?.start ?? this.committed;
    // An empty GTID position would ask for the server's whole history: only a non-empty one says where we are.
    if (this.options.gtid && at.gtids !== null && at.gtids !== '') return { gtids: at.gtids };
    return { file: at.file, pos: at.pos };
  }

  prepareReconnect(): void {
    if (this.tx !== null) {
      this.continuing = this.tx;
      this.skip = this.tx.rows;
    }
    this.tx = null;
    this.tableIds.clear();
  }

  async handle(raw: RawBinlogEvent): Promise<SourceEvent[]> {
    const start = raw.eventStart ?? this.lastEnd;
    if (raw.nextPosition > 0) this.lastEnd = raw.nextPosition;
    switch (raw.type) {
      case 'rotate':
        this.file = raw.file!;
        this.lastEnd = raw.position!;
        if (this.tx === null) this.committed = { ...this.committed, file: this.file, pos: raw.position! };
        return [];
      case 'mariadbgtid':
        this.begin(raw.gtid ?? null, start);
        this.tx!.explicit = raw.standalone === false;
        return [];
      case 'gtid':
        this.begin(raw.gtid ?? null, start);
        return [];
      case 'query':
        return this.query(raw, start);
      case 'tablemap':
        await this.tableMap(raw.tableMap!);
        return [];
      case 'rows':
        return this.rows(raw, start);
      case 'xid':
        return this.commit(raw);
      case 'heartbeat':
        return this.tx === null ? [{ type: 'heartbeat', position: serializeCheckpoint(this.committed) }] : [];
    }
  }

  private begin(gtid: string | null, at: number): void {
    const start: MysqlCheckpoint = { ...this.committed, file: this.file, pos: at };
    const continuing = this.continuing;
    this.continuing = null;
    if (continuing !== null && continuing.start.file === start.file && continuing.start.pos === start.pos) {
      this.tx = { ...continuing, rows: 0, counts: continuing.counts };
      return;
    }
    this.tx = {
      start,
      positionAfter: checkpointSerializer(start),
      gtid,
      serverId: serverIdOf(gtid, this.options.serverId),
      id: gtid ?? `file=${this.file},pos=${at}`,
      rows: 0,
      began: false,
      totalOrder: 0n,
      counts: new Map(),
      thread: null,
      explicit: false,
    };
  }

  private async query(raw: RawBinlogEvent, at: number): Promise<SourceEvent[]> {
    const sql = (raw.query ?? '').trim().toUpperCase();
    if (sql === 'BEGIN' || sql.startsWith('XA START')) {
      if (this.tx === null) this.begin(raw.gtid ?? null, at);
      this.tx!.explicit = true;
      this.tx!.thread = raw.threadId === undefined ? null : BigInt(raw.threadId);
      return [];
    }
    const closes = /^(COMMIT|ROLLBACK|XA (COMMIT|ROLLBACK|PREPARE))\b/.test(sql) && !/^ROLLBACK\s+TO\b/.test(sql);
    // Inside BEGIN…COMMIT, statements such as SAVEPOINT are part of the transaction.
    if (this.tx?.explicit === true && !closes) return [];
    // DDL and other standalone statements commit on their own; the next table map shows any change in columns.
    const truncated = this.options.truncate === false ? undefined : truncatedTable(raw.query ?? '', raw.database);
    const config = truncated === undefined ? undefined : this.configs.get(truncated);
    const thread = raw.threadId === undefined ? null : BigInt(raw.threadId);
    const gtid = this.tx?.gtid ?? raw.gtid ?? null;
    const committed = this.commit(raw);
    // The table map shows changed names and types but not nullability: after an ALTER of a captured table the
    // next table map re-reads the catalog even when its columns look the same.
    const altered = alteredTable(raw.query ?? '', raw.database);
    const version = altered === undefined ? undefined : this.versions.get(altered);
    if (version !== undefined) this.versions.set(altered!, { ...version, signature: '' });
    if (config === undefined) return committed;
    const schema = this.versions.get(config.name)?.schema ?? buildTableSchema(await readCatalogTable(this.options.catalog, parseTableName(config.name)), config);
    const truncate: ChangeEvent = {
      type: 'change',
      op: 't',
      schema,
      before: null,
      after: null,
      source: this.sourceInfo(schema, raw, gtid, serverIdOf(gtid, this.options.serverId), at, 0, thread),
      transaction: null,
      position: serializeCheckpoint(this.committed),
    };
    return [truncate, ...committed];
  }

  private async tableMap(map: TableMap): Promise<void> {
    const mapped = this.tableIds.get(map.tableId);
    // The client hands out the same object for as long as a table id's table map is unchanged: nothing to redo
    // then, unless an ALTER has reset the table's version since.
    if (mapped !== undefined && mapped.map === map && this.versions.get(mapped.name) === mapped.version) return;
    const name = `${map.database}.${map.table}`;
    const config = this.configs.get(name);
    invariant(config !== undefined, `table map of ${name}, which is not among the captured tables`);
    const binlogColumns = map.columns.map((c) => ({ name: c.name, columnType: c.columnType }));
    const primaryKey = map.primaryKey?.map((i) => binlogColumns[i]!.name);
    const signature = JSON.stringify([binlogColumns, primaryKey]);
    let version = this.versions.get(name);
    if (version === undefined || version.signature !== signature) {
      const catalog = await readCatalogTable(this.options.catalog, parseTableName(name));
      const columnTypes = this.options.flavor === 'mariadb' ? catalogTemporalTypes(map.columns, catalog.columns) : NO_COLUMN_TYPES;
      const described = withColumnTypes(map.columns, columnTypes).map((c) => ({ name: c.name, columnType: c.columnType }));
      const previous = (version?.schema ?? this.options.startSchemas?.get(name))?.columns;
      const fitting = reconcileWithBinlog(catalog, described, primaryKey, previous);
      version = { signature, schema: buildTableSchema(fitting, config, fitting === catalog), columnTypes };
      this.versions.set(name, version);
      this.options.logger.info({ table: name, columns: version.schema.columns.length }, 'table schema version');
    }
    this.tableIds.set(map.tableId, { map, name, version, decoder: null });
  }

  private rows(raw: RawBinlogEvent, at: number): SourceEvent[] {
    const map = raw.tableMap;
    const mapped = map === undefined ? undefined : this.tableIds.get(map.tableId);
    invariant(mapped !== undefined && mapped.map === map && raw.rowsEvent !== undefined, `rows event of table id ${map?.tableId} without its bytes or table map`);
    const schema = mapped.version.schema;
    const rowsEvent = parseRowsEvent(raw.rowsEvent, this.options.checksum);
    const op = rowsEvent.op;
    const images = this.decoder(mapped).decode(rowsEvent);
    if (this.tx === null) this.begin(raw.gtid ?? null, at); // a non-transactional table outside BEGIN…COMMIT
    const tx = this.tx!;
    const tableName = qualifiedName(schema.id);
    const events: SourceEvent[] = [];
    for (let i = 0; i < images.length; i++) {
      tx.rows++;
      if (this.skip > 0) {
        this.skip--;
        continue;
      }
      if (this.options.transactions && !tx.began) {
        tx.began = true;
        events.push({ type: 'begin', id: tx.id, scope: tx.id, tsMs: raw.timestamp, position: tx.positionAfter(tx.rows - 1) });
      }
      const image = images[i]!;
      const count = (tx.counts.get(tableName) ?? 0) + 1;
      tx.counts.set(tableName, count);
      tx.totalOrder++;
      const source = this.sourceInfo(schema, raw, tx.gtid, tx.serverId, at, i, tx.thread);
      const event: ChangeEvent = {
        type: 'change',
        op,
        schema,
        before: image.before,
        after: image.after,
        source,
        transaction: this.options.transactions ? { id: tx.id, scope: tx.id, totalOrder: tx.totalOrder, dataCollectionOrder: BigInt(count) } : null,
        position: tx.positionAfter(tx.rows),
      };
      events.push(event);
    }
    return events;
  }

  /** The table id's rows decoder, for its table map and schema version (a new table map or version, a new entry). */
  private decoder(mapped: MappedTable): RowsDecoder {
    const { map, version } = mapped;
    return (mapped.decoder ??= new RowsDecoder(qualifiedName(version.schema.id), withColumnTypes(map.columns, version.columnTypes), version.schema.columns));
  }

  private sourceInfo(
    schema: TableSchema,
    raw: RawBinlogEvent,
    gtid: string | null,
    serverId: bigint,
    at: number,
    row: number,
    thread: bigint | null,
  ): MysqlSourceInfo {
    return {
      connector: this.options.flavor,
      name: this.options.serverName,
      tsMs: raw.timestamp,
      snapshot: 'false',
      db: schema.id.database,
      table: schema.id.table,
      serverId,
      gtid,
      file: this.file,
      pos: BigInt(at),
      row,
      thread,
      query: null,
    };
  }

  private commit(raw: RawBinlogEvent): SourceEvent[] {
    const tx = this.tx;
    const gtid = tx?.gtid ?? raw.gtid ?? null;
    const gtids = this.committed.gtids !== null && gtid !== null ? advanceGtids(this.committed.gtids, gtid) : this.committed.gtids;
    this.committed = { file: this.file, pos: raw.nextPosition, gtids, skip: 0 };
    this.tx = null;
    this.skip = 0;
    const position = serializeCheckpoint(this.committed);
    if (tx !== null && tx.began) {
      return [{ type: 'end', id: tx.id, scope: tx.id, tsMs: raw.timestamp, counts: new Map(tx.counts), position }];
    }
    // Commits without delivered events still move the checkpoint on, but at most once a second.
    const now = this.options.clock();
    if ((tx !== null && tx.totalOrder > 0n) || now - this.lastIdleHeartbeat >= 1_000) {
      this.lastIdleHeartbeat = now;
      return [{ type: 'heartbeat', position }];
    }
    return [];
  }
}

/** `db.table` of a TRUNCATE [TABLE] statement, qualified with the statement's default database if need be. */
export function truncatedTable(sql: string, defaultDatabase: string | undefined): string | undefined {
  return statementTable(/^\s*TRUNCATE\s+(?:TABLE\s+)?/i, '\\s*;?\\s*$', sql, defaultDatabase);
}

/** `db.table` of an ALTER TABLE statement (qualified by the statement's default database), else undefined. */
export function alteredTable(sql: string, defaultDatabase: string | undefined): string | undefined {
  return statementTable(/^\s*ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\s+(?:IF\s+EXISTS\s+)?/i, '(?:\\s|$)', sql, defaultDatabase);
}

function statementTable(prefix: RegExp, suffix: string, sql: string, defaultDatabase: string | undefined): string | undefined {
  const identifier = '(`(?:[^`]|``)+`|[A-Za-z0-9_$]+)';
  const match = new RegExp(`${prefix.source}(?:${identifier}\\s*\\.\\s*)?${identifier}${suffix}`, 'i').exec(sql);
  if (match === null) return undefined;
  const unquote = (name: string): string => (name.startsWith('`') ? name.slice(1, -1).replace(/``/g, '`') : name);
  const database = match[1] === undefined ? defaultDatabase : unquote(match[1]);
  return database === undefined || database === '' ? undefined : `${database}.${unquote(match[2]!)}`;
}

/** The originating server id: MariaDB GTIDs carry it (`domain-server-seq`); otherwise the source server's. */
function serverIdOf(gtid: string | null, fallback: bigint): bigint {
  const match = gtid === null ? null : /^\d+-(\d+)-\d+$/.exec(gtid);
  return match === null ? fallback : BigInt(match[1]!);
}
