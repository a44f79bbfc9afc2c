/**
 * The binlog connection: zongji (binlog dump over mysql2, control events, MariaDB GTID events) turned into a pull
 * queue. Table maps and rows events are not zongji's to decode: they are taken from the raw packets, table maps
 * parsed by table-map.ts, rows events queued as bytes for the stream to decode with rows-event.ts, all in binlog
 * order. When the queue holds `highWater` events the socket is paused, so a slow consumer stops the server from
 * sending rather than filling memory. The server is asked for heartbeats, and a connection that stays silent for
 * three heartbeat periods is reported dead.
 */
import ZongJi from '@vlasky/zongji';
import { ConnectionError } from '../../model/errors.js';
import type { MysqlConnectionConfig } from './connection.js';
import { mysql2Options } from './connection.js';
import { classifyMysqlError, type Flavor } from './errors.js';
import { BinlogEventType, CHECKSUM_LENGTH, checksumMatches, EVENT_HEADER_LENGTH, parseEventHeader, type EventHeader } from './binlog-event.js';
import { rowsEventOp, rowsEventTableId, type RowsOp } from './rows-event.js';
import { parseTableMap, tableMapId, tableMapTarget, type TableMap } from './table-map.js';

/** The event fields the stream reads: zongji's events, and the table maps and rows events the client queues. */
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
  /**
   * tablemap: the table map of a captured table; rows: the one in force for its table id. The same object for as
   * long as the table id's table map events carry the same bytes.
   */
  readonly tableMap?: TableMap;
  /** rows (writerows / updaterows / deleterows): the whole event, header and checksum included. */
  readonly rowsEvent?: Buffer;
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
  /** The server's flavor, which table maps are read by. */
  readonly flavor: Flavor;
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

/** What zongji decodes: everything but table maps and rows events, which it then skips unparsed (see tapPackets). */
const EVENTS = ['rotate', 'query', 'xid', 'mariadbgtid', 'gtid', 'heartbeat'];

const TABLE_MAP_NAME = (): string => 'tablemap';

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
  /** database → captured tables. */
  private readonly captured: ReadonlyMap<string, ReadonlySet<string>>;
  /** The last table map event of each captured table's table id: its body and what it parsed to. */
  private readonly tableMaps = new Map<number, { readonly body: Buffer; readonly map: TableMap }>();

  constructor(private readonly options: BinlogClientOptions) {
    this.captured = new Map(Object.entries(options.tables).map(([database, tables]) => [database, new Set(tables)]));
    this.zongji = new ZongJi(mysql2Options(options.connection) as ConstructorParameters<typeof ZongJi>[0]);
    this.zongji.on('binlog', (event) => this.push(event as unknown as RawBinlogEvent));
    this.zongji.on('error', (error: unknown) => this.fail(classifyMysqlError(error, 'reading the binlog')));
  }

  start(): void {
    const start = this.options.start;
    this.zongji.start({
      serverId: this.options.replicaServerId,
      includeEvents: EVENTS,
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
   * transaction's start), to learn where the event starts (zongji reports only where it ends), and to queue table
   * maps and rows events, which zongji skips unparsed as they are not among its includeEvents.
   *
   * Binlog order holds: zongji handles a packet synchronously, emitting its event (if any) before handlePacket
   * returns, and this queues a packet's table map or rows event after that. Back-pressure pauses the connection,
   * and a paused mysql2 connection queues the packets that arrive and hands each to handlePacket again on resume;
   * so a packet is read here only while the connection is not paused, when zongji gets it too.
   */
  private tapPackets(connection: TappableConnection): void {
    const original = connection.handlePacket.bind(connection);
    connection.handlePacket = (packet?: RawPacket): void => {
      if (connection._paused === true) {
        original(packet); // queued; back here on resume
        return;
      }
      this.header = null;
      let ours: RawBinlogEvent | null = null;
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
          try {
            ours = header.type === BinlogEventType.TABLE_MAP ? this.tableMapEvent(event, header) : this.rowsEvent(event, header);
          } catch (error) {
            this.fail(error as Error);
            return;
          }
        }
      }
      original(packet);
      if (ours !== null) this.push(ours);
    };
  }

  /**
   * A table map of a captured table, as the stream reads it; null for another table's. A table id's table maps
   * are parsed anew only when their bytes change (after the header, before the checksum): otherwise the event
   * carries the table map parsed before, the same object, which the stream's caches know.
   */
  private tableMapEvent(event: Buffer, header: EventHeader): RawBinlogEvent | null {
    const { checksum, flavor } = this.options;
    const tableId = tableMapId(event);
    const body = event.subarray(EVENT_HEADER_LENGTH, event.length - (checksum ? CHECKSUM_LENGTH : 0));
    let known = this.tableMaps.get(tableId);
    if (known === undefined || !known.body.equals(body)) {
      const target = tableMapTarget(event, checksum);
      if (this.captured.get(target.database)?.has(target.table) !== true) {
        this.tableMaps.delete(tableId); // its rows events are not ours either
        return null;
      }
      // A copy: the event is a view of the socket's chunk, which holding on to would keep whole.
      known = { body: Buffer.from(body), map: parseTableMap(event, { checksum, flavor }) };
      this.tableMaps.set(tableId, known);
    }
    return { getEventName: TABLE_MAP_NAME, timestamp: header.timestamp * 1000, nextPosition: header.nextPosition, tableMap: known.map };
  }

  /**
   * A rows event of a captured table, as the stream reads it; null for any other event. The bytes are the socket
   * chunk's, which mysql2 never reuses.
   */
  private rowsEvent(event: Buffer, header: EventHeader): RawBinlogEvent | null {
    const op = rowsEventOp(header.type);
    if (op === undefined) return null;
    const tableMap = this.tableMaps.get(rowsEventTableId(event))?.map;
    if (tableMap === undefined) return null;
    return {
      getEventName: ROWS_EVENT_NAMES[op],
      timestamp: header.timestamp * 1000,
      nextPosition: header.nextPosition,
      gtid: this.zongji.lastGtid,
      tableMap,
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
