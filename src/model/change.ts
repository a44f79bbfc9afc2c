/**
 * The neutral change model: what a source emits and what the pipeline, encoders and sinks consume.
 * Values are plain JavaScript values chosen so that nothing is lost between the database and the encoder.
 */
import type { TableSchema } from './schema.js';

/** Marks a value the source did not receive (an unchanged TOASTed column in PostgreSQL). */
export const UNAVAILABLE: unique symbol = Symbol('tributary.unavailable');

/**
 * The value of one column, by its FieldType kind:
 * boolean → boolean; int8/16/32 → number; int64 → bigint; float32/64 → number (NaN/±Infinity allowed);
 * decimal → exact decimal string ('-12.340'); string/uuid/json/xml/enum/set/timetz → string;
 * bytes → Uint8Array; bits → Uint8Array (big-endian, as Debezium's Bits) or boolean when length is 1;
 * date → days since 1970-01-01 (number); time → microseconds since midnight (bigint);
 * timestamp → microseconds since 1970-01-01 of the wall-clock value read as UTC (bigint);
 * timestamptz → ISO-8601 UTC string with the column's fractional digits ('2024-01-02T03:04:05.123456Z');
 * interval → microseconds (bigint, months as 30 days as Debezium does); year → number; array → Value[].
 */
export type Value =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | typeof UNAVAILABLE
  | readonly Value[];

export type Row = Readonly<Record<string, Value>>;

/** c = create, u = update, d = delete, r = read (snapshot), t = truncate: Debezium's op codes. */
export type Op = 'c' | 'u' | 'd' | 'r' | 't';

/** Where a source block says an event came from; the fields Debezium puts in `source`. */
export type SourceInfo = PostgresSourceInfo | MysqlSourceInfo;

interface CommonSourceInfo {
  /** The logical server name (the topic prefix). */
  readonly name: string;
  /** Commit time at the source, ms since epoch (snapshot: the read time). */
  readonly tsMs: number;
  /**
   * The same time in µs since epoch, when the source knows it that precisely (PostgreSQL's commit timestamp):
   * source.ts_us/ts_ns are written from it, else from tsMs. tsMs is floor(tsUs / 1000).
   */
  readonly tsUs?: bigint;
  /** 'true' for snapshot rows, 'last' for the last snapshot row, 'false' when streaming. */
  readonly snapshot: 'true' | 'last' | 'false' | 'incremental';
  readonly db: string;
  readonly table: string;
}

export interface PostgresSourceInfo extends CommonSourceInfo {
  readonly connector: 'postgresql';
  readonly schema: string;
  /** JSON array of [last commit LSN, current LSN] as strings, as Debezium writes it. */
  readonly sequence: string | null;
  readonly txId: bigint | null;
  readonly lsn: bigint | null;
  readonly xmin: bigint | null;
}

export interface MysqlSourceInfo extends CommonSourceInfo {
  /** The server's flavor: Debezium's MySQL and MariaDB connectors name themselves and their source block apart. */
  readonly connector: 'mysql' | 'mariadb';
  readonly serverId: bigint;
  readonly gtid: string | null;
  readonly file: string;
  readonly pos: bigint;
  readonly row: number;
  readonly thread: bigint | null;
  readonly query: string | null;
}

/**
 * `id` is what Debezium writes, which need not be the same for every event of a transaction (PostgreSQL's is
 * `<xid>:<LSN>` with the LSN of the event at hand). `scope` identifies the transaction itself: the same on its
 * begin, its changes and its end, and unique among transactions; it is never written out.
 */
export interface TransactionInfo {
  readonly id: string;
  readonly scope: string;
  readonly totalOrder: bigint;
  readonly dataCollectionOrder: bigint;
}

export interface ChangeEvent {
  readonly type: 'change';
  readonly op: Op;
  readonly schema: TableSchema;
  /** Null for c and r; for u and d the old row (key columns only unless the table logs full rows). */
  readonly before: Row | null;
  /** Null for d and t. */
  readonly after: Row | null;
  readonly source: SourceInfo;
  readonly transaction: TransactionInfo | null;
  /** Where to resume so that this event is not read again; an opaque serialized source position. */
  readonly position: string;
}

/** Transaction boundaries, for Debezium's transaction topic and for checkpointing at commit points. */
export interface TransactionEvent {
  readonly type: 'begin' | 'end';
  /** What the transaction topic's key and value carry; `scope` as on TransactionInfo. */
  readonly id: string;
  readonly scope: string;
  readonly tsMs: number;
  /** Only on 'end': events per table in the transaction, keyed by `db.schema.table` / `db.table`. */
  readonly counts?: ReadonlyMap<string, number>;
  readonly position: string;
}

/** No change to emit, but the source moved on (idle tables, keepalives): a checkpoint candidate. */
export interface HeartbeatEvent {
  readonly type: 'heartbeat';
  readonly position: string;
}

export type SourceEvent = ChangeEvent | TransactionEvent | HeartbeatEvent;
