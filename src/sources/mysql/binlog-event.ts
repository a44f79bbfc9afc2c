/**
 * The binlog event envelope, as pure functions over Buffers: the 19-byte common header, the CRC32 checksum
 * trailer, and the small control events (rotate, format description, MariaDB GTID, XID, query, table map
 * header). zongji decodes the row images; this module lets the binlog client check every event's checksum
 * independently of it, and lets tests read captured binlog bytes.
 */
import { crc32 } from 'node:zlib';

/** Event type codes (MySQL `Log_event_type`, MariaDB additions from 160). */
export const enum BinlogEventType {
  QUERY = 2,
  STOP = 3,
  ROTATE = 4,
  INTVAR = 5,
  FORMAT_DESCRIPTION = 15,
  XID = 16,
  TABLE_MAP = 19,
  WRITE_ROWS_V1 = 23,
  UPDATE_ROWS_V1 = 24,
  DELETE_ROWS_V1 = 25,
  HEARTBEAT = 27,
  ROWS_QUERY = 29,
  WRITE_ROWS_V2 = 30,
  UPDATE_ROWS_V2 = 31,
  DELETE_ROWS_V2 = 32,
  GTID = 33,
  ANONYMOUS_GTID = 34,
  PREVIOUS_GTIDS = 35,
  TRANSACTION_PAYLOAD = 40,
  MARIADB_ANNOTATE_ROWS = 160,
  MARIADB_BINLOG_CHECKPOINT = 161,
  MARIADB_GTID = 162,
  MARIADB_GTID_LIST = 163,
  MARIADB_START_ENCRYPTION = 164,
}

export const EVENT_HEADER_LENGTH = 19;
export const CHECKSUM_LENGTH = 4;

export interface EventHeader {
  /** Seconds since the epoch. */
  readonly timestamp: number;
  readonly type: number;
  readonly serverId: number;
  /** Whole event, header and checksum included. */
  readonly length: number;
  /** Offset of the next event in the binlog file (0 for artificial events). */
  readonly nextPosition: number;
  readonly flags: number;
}

export function parseEventHeader(event: Buffer): EventHeader {
  if (event.length < EVENT_HEADER_LENGTH) throw new RangeError(`binlog event of ${event.length} bytes is shorter than its header`);
  return {
    timestamp: event.readUInt32LE(0),
    type: event.readUInt8(4),
    serverId: event.readUInt32LE(5),
    length: event.readUInt32LE(9),
    nextPosition: event.readUInt32LE(13),
    flags: event.readUInt16LE(17),
  };
}

/** Whether the event's last four bytes are the CRC32 of the rest (binlog_checksum = CRC32). */
export function checksumMatches(event: Buffer): boolean {
  if (event.length < EVENT_HEADER_LENGTH + CHECKSUM_LENGTH) return false;
  const body = event.subarray(0, event.length - CHECKSUM_LENGTH);
  return crc32(body) === event.readUInt32LE(event.length - CHECKSUM_LENGTH);
}

/** The event's data: after the header, before the checksum when there is one. */
function body(event: Buffer, checksum: boolean): Buffer {
  return event.subarray(EVENT_HEADER_LENGTH, event.length - (checksum ? CHECKSUM_LENGTH : 0));
}

export interface RotateEvent {
  readonly position: bigint;
  readonly file: string;
}

export function parseRotate(event: Buffer, checksum: boolean): RotateEvent {
  const data = body(event, checksum);
  return { position: data.readBigUInt64LE(0), file: data.subarray(8).toString('utf8') };
}

export interface FormatDescription {
  readonly binlogVersion: number;
  readonly serverVersion: string;
  readonly headerLength: number;
  /** 0 none, 1 CRC32; absent before checksums existed. */
  readonly checksumAlgorithm: number;
}

/** The format description event always ends in its checksum algorithm byte and (if any) the checksum. */
export function parseFormatDescription(event: Buffer): FormatDescription {
  const data = event.subarray(EVENT_HEADER_LENGTH);
  const serverVersion = data.subarray(2, 52).toString('latin1').replace(/\0.*$/s, '');
  const checksumAlgorithm = data.readUInt8(data.length - CHECKSUM_LENGTH - 1);
  return { binlogVersion: data.readUInt16LE(0), serverVersion, headerLength: data.readUInt8(56), checksumAlgorithm };
}

export interface MariadbGtidEvent {
  readonly domain: number;
  readonly server: number;
  readonly sequence: bigint;
  /** FL_STANDALONE: a group without BEGIN…COMMIT, such as DDL. */
  readonly standalone: boolean;
  readonly gtid: string;
}

export function parseMariadbGtid(event: Buffer, checksum: boolean): MariadbGtidEvent {
  const header = parseEventHeader(event);
  const data = body(event, checksum);
  const sequence = data.readBigUInt64LE(0);
  const domain = data.readUInt32LE(8);
  const flags = data.readUInt8(12);
  return { domain, server: header.serverId, sequence, standalone: (flags & 1) !== 0, gtid: `${domain}-${header.serverId}-${sequence}` };
}

export function parseXid(event: Buffer, checksum: boolean): bigint {
  return body(event, checksum).readBigUInt64LE(0);
}

export interface QueryEvent {
  readonly threadId: number;
  readonly database: string;
  readonly errorCode: number;
  readonly query: string;
}

export function parseQuery(event: Buffer, checksum: boolean): QueryEvent {
  const data = body(event, checksum);
  const threadId = data.readUInt32LE(0);
  const databaseLength = data.readUInt8(8);
  const errorCode = data.readUInt16LE(9);
  const statusLength = data.readUInt16LE(11);
  const databaseStart = 13 + statusLength;
  const database = data.subarray(databaseStart, databaseStart + databaseLength).toString('utf8');
  const query = data.subarray(databaseStart + databaseLength + 1).toString('utf8');
  return { threadId, database, errorCode, query };
}

export interface TableMapHeader {
  readonly tableId: bigint;
  readonly database: string;
  readonly table: string;
  readonly columnTypes: readonly number[];
}

export function parseTableMapHeader(event: Buffer, checksum: boolean): TableMapHeader {
  const data = body(event, checksum);
  const tableId = BigInt(data.readUIntLE(0, 6));
  let offset = 8; // table id (6) + flags (2)
  const dbLength = data.readUInt8(offset);
  const database = data.subarray(offset + 1, offset + 1 + dbLength).toString('utf8');
  offset += 1 + dbLength + 1;
  const tableLength = data.readUInt8(offset);
  const table = data.subarray(offset + 1, offset + 1 + tableLength).toString('utf8');
  offset += 1 + tableLength + 1;
  const [columnCount, width] = readLengthEncoded(data, offset);
  offset += width;
  return { tableId, database, table, columnTypes: [...data.subarray(offset, offset + columnCount)] };
}

/** A length-encoded integer (as in the client protocol): [value, bytes used]. */
export function readLengthEncoded(data: Buffer, offset: number): [number, number] {
  const first = data.readUInt8(offset);
  if (first < 0xfb) return [first, 1];
  if (first === 0xfc) return [data.readUInt16LE(offset + 1), 3];
  if (first === 0xfd) return [data.readUIntLE(offset + 1, 3), 4];
  if (first === 0xfe) return [Number(data.readBigUInt64LE(offset + 1)), 9];
  throw new RangeError(`0x${first.toString(16)} at ${offset} does not start a length-encoded integer`);
}
