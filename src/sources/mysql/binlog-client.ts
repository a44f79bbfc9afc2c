/**
 * The binlog connection: zongji (binlog dump over mysql2, table maps with binlog_row_metadata=FULL, row events
 * v1/v2, MariaDB GTID events) turned into a pull queue. When the queue holds `highWater` events the socket is
 * paused, so a slow consumer stops the server from sending rather than filling memory. The server is asked for
 * heartbeats, and a connection that stays silent for three heartbeat periods is reported dead.
 */
import ZongJi from '@vlasky/zongji';
import { ConnectionError } from '../../model/errors.js';
import type { MysqlConnectionConfig } from './connection.js';
import { mysql2Options } from './connection.js';
import { classifyMysqlError } from './errors.js';
import { checksumMatches, EVENT_HEADER_LENGTH, parseEventHeader, type EventHeader } from './binlog-event.js';

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
  readonly rows?: Record<string, unknown>[] | { before: Record<string, unknown>; after: Record<string, unknown> }[];
}

export interface ZongjiColumnSchema {
  readonly COLUMN_NAME: string;
  readonly COLUMN_TYPE: string;
}

export interface ZongjiTable {
  readonly parentSchema: string;
  readonly tableName: string;
  readonly columnSchemas: ZongjiColumnSchema[];
  /** How zongji reads each column of the row images: set from the table map event, before its row events. */
  readonly columns?: { type: number; charset: string | null }[];
}

/** MySQL enum_field_types codes. */
const MYSQL_TYPE_JSON = 245;
const MYSQL_TYPE_BLOB = 252;

/**
 * Has zongji hand over MySQL JSON values in their binary form, for jsonBinaryToText to print as MySQL does.
 * zongji's own JSON decoder gets values wrong: it builds JavaScript objects, which put integer-like keys first and
 * drop a "__proto__" key, prints DECIMALs quoted and doubles without MySQL's ".0" or exponent form, prints
 * VAR_STRING opaques as base64, and throws on TIMESTAMP, BIT and BLOB opaques. A JSON value is laid out as a BLOB
 * (a `length_size`-byte length, then the bytes), so reading the column as a binary BLOB yields exactly the bytes.
 */
export function readJsonColumnsAsBytes(event: Pick<RawBinlogEvent, 'tableId' | 'tableMap'>): void {
  const columns = event.tableId === undefined ? undefined : event.tableMap?.[event.tableId]?.columns;
  for (const column of columns ?? []) {
    if (column.type !== MYSQL_TYPE_JSON) continue;
    column.type = MYSQL_TYPE_BLOB;
    column.charset = null;
  }
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

/** The parts of a mysql2 connection and packet the checksum tap touches (mysql2 internals). */
interface TappableConnection {
  handlePacket(packet?: RawPacket): void;
  _command?: { constructor: { name: string } };
}

interface RawPacket {
  readonly buffer: Buffer;
  readonly offset: number;
  readonly end: number;
}

const EVENTS = ['rotate', 'query', 'xid', 'mariadbgtid', 'gtid', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'heartbeat'];

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
   * Reads each binlog event packet's raw header before zongji decodes it: to check its CRC32 (zongji skips the
   * checksum bytes unread; a mismatch fails the connection, which is reopened at the current transaction's
   * start) and to learn where the event starts (zongji reports only where it ends).
   */
  private tapPackets(connection: TappableConnection): void {
    const original = connection.handlePacket.bind(connection);
    connection.handlePacket = (packet?: RawPacket): void => {
      this.header = null;
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
        }
      }
      original(packet);
    };
  }

  private push(event: RawBinlogEvent): void {
    if (this.stopped) return;
    this.lastHeard = Date.now();
    // zongji emits a table map before it parses the row events that use it.
    if (event.getEventName() === 'tablemap') readJsonColumnsAsBytes(event);
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
