/**
 * The binlog connection: zongji (binlog dump over mysql2, table maps with binlog_row_metadata=FULL, MariaDB GTID
 * events) turned into a pull queue. Rows events are not zongji's to decode: they are taken from the raw packets
 * and queued as bytes, in binlog order, for the stream to decode with rows-event.ts. When the queue holds
 * `highWater` events the socket is paused, so a slow consumer stops the server from sending rather than filling
 * memory. The server is asked for heartbeats, and a connection that stays silent for three heartbeat periods is
 * reported dead.
 */
import ZongJi from '@vlasky/zongji';
import { ConnectionError } from '../../model/errors.js';
import type { MysqlConnectionConfig } from './connection.js';
import { mysql2Options } from './connection.js';
import { classifyMysqlError } from './errors.js';
import { checksumMatches, EVENT_HEADER_LENGTH, parseEventHeader, type EventHeader } from './binlog-event.js';
import type { TableMapColumn } from './column-plan.js';
import { rowsEventOp, rowsEventTableId, type RowsOp } from './rows-event.js';

/** The zongji event fields the stream reads; zongji's own typings are per class. */
export interface RawBinlogEvent {
  getEventName(): string;
  readonly timestamp: number;
  readonly nextPosition: number;
  /** Offset of the event itself, from its raw header (set by the client; absent for artificial events). */
  eventStart?: number;
  readonly gtid?: string;
  // rotate / heartbeat
  readonly binlogName?: string;
  readonly position?: number;
  // query
  readonly query?: string;
  /** The statement's default database. */
  readonly schema?: string;
  readonly slaveProxyId?: number;
  // mariadbgtid
  readonly standalone?: boolean;
  // tablemap / rows
  readonly tableId?: number;
  readonly tableMap?: Record<number, ZongjiTable>;
  readonly primaryKey?: number[];
  // rows (writerows / updaterows / deleterows), queued by the client itself
  /** The whole event, header and checksum included. */
  readonly rowsEvent?: Buffer;
  /** zongji's table map of the rows event's table, as it stood when the event arrived. */
  readonly table?: ZongjiTable;
}

export interface ZongjiColumnSchema {
  readonly COLUMN_NAME: string;
  readonly COLUMN_TYPE: string;
  /** Signedness from the table map's metadata, which overrides COLUMN_TYPE's. */
  readonly UNSIGNED?: boolean;
}

/** zongji's reading of a table map column: its real type, layout metadata and character set. */
export interface ZongjiColumn {
  readonly name: string;
  readonly type: number;
  readonly charset: string | null;
  readonly metadata?: Readonly<Record<string, number | undefined>>;
}

export interface ZongjiTable {
  readonly parentSchema: string;
  readonly tableName: string;
  readonly columnSchemas: ZongjiColumnSchema[];
  /** Set from the table map event, before zongji emits it. */
  readonly columns?: ZongjiColumn[];
}

/** zongji's table map entry → the columns rows-event.ts lays row images out by. */
export function tableMapColumns(table: ZongjiTable): TableMapColumn[] {
  const columns = table.columns ?? [];
  return columns.map((column, i) => {
    const schema = table.columnSchemas[i];
    const metadata = column.metadata ?? {};
    const columnType = schema?.COLUMN_TYPE ?? '';
    return {
      name: column.name,
      type: column.type,
      charset: column.charset,
      columnType,
      unsigned: schema?.UNSIGNED ?? /\bunsigned\b/i.test(columnType),
      metadata: {
        maxLength: metadata.max_length,
        lengthSize: metadata.length_size,
        precision: metadata.precision,
        decimals: metadata.decimals,
        bits: metadata.bits,
        size: metadata.size,
      },
    };
  });
}

export type BinlogStart =
  | { readonly file: string; readonly pos: number }
  | { readonly gtids: string };

export interface BinlogClientOptions {
  readonly connection: MysqlConnectionConfig;
  /** Our replica id: unique among the server's replicas. */
  readonly replicaServerId: number;
  readonly start: BinlogStart;
  /** database → tables whose row events to decode. */
  readonly tables: Readonly<Record<string, string[]>>;
  readonly heartbeatMs: number;
  readonly highWater: number;
  /** binlog_checksum is CRC32: verify every event before zongji decodes it. */
  readonly checksum: boolean;
  /** The server started sending the binlog (its first event arrived: it always opens with a rotate event). */
  readonly onStreaming?: () => void;
  /** The connection failed (once, as it happens, not when the consumer reaches the failure in the queue). */
  readonly onFailure?: (error: Error) => void;
}

/** The parts of a mysql2 connection and packet the tap touches (mysql2 internals). */
interface TappableConnection {
  handlePacket(packet?: RawPacket): void;
  _command?: { constructor: { name: string } };
  /** While set, handlePacket queues packets (clones sharing the buffer) and handles them again on resume. */
  _paused?: boolean;
}

interface RawPacket {
  readonly buffer: Buffer;
  readonly offset: number;
  readonly end: number;
}

/** What zongji decodes: everything but the rows events, which it then skips unparsed (see tapPackets). */
const EVENTS = ['rotate', 'query', 'xid', 'mariadbgtid', 'gtid', 'tablemap', 'heartbeat'];

/** The names zongji gave rows events, which the stream goes by. */
const ROWS_EVENT_NAMES: Readonly<Record<RowsOp, () => string>> = {
  c: () => 'writerows',
  u: () => 'updaterows',
  d: () => 'deleterows',
};

export class BinlogClient {
  private readonly zongji: ZongJi;
  private readonly queue: RawBinlogEvent[] = [];
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private paused = false;
  private stopped = false;
  private watchdog: NodeJS.Timeout | null = null;
  private lastHeard = Date.now();
  private verified = 0;
  private streaming = false;
  /** Header of the packet zongji is decoding right now. */
  private header: EventHeader | null = null;

  constructor(private readonly options: BinlogClientOptions) {
    this.zongji = new ZongJi(mysql2Options(options.connection) as ConstructorParameters<typeof ZongJi>[0]);
    this.zongji.on('binlog', (event) => this.push(event as unknown as RawBinlogEvent));
    this.zongji.on('error', (error: unknown) => this.fail(classifyMysqlError(error, 'reading the binlog')));
  }

  start(): void {
    const start = this.options.start;
    this.zongji.start({
      serverId: this.options.replicaServerId,
      includeEvents: EVENTS,
      includeSchema: this.options.tables,
      ...('gtids' in start ? { gtidSet: start.gtids } : { filename: start.file, position: start.pos }),
    });
    // Queued ahead of zongji's own preamble on the binlog connection, so it is in force when the dump starts.
    const connection = this.binlogConnection();
    connection?.query(`SET @master_heartbeat_period = ${BigInt(this.options.heartbeatMs) * 1_000_000n}`, () => undefined);
    if (connection !== null) this.tapPackets(connection as unknown as TappableConnection);
    this.lastHeard = Date.now();
    this.watchdog = setInterval(() => {
      if (!this.paused && Date.now() - this.lastHeard > 3 * this.options.heartbeatMs + 5_000) {
        this.fail(new ConnectionError(`no binlog event or heartbeat for ${Date.now() - this.lastHeard} ms: the connection is dead`));
      }
    }, this.options.heartbeatMs);
    this.watchdog.unref();
  }

  /** The next event; throws the connection's failure once the queue is drained. */
  async next(signal: AbortSignal): Promise<RawBinlogEvent> {
    while (true) {
      const event = this.queue.shift();
      if (event !== undefined) {
        if (this.paused && this.queue.length <= this.options.highWater / 2) this.setPaused(false);
        return event;
      }
      if (this.failure !== null) throw this.failure;
      if (signal.aborted) throw signal.reason;
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        this.wake = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.watchdog !== null) clearInterval(this.watchdog);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      this.zongji.once('stopped', () => {
        clearTimeout(timer);
        resolve();
      });
      this.zongji.stop();
    });
  }

  /** Whether back-pressure has paused the socket. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Events decoded and waiting to be pulled. */
  get queued(): number {
    return this.queue.length;
  }

  /** Events whose CRC32 was checked, for diagnostics and tests. */
  get verifiedEvents(): number {
    return this.verified;
  }

  /**
   * Reads each binlog event packet's raw header as mysql2 hands the packet to zongji: to check its CRC32 (zongji
   * skips the checksum bytes unread; a mismatch fails the connection, which is reopened at the current
   * transaction's start), to learn where the event starts (zongji reports only where it ends), and to queue rows
   * events, which zongji skips unparsed as they are not among its includeEvents.
   *
   * Binlog order holds: zongji handles a packet synchronously, emitting its event before handlePacket returns,
   * except a table map whose columns it must look up first (no binlog_row_metadata=FULL, or MariaDB's old
   * temporal types). It pauses the connection for that, and a paused mysql2 connection queues the packets that
   * arrive and hands each to handlePacket again on resume, which zongji calls after emitting the table map. Our
   * back-pressure pauses the same way. So a packet is read here only while the connection is not paused, when
   * zongji gets it too, and a rows event is queued once zongji is done with its packet: after its table map and
   * every earlier event.
   */
  private tapPackets(connection: TappableConnection): void {
    const original = connection.handlePacket.bind(connection);
    connection.handlePacket = (packet?: RawPacket): void => {
      if (connection._paused === true) {
        original(packet); // queued; back here on resume
        return;
      }
      this.header = null;
      let rows: RawBinlogEvent | null = null;
      if (packet !== undefined && connection._command?.constructor.name === 'Binlog' && packet.buffer[packet.offset] === 0x00) {
        if (!this.streaming) {
          this.streaming = true;
          this.options.onStreaming?.();
        }
        const event = packet.buffer.subarray(packet.offset + 1, packet.end);
        const header = event.length >= EVENT_HEADER_LENGTH ? parseEventHeader(event) : null;
        if (header !== null && header.length === event.length) {
          if (this.options.checksum) {
            if (!checksumMatches(event)) {
              this.fail(new ConnectionError(`binlog event of type ${header.type} ending at ${header.nextPosition} fails its CRC32 check`));
              return;
            }
            this.verified++;
          }
          this.header = header;
          rows = this.rowsEvent(event, header);
        }
      }
      original(packet);
      if (rows !== null) this.push(rows);
    };
  }

  /**
   * A rows event of a captured table, as the stream reads it; null for any other event. The bytes are the socket
   * chunk's, which mysql2 never reuses.
   */
  private rowsEvent(event: Buffer, header: EventHeader): RawBinlogEvent | null {
    const op = rowsEventOp(header.type);
    if (op === undefined) return null;
    const tableId = rowsEventTableId(event);
    // zongji keeps the table maps of captured tables only (includeSchema), which filtered its own rows events.
    const table = (this.zongji.tableMap as Record<number, ZongjiTable | undefined>)[tableId];
    if (table === undefined) return null;
    return {
      getEventName: ROWS_EVENT_NAMES[op],
      timestamp: header.timestamp * 1000,
      nextPosition: header.nextPosition,
      gtid: this.zongji.lastGtid,
      tableId,
      table,
      rowsEvent: event,
    };
  }

  private push(event: RawBinlogEvent): void {
    if (this.stopped) return;
    this.lastHeard = Date.now();
    const header = this.header;
    if (header !== null && header.nextPosition > 0 && header.nextPosition === event.nextPosition) {
      event.eventStart = header.nextPosition - header.length;
    }
    this.queue.push(event);
    if (!this.paused && this.queue.length >= this.options.highWater) this.setPaused(true);
    this.wake?.();
  }

  private fail(error: Error): void {
    if (this.stopped || this.failure !== null) return;
    this.failure = error;
    this.options.onFailure?.(error);
    this.wake?.();
  }

  private setPaused(paused: boolean): void {
    const connection = this.binlogConnection();
    if (connection === null) return;
    this.paused = paused;
    if (paused) connection.pause();
    else {
      this.lastHeard = Date.now();
      connection.resume();
    }
  }

  private binlogConnection(): { pause(): void; resume(): void; query(sql: string, cb: () => void): void } | null {
    return (this.zongji as unknown as { connection: ReturnType<BinlogClient['binlogConnection']> }).connection;
  }
}
