/** The binlog events BinlogClient hands the stream, in one plain shape whatever their type. */
import type { TableMap } from './table-map.js';

/** The events the stream is handed; the binlog's other events (format description, GTID lists...) are not. */
export type RawEventType = 'rotate' | 'mariadbgtid' | 'gtid' | 'query' | 'tablemap' | 'rows' | 'xid' | 'heartbeat';

/**
 * A binlog event as the stream reads it. Every event has every field, undefined where its type has none
 * (rawBinlogEvent makes them so), so that all share one shape and the stream's reads of them stay monomorphic.
 */
export interface RawBinlogEvent {
  readonly type: RawEventType;
  /** Milliseconds since the epoch (the header's seconds). */
  readonly timestamp: number;
  /** Offset of the next event in the binlog file, from the header; 0 for artificial events. */
  readonly nextPosition: number;
  /** Offset of the event itself; undefined where nextPosition is 0. */
  readonly eventStart: number | undefined;
  /**
   * The GTID of the event group the event is part of (a GTID event's own), from its GTID event to its commit
   * (XID, COMMIT, ROLLBACK, XA COMMIT/ROLLBACK, XA PREPARE) or the next GTID event; undefined outside one, and
   * in a group that has none (MySQL with gtid_mode OFF).
   */
  readonly gtid: string | undefined;
  /** rotate: the binlog file and offset the stream goes on at. */
  readonly file: string | undefined;
  readonly position: number | undefined;
  /** query: the statement, its default database and the id of the thread that ran it. */
  readonly query: string | undefined;
  readonly database: string | undefined;
  readonly threadId: number | undefined;
  /** mariadbgtid: FL_STANDALONE, a group without BEGIN…COMMIT, such as DDL. */
  readonly standalone: boolean | undefined;
  /**
   * tablemap: the table map of a captured table; rows: the one in force for its table id. The same object for as
   * long as the table id's table map events carry the same bytes.
   */
  readonly tableMap: TableMap | undefined;
  /** rows: the whole event, header and checksum included. */
  readonly rowsEvent: Buffer | undefined;
}

/** The fields of a RawBinlogEvent that only some types have. */
export type RawEventDetails = Partial<Pick<RawBinlogEvent, 'file' | 'position' | 'query' | 'database' | 'threadId' | 'standalone' | 'tableMap' | 'rowsEvent'>>;

const NO_DETAILS: RawEventDetails = {};

/** A RawBinlogEvent, in the one shape all have. */
export function rawBinlogEvent(
  type: RawEventType,
  timestamp: number,
  nextPosition: number,
  eventStart: number | undefined,
  gtid: string | undefined,
  details: RawEventDetails = NO_DETAILS,
): RawBinlogEvent {
  return {
    type,
    timestamp,
    nextPosition,
    eventStart,
    gtid,
    file: details.file,
    position: details.position,
    query: details.query,
    database: details.database,
    threadId: details.threadId,
    standalone: details.standalone,
    tableMap: details.tableMap,
    rowsEvent: details.rowsEvent,
  };
}
