/**
 * The binlog event envelope, as pure functions over Buffers: the 19-byte common header, the CRC32 checksum
 * trailer, MariaDB's compressed payloads, and the small control events (rotate, format description, MariaDB and
 * MySQL GTID, previous GTIDs, XID, query). The binlog client decodes the events it streams with these
 * (table-map.ts and rows-event.ts decode the rest); tests read captured binlog bytes.
 */
import { crc32, inflateSync } from 'node:zlib';
import { SourceError } from '../../model/errors.js';
import { MysqlGtidSet } from './position.js';

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
  XA_PREPARE = 38,
  /** binlog_row_value_options = PARTIAL_JSON. */
  PARTIAL_UPDATE_ROWS = 39,
  /** binlog_transaction_compression = ON. */
  TRANSACTION_PAYLOAD = 40,
  /** MySQL 8.3+: the GTID of a transaction whose GTID has a tag. */
  GTID_TAGGED = 42,
  MARIADB_ANNOTATE_ROWS = 160,
  MARIADB_BINLOG_CHECKPOINT = 161,
  MARIADB_GTID = 162,
  MARIADB_GTID_LIST = 163,
  MARIADB_START_ENCRYPTION = 164,
  /** log_bin_compress=ON: a query event whose statement is compressed. */
  MARIADB_QUERY_COMPRESSED = 165,
  /** log_bin_compress=ON: the row images zlib-compressed, v1 layout (166–168) and v2 layout (169–171). */
  MARIADB_WRITE_ROWS_COMPRESSED_V1 = 166,
  MARIADB_UPDATE_ROWS_COMPRESSED_V1 = 167,
  MARIADB_DELETE_ROWS_COMPRESSED_V1 = 168,
  MARIADB_WRITE_ROWS_COMPRESSED = 169,
  MARIADB_UPDATE_ROWS_COMPRESSED = 170,
  MARIADB_DELETE_ROWS_COMPRESSED = 171,
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
  if (data.length <= 8) throw new RangeError(`rotate event of ${event.length} bytes names no binlog file`);
  return { position: data.readBigUInt64LE(0), file: data.toString('utf8', 8) };
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

/**
 * A Query_log_event (2), or MariaDB's Query_compressed_log_event (165), whose statement is a compressed payload:
 * thread id(4) exec time(4) database length(1) error code(2) status vars length(2), the status vars, the
 * database and a NUL, then the statement to the end.
 */
export function parseQuery(event: Buffer, checksum: boolean): QueryEvent {
  const data = body(event, checksum);
  const threadId = data.readUInt32LE(0);
  const databaseLength = data.readUInt8(8);
  const errorCode = data.readUInt16LE(9);
  const statusLength = data.readUInt16LE(11);
  const databaseStart = 13 + statusLength;
  const queryStart = databaseStart + databaseLength + 1;
  if (queryStart > data.length) throw new RangeError(`query event of ${event.length} bytes ends before its statement`);
  const database = data.toString('utf8', databaseStart, databaseStart + databaseLength);
  const statement = data.subarray(queryStart);
  const compressed = event.readUInt8(4) === BinlogEventType.MARIADB_QUERY_COMPRESSED;
  const query = (compressed ? inflateEventPayload(statement, `compressed query event of thread ${threadId}`) : statement).toString('utf8');
  return { threadId, database, errorCode, query };
}

/**
 * MariaDB's compressed event payload (log_bin_compress; sql/log_event.cc binlog_buf_uncompress): a header byte
 * (bit 7 set, algorithm 0 = zlib in bits 4–6, the width of the length in bits 0–2), the uncompressed length
 * big-endian, then the zlib stream. `what` names the payload in errors.
 */
export function inflateEventPayload(payload: Buffer, what: string): Buffer {
  const header = payload.length === 0 ? 0 : payload.readUInt8(0);
  const lengthBytes = header & 0x07;
  if ((header & 0xf0) !== 0x80 || lengthBytes < 1 || lengthBytes > 4 || payload.length < 1 + lengthBytes) {
    throw new SourceError(`${what} has an unknown header byte 0x${header.toString(16)}`);
  }
  const length = payload.readUIntBE(1, lengthBytes);
  const inflated = inflate(() => inflateSync(payload.subarray(1 + lengthBytes)), what);
  if (inflated.length !== length) throw new SourceError(`${what} inflates to ${inflated.length} bytes, not the ${length} it declares`);
  return inflated;
}

/** zlib's result, or a SourceError naming `what` when the bytes are not what zlib wrote. */
export function inflate(run: () => Buffer, what: string): Buffer {
  try {
    return run();
  } catch (error) {
    throw new SourceError(`${what} does not inflate: ${(error as Error).message}`);
  }
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

/** The GNO_END bound of Gtid_event's sanity check: a GTID's transaction number is below it. */
const GNO_END = 2n ** 63n - 1n;
/** Gtid_event's lt_type when the logical clock follows. */
const LOGICAL_TIMESTAMP_TYPECODE = 2;

export interface MysqlGtidEvent {
  /** Bit 0, FLAG_MAY_HAVE_SBR: the transaction may hold statement-based events. */
  readonly flags: number;
  readonly uuid: string;
  readonly gno: bigint;
  /** `uuid:gno`; null for an Anonymous_gtid event (gtid_mode OFF). */
  readonly gtid: string | null;
  /** The logical clock (absent before MySQL 5.7.6): the transaction's dependency and its own commit sequence. */
  readonly lastCommitted: bigint | null;
  readonly sequenceNumber: bigint | null;
  /** Commit times in microseconds since the epoch, here and at the originating server (MySQL 8.0.1+). */
  readonly immediateCommitMicros: bigint | null;
  readonly originalCommitMicros: bigint | null;
  /** Bytes of the whole transaction in the binlog, this event included (MySQL 8.0.2+). */
  readonly transactionLength: number | null;
}

/**
 * A Gtid_log_event (33) or Anonymous_gtid_log_event (34) in MySQL's untagged layout (libs/mysql/binlog/event/
 * control_events.cpp): flags(1) SID(16) GNO(8) then, each only if present, lt_type(1)=2 last_committed(8)
 * sequence_number(8), immediate_commit_timestamp(7, bit 55 set when original_commit_timestamp(7) follows),
 * transaction_length (length-encoded), immediate/original server versions and the commit group ticket.
 */
export function parseMysqlGtid(event: Buffer, checksum: boolean): MysqlGtidEvent {
  const header = parseEventHeader(event);
  const data = body(event, checksum);
  const flags = data.readUInt8(0);
  const uuid = formatUuid(data.subarray(1, 17));
  const gno = data.readBigInt64LE(17);
  const anonymous = header.type === BinlogEventType.ANONYMOUS_GTID;
  if (anonymous ? gno !== 0n : gno < 1n || gno >= GNO_END) {
    throw new RangeError(`${anonymous ? 'anonymous ' : ''}GTID event ending at ${header.nextPosition} has invalid GNO ${gno}`);
  }
  return { flags, uuid, gno, gtid: anonymous ? null : `${uuid}:${gno}`, ...gtidEventTail(data.subarray(25)) };
}

type GtidEventTail = Omit<MysqlGtidEvent, 'flags' | 'uuid' | 'gno' | 'gtid'>;

/** The fields after the GNO, each absent in events from servers older than it. */
function gtidEventTail(data: Buffer): GtidEventTail {
  const tail: GtidEventTail = {
    lastCommitted: null,
    sequenceNumber: null,
    immediateCommitMicros: null,
    originalCommitMicros: null,
    transactionLength: null,
  };
  if (data.length < 17 || data.readUInt8(0) !== LOGICAL_TIMESTAMP_TYPECODE) return tail;
  const clock = { lastCommitted: data.readBigInt64LE(1), sequenceNumber: data.readBigInt64LE(9) };
  if (data.length < 17 + 7) return { ...tail, ...clock };
  const stamp = (at: number): bigint => BigInt(data.readUIntLE(at, 6)) | (BigInt(data.readUInt8(at + 6)) << 48n);
  const immediate = stamp(17);
  const originalFollows = (immediate & (1n << 55n)) !== 0n;
  const immediateCommitMicros = immediate & ~(1n << 55n);
  const originalCommitMicros = originalFollows ? stamp(24) : immediateCommitMicros;
  const lengthAt = originalFollows ? 31 : 24;
  const transactionLength = data.length > lengthAt ? readLengthEncoded(data, lengthAt)[0] : null;
  return { ...clock, immediateCommitMicros, originalCommitMicros, transactionLength };
}

export interface TaggedGtidEvent {
  readonly flags: number;
  readonly uuid: string;
  readonly tag: string;
  readonly gno: bigint;
  /** `uuid:tag:gno`. */
  readonly gtid: string;
}

/** Gtid_event's fields in the tagged layout, by field id (Gtid_event::define_fields). */
const enum TaggedGtidField {
  FLAGS = 0,
  UUID = 1,
  GNO = 2,
  TAG = 3,
}
/** Field ids a reader must know to read the event: the fields of MySQL 8.4 (ids 0–11). */
const TAGGED_GTID_KNOWN_FIELDS = 12n;
/** libs/mysql/gtid/tag.h tag_max_length. */
const TAG_MAX_LENGTH = 32;

/**
 * A Gtid_tagged_log_event (42, MySQL 8.3+, written for a transaction whose GTID has a tag): one mysql::serialization
 * message (libs/mysql/serialization) of varints: format version (1), the message's size in bytes from its start,
 * the last non-ignorable field id, then each field present as its id and value in ascending id order, absent
 * fields taking their defaults. The UUID is 16 varints, the GNO a signed varint, the tag a varint length and its
 * bytes. The fields after the tag (logical clock, commit times, lengths, versions) are not read.
 */
export function parseTaggedGtid(event: Buffer, checksum: boolean): TaggedGtidEvent {
  const header = parseEventHeader(event);
  const data = body(event, checksum);
  const reader = new VarintReader(data, data.length, `tagged GTID event ending at ${header.nextPosition}`);
  const version = reader.unsigned();
  if (version !== 1n) throw new RangeError(`${reader.what} has serialization format version ${version}, not 1`);
  const size = Number(reader.unsigned());
  if (size > data.length) throw new RangeError(`${reader.what} declares a message of ${size} bytes in ${data.length}`);
  reader.end = size;
  const lastNonIgnorable = reader.unsigned();
  if (lastNonIgnorable >= TAGGED_GTID_KNOWN_FIELDS) {
    throw new RangeError(`${reader.what} needs field ${lastNonIgnorable} to be read, which MySQL 8.4 did not write`);
  }
  let flags = 0;
  if (reader.nextFieldIs(TaggedGtidField.FLAGS)) flags = Number(reader.unsigned());
  if (!reader.nextFieldIs(TaggedGtidField.UUID)) throw new RangeError(`${reader.what} has no source UUID`);
  const uuidBytes = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) uuidBytes[i] = Number(reader.unsigned());
  if (!reader.nextFieldIs(TaggedGtidField.GNO)) throw new RangeError(`${reader.what} has no GNO`);
  const gno = reader.signed();
  if (gno < 1n || gno >= GNO_END) throw new RangeError(`${reader.what} has invalid GNO ${gno}`);
  let tag = '';
  if (reader.nextFieldIs(TaggedGtidField.TAG)) {
    const length = Number(reader.unsigned());
    if (length > TAG_MAX_LENGTH) throw new RangeError(`${reader.what} has a tag of ${length} bytes, longer than ${TAG_MAX_LENGTH}`);
    tag = reader.bytes(length).toString('latin1');
  }
  const uuid = formatUuid(uuidBytes);
  return { flags, uuid, tag, gno, gtid: tag === '' ? `${uuid}:${gno}` : `${uuid}:${tag}:${gno}` };
}

/**
 * mysql::serialization's variable-length integers (libs/mysql/serialization/variable_length_integers.h): the
 * number of trailing one bits of the first byte is the count of bytes that follow (8 at most); the value is the
 * rest of the first byte then those bytes, little-endian. A signed value v is stored as 2v, or -2v-1 when negative.
 */
class VarintReader {
  private offset = 0;

  constructor(
    private readonly data: Buffer,
    /** Where the message ends: reads beyond it fail. */
    public end: number,
    readonly what: string,
  ) {}

  unsigned(): bigint {
    const first = this.bytes(1)[0]!;
    let extra = 0;
    while (extra < 8 && ((first >> extra) & 1) === 1) extra++;
    const rest = this.bytes(extra);
    let value = 0n;
    for (let i = extra - 1; i >= 0; i--) value = (value << 8n) | BigInt(rest[i]!);
    return extra === 8 ? value : (value << BigInt(7 - extra)) | BigInt(first >> (extra + 1));
  }

  signed(): bigint {
    const value = this.unsigned();
    return (value & 1n) === 1n ? -(value >> 1n) - 1n : value >> 1n;
  }

  bytes(count: number): Buffer {
    if (this.offset + count > this.end) throw new RangeError(`${this.what} ends inside a field`);
    const out = this.data.subarray(this.offset, this.offset + count);
    this.offset += count;
    return out;
  }

  /** Whether the next field is `id`, whose id is then read: ids below 128 are one byte, twice the id. */
  nextFieldIs(id: number): boolean {
    if (this.offset >= this.end || this.data[this.offset] !== id << 1) return false;
    this.offset++;
    return true;
  }
}

/** The Previous_gtids_log_event (35) body: the GTID set executed before this binlog file, as MySQL prints it. */
export function parsePreviousGtids(event: Buffer, checksum: boolean): string {
  return decodeGtidSet(body(event, checksum));
}

/**
 * Gtid_set::encode (sql/rpl_gtid_set.cc), the form of Previous_gtids and of COM_BINLOG_DUMP_GTID's set: a u64
 * whose top byte is the format, then per source a 16-byte UUID, in the tagged format (1, MySQL 8.3+; the source
 * count then sits in bits 8–55) a tag of one length byte (length << 1) and its bytes, then a u64 interval count
 * and per interval u64 start and u64 end, the end exclusive. All integers little-endian.
 */
export function decodeGtidSet(data: Buffer): string {
  const head = data.readBigUInt64LE(0);
  const format = Number(head >> 56n);
  if (format !== 0 && format !== 1) throw new RangeError(`GTID set encoding format ${format} is neither untagged (0) nor tagged (1)`);
  const sources = Number(format === 1 ? (head >> 8n) & 0xffff_ffff_ffffn : head & 0xff_ffff_ffff_ffffn);
  const members: string[] = [];
  let offset = 8;
  for (let s = 0; s < sources; s++) {
    const uuid = formatUuid(data.subarray(offset, offset + 16));
    offset += 16;
    let tag = '';
    if (format === 1) {
      const lengthByte = data.readUInt8(offset);
      if ((lengthByte & 1) !== 0) throw new RangeError(`GTID tag length byte 0x${lengthByte.toString(16)} at ${offset} is not one byte`);
      tag = data.toString('latin1', offset + 1, offset + 1 + (lengthByte >> 1));
      offset += 1 + (lengthByte >> 1);
    }
    const count = Number(data.readBigUInt64LE(offset));
    offset += 8;
    const intervals: string[] = [];
    for (let i = 0; i < count; i++, offset += 16) {
      const start = data.readBigUInt64LE(offset);
      const end = data.readBigUInt64LE(offset + 8) - 1n;
      intervals.push(start === end ? `${start}` : `${start}-${end}`);
    }
    members.push([uuid, ...(tag === '' ? [] : [tag]), ...intervals].join(':'));
  }
  if (offset !== data.length) throw new RangeError(`GTID set encoding has ${data.length - offset} bytes after its last source`);
  return MysqlGtidSet.parse(members.join(',')).toString();
}

/** 16 bytes → the dashed lower-case form MySQL prints. */
function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
