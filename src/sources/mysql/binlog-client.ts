/**
 * The binlog connection turned into a pull queue of decoded events. zongji opens the connection, runs the dump
 * preamble (checksum, MariaDB's GTID capability and start position) and sends the dump command; every binlog
 * event packet is then taken from mysql2 before zongji sees it and decoded here, in binlog order: control events
 * with binlog-event.ts, table maps with table-map.ts, rows events queued as bytes for the stream to decode with
 * rows-event.ts. When the queue holds `highWater` events the socket is paused, so a slow consumer stops the server
 * from sending rather than filling memory. The server is asked for heartbeats, and a connection that stays silent
 * for three heartbeat periods is reported dead.
 */
import ZongJi from '@vlasky/zongji';
import { ConnectionError, SourceError, TributaryError } from '../../model/errors.js';
import type { MysqlConnectionConfig } from './connection.js';
import { mysql2Options } from './connection.js';
import { classifyMysqlError, type Flavor } from './errors.js';
import {
  BinlogEventType,
  CHECKSUM_LENGTH,
  checksumMatches,
  EVENT_HEADER_LENGTH,
  parseEventHeader,
  parseMariadbGtid,
  parseMysqlGtid,
  parseQuery,
  parseRotate,
  parseTaggedGtid,
  type EventHeader,
} from './binlog-event.js';
import { rowsEventOp, rowsEventTableId } from './rows-event.js';
import { parseTableMap, tableMapId, tableMapTarget, type TableMap } from './table-map.js';
import { rawBinlogEvent, type RawBinlogEvent, type RawEventDetails, type RawEventType } from './raw-event.js';

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
  /** binlog_checksum is CRC32: every event ends in its CRC32, checked before it is decoded. */
  readonly checksum: boolean;
  /** The server's flavor, which table maps are read by. */
  readonly flavor: Flavor;
  /** The server started sending the binlog (its first event arrived: it always opens with a rotate event). */
  readonly onStreaming?: () => void;
  /** The connection failed (once, as it happens, not when the consumer reaches the failure in the queue). */
  readonly onFailure?: (error: Error) => void;
}

/** The parts of a mysql2 connection and packet the tap touches (mysql2 internals: lib/base/connection.js). */
interface TappableConnection {
  handlePacket(packet?: RawPacket): void;
  _command?: { constructor: { name: string } };
  /** While set, handlePacket queues packets (clones sharing the buffer) and handles them again on resume. */
  _paused?: boolean;
  /** Once set, handlePacket drops every packet. */
  _fatalError?: unknown;
  /** The sequence id the next packet from the server must carry. */
  sequenceId: number;
}

interface RawPacket {
  readonly sequenceId: number;
  readonly buffer: Buffer;
  readonly offset: number;
  readonly end: number;
}

/** A protocol packet's largest payload: a longer one is split into packets of this size and a shorter last one. */
const MAX_PACKET_LENGTH = 0xff_ffff;

/** The statements (trimmed) of the Query events that end an event group, as zongji's GTID bookkeeping told them. */
const CLOSING_QUERY = /^(?:COMMIT|ROLLBACK)$|^XA (?:COMMIT|ROLLBACK)/i;

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
  /** The GTID of the event group being read (see RawBinlogEvent.gtid). */
  private gtid: string | undefined = undefined;
  /** database → captured tables. */
  private readonly captured: ReadonlyMap<string, ReadonlySet<string>>;
  /** The last table map event of each captured table's table id: its body and what it parsed to. */
  private readonly tableMaps = new Map<number, { readonly body: Buffer; readonly map: TableMap }>();

  constructor(private readonly options: BinlogClientOptions) {
    this.captured = new Map(Object.entries(options.tables).map(([database, tables]) => [database, new Set(tables)]));
    this.zongji = new ZongJi(mysql2Options(options.connection) as ConstructorParameters<typeof ZongJi>[0]);
    this.zongji.on('error', (error: unknown) => this.fail(classifyMysqlError(error, 'reading the binlog')));
  }

  start(): void {
    const start = this.options.start;
    this.zongji.start({
      serverId: this.options.replicaServerId,
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
   * Takes each binlog event packet (a 0x00 marker, then the event) as mysql2 hands it to zongji's Binlog command,
   * and reads it here instead, doing mysql2's bookkeeping of it: the sequence id. EOF and error packets, and
   * every packet of the commands before the dump, go on to mysql2 and zongji, which end the dump on them.
   *
   * Binlog order holds: packets are read one by one as they arrive, each decoded and queued before the next.
   * Back-pressure pauses the connection, and a paused mysql2 connection queues the packets that arrive and hands
   * each to handlePacket again on resume; so a packet is read here only while the connection is not paused.
   */
  private tapPackets(connection: TappableConnection): void {
    const original = connection.handlePacket.bind(connection);
    connection.handlePacket = (packet?: RawPacket): void => {
      if (
        packet === undefined ||
        connection._paused === true ||
        connection._fatalError != null ||
        packet.buffer[packet.offset] !== 0x00 ||
        connection._command?.constructor.name !== 'Binlog'
      ) {
        original(packet); // queued while paused: back here on resume
        return;
      }
      if (packet.sequenceId !== connection.sequenceId) {
        this.fail(new ConnectionError(`binlog packet ${packet.sequenceId} arrived where ${connection.sequenceId} was due: the stream lost packets`));
        return;
      }
      // A clone (as a paused connection queues) does not keep numPackets, which the payload's length tells.
      connection.sequenceId = (connection.sequenceId + Math.floor((packet.end - packet.offset) / MAX_PACKET_LENGTH) + 1) % 256;
      this.read(packet.buffer.subarray(packet.offset + 1, packet.end));
    };
  }

  /**
   * Checks an event's CRC32 (a mismatch fails the connection, which is reopened at the current transaction's
   * start), decodes it and queues it if the stream reads its type.
   */
  private read(event: Buffer): void {
    this.lastHeard = Date.now();
    if (!this.streaming) {
      this.streaming = true;
      this.options.onStreaming?.();
    }
    const header = event.length >= EVENT_HEADER_LENGTH ? parseEventHeader(event) : null;
    if (header === null || header.length !== event.length) {
      this.fail(new ConnectionError(`binlog event packet of ${event.length} bytes holds an event of ${header?.length ?? 'fewer than 19'} bytes`));
      return;
    }
    if (this.options.checksum) {
      if (!checksumMatches(event)) {
        this.fail(new ConnectionError(`binlog event of type ${header.type} ending at ${header.nextPosition} fails its CRC32 check`));
        return;
      }
      this.verified++;
    }
    let decoded: RawBinlogEvent | null;
    try {
      decoded = this.decode(event, header);
    } catch (error) {
      this.fail(
        error instanceof TributaryError
          ? error
          : new SourceError(`binlog event of type ${header.type} ending at ${header.nextPosition} does not decode: ${(error as Error).message}`, { cause: error }),
      );
      return;
    }
    if (decoded !== null) this.push(decoded);
  }

  /**
   * The event as the stream reads it, or null for one it does not read. Keeps the GTID of the event group being
   * read, which every event carries: set by a GTID event, cleared after the group's commit.
   */
  private decode(event: Buffer, header: EventHeader): RawBinlogEvent | null {
    const checksum = this.options.checksum;
    switch (header.type) {
      case BinlogEventType.TABLE_MAP:
        return this.tableMapEvent(event, header);
      case BinlogEventType.MARIADB_GTID: {
        const gtid = parseMariadbGtid(event, checksum);
        this.gtid = gtid.gtid;
        return this.event('mariadbgtid', header, { standalone: gtid.standalone });
      }
      case BinlogEventType.GTID:
        this.gtid = parseMysqlGtid(event, checksum).gtid!;
        return this.event('gtid', header);
      case BinlogEventType.GTID_TAGGED:
        this.gtid = parseTaggedGtid(event, checksum).gtid;
        return this.event('gtid', header);
      case BinlogEventType.ANONYMOUS_GTID:
        this.gtid = undefined; // a group without a GTID: the last one's must not label its events
        return null;
      case BinlogEventType.QUERY:
      case BinlogEventType.MARIADB_QUERY_COMPRESSED: {
        const query = parseQuery(event, checksum);
        const decoded = this.event('query', header, { query: query.query, database: query.database, threadId: query.threadId });
        if (CLOSING_QUERY.test(query.query.trim())) this.gtid = undefined;
        return decoded;
      }
      case BinlogEventType.XID: {
        const decoded = this.event('xid', header);
        this.gtid = undefined;
        return decoded;
      }
      case BinlogEventType.XA_PREPARE:
        this.gtid = undefined; // the group ends here; its XA COMMIT comes as a group of its own
        return null;
      case BinlogEventType.ROTATE: {
        const rotate = parseRotate(event, checksum);
        return this.event('rotate', header, { file: rotate.file, position: Number(rotate.position) });
      }
      case BinlogEventType.HEARTBEAT:
        return this.event('heartbeat', header);
      case BinlogEventType.TRANSACTION_PAYLOAD:
      case BinlogEventType.PARTIAL_UPDATE_ROWS:
        throw unsupportedEvent(header.type);
      default:
        return this.rowsEvent(event, header);
    }
  }

  /** A decoded event of the group being read, with its header's fields. */
  private event(type: RawEventType, header: EventHeader, details?: RawEventDetails): RawBinlogEvent {
    const { timestamp, nextPosition, length } = header;
    return rawBinlogEvent(type, timestamp * 1000, nextPosition, nextPosition > 0 ? nextPosition - length : undefined, this.gtid, details);
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
    return this.event('tablemap', header, { tableMap: known.map });
  }

  /**
   * A rows event of a captured table, as the stream reads it; null for any other event. The bytes are the socket
   * chunk's, which mysql2 never reuses.
   */
  private rowsEvent(event: Buffer, header: EventHeader): RawBinlogEvent | null {
    if (rowsEventOp(header.type) === undefined) return null;
    const tableMap = this.tableMaps.get(rowsEventTableId(event))?.map;
    if (tableMap === undefined) return null;
    return this.event('rows', header, { tableMap, rowsEvent: event });
  }

  private push(event: RawBinlogEvent): void {
    // Nothing after a failure: the consumer must not read past the event that failed.
    if (this.stopped || this.failure !== null) return;
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

/** Events whose row changes cannot be read, which the server's settings should have ruled out (see errors.ts). */
function unsupportedEvent(type: number): SourceError {
  const [what, setting] =
    type === BinlogEventType.TRANSACTION_PAYLOAD
      ? ['a compressed transaction', 'binlog_transaction_compression = OFF']
      : ['a partial JSON update', "binlog_row_value_options = ''"];
  return new SourceError(`the binlog holds ${what} (event type ${type}), whose row changes cannot be read`, {
    fix: `set ${setting} on the server (SET GLOBAL and my.cnf), then delete this source's checkpoint so that it starts over with a new snapshot`,
  });
}
