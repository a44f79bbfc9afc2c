/** Binlog events built by hand for decoder fixtures: the 19-byte common header, the body, and a CRC32 trailer. */
import { crc32, deflateSync } from 'node:zlib';

export interface EventOptions {
  readonly serverId?: number;
  readonly nextPosition?: number;
  readonly timestamp?: number;
  /** Append the CRC32 trailer (binlog_checksum = CRC32); true unless said otherwise. */
  readonly checksum?: boolean;
}

export function binlogEvent(type: number, body: Buffer, options: EventOptions = {}): Buffer {
  const checksum = options.checksum ?? true;
  const header = Buffer.alloc(19);
  header.writeUInt32LE(options.timestamp ?? 1_700_000_000, 0);
  header.writeUInt8(type, 4);
  header.writeUInt32LE(options.serverId ?? 1, 5);
  header.writeUInt32LE(19 + body.length + (checksum ? 4 : 0), 9);
  header.writeUInt32LE(options.nextPosition ?? 1000, 13);
  header.writeUInt16LE(0, 17);
  const event = Buffer.concat([header, body]);
  if (!checksum) return event;
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32LE(crc32(event));
  return Buffer.concat([event, trailer]);
}

export function uint64(value: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(value);
  return out;
}

export function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** A length-encoded integer, as the client protocol and table maps write it. */
export function lenenc(value: number): Buffer {
  if (value < 0xfb) return Buffer.from([value]);
  const [marker, width] = value < 0x1_0000 ? [0xfc, 2] : value < 0x100_0000 ? [0xfd, 3] : [0xfe, 8];
  const out = Buffer.alloc(1 + width);
  out[0] = marker;
  if (width === 8) out.writeBigUInt64LE(BigInt(value), 1);
  else out.writeUIntLE(value, 1, width);
  return out;
}

/** Strings each behind its length-encoded byte length, as COLUMN_NAME and the ENUM/SET values are written. */
export function lenencStrings(...values: (string | Buffer)[]): Buffer {
  return Buffer.concat(values.flatMap((value) => {
    const bytes = typeof value === 'string' ? Buffer.from(value) : value;
    return [lenenc(bytes.length), bytes];
  }));
}

export interface TableMapSpec {
  readonly tableId?: number;
  readonly database?: string;
  readonly table?: string;
  /** Each column's type code and metadata bytes. */
  readonly columns: readonly (readonly [type: number, metadata?: readonly number[]])[];
  /** Optional metadata fields, in order: type and value. */
  readonly fields?: readonly (readonly [type: number, value: Buffer])[];
}

/** The body of a TABLE_MAP event, for binlogEvent(19, …); every column nullable. */
export function tableMapBody(spec: TableMapSpec): Buffer {
  const head = Buffer.alloc(8);
  head.writeUIntLE(spec.tableId ?? 77, 0, 6);
  const name = (value: string): Buffer => Buffer.concat([Buffer.from([Buffer.byteLength(value)]), Buffer.from(value), Buffer.from([0])]);
  const metadata = Buffer.from(spec.columns.flatMap(([, bytes = []]) => bytes));
  const count = spec.columns.length;
  return Buffer.concat([
    head,
    name(spec.database ?? 'db'),
    name(spec.table ?? 't'),
    lenenc(count),
    Buffer.from(spec.columns.map(([type]) => type)),
    lenenc(metadata.length),
    metadata,
    Buffer.alloc((count + 7) >> 3, 0xff),
    ...(spec.fields ?? []).map(([type, value]) => Buffer.concat([Buffer.from([type]), lenenc(value.length), value])),
  ]);
}

/** MariaDB's compressed event payload (log_bin_compress): header byte, the length in three bytes, the zlib stream. */
export function compressedPayload(body: Buffer): Buffer {
  const length = Buffer.alloc(3);
  length.writeUIntBE(body.length, 0, 3);
  return Buffer.concat([Buffer.from([0x83]), length, deflateSync(body)]);
}

export interface QuerySpec {
  readonly threadId?: number;
  readonly database?: string;
  /** Status variables, opaque to the parser. */
  readonly status?: Buffer;
  /** Write the statement as MariaDB's Query_compressed_log_event (165) does. */
  readonly compressed?: boolean;
}

/** The body of a QUERY event (2), or of a QUERY_COMPRESSED event (165) when `compressed`. */
export function queryBody(statement: string, spec: QuerySpec = {}): Buffer {
  const database = Buffer.from(spec.database ?? 'db');
  const status = spec.status ?? Buffer.from([0x00, 0x00, 0x00, 0x00, 0x00]);
  const head = Buffer.alloc(13);
  head.writeUInt32LE(spec.threadId ?? 41, 0);
  head.writeUInt8(database.length, 8);
  head.writeUInt16LE(status.length, 11);
  const text = Buffer.from(statement);
  return Buffer.concat([head, status, database, Buffer.from([0]), spec.compressed === true ? compressedPayload(text) : text]);
}

/** The body of a MariaDB GTID event (162): sequence, domain, flags (1 is FL_STANDALONE), padded as the server pads it. */
export function mariadbGtidBody(sequence: bigint, domain = 0, flags = 0): Buffer {
  const domainBytes = Buffer.alloc(4);
  domainBytes.writeUInt32LE(domain);
  return Buffer.concat([uint64(sequence), domainBytes, Buffer.from([flags]), Buffer.alloc(6)]);
}

/** A mysql::serialization variable-length integer: as many trailing one bits in the first byte as bytes follow. */
export function varint(value: bigint): Buffer {
  for (let extra = 0; extra < 8; extra++) {
    if (value < 1n << BigInt(7 * (extra + 1))) {
      const out = Buffer.alloc(extra + 1);
      const shifted = (value << BigInt(extra + 1)) | ((1n << BigInt(extra)) - 1n);
      for (let i = 0; i <= extra; i++) out[i] = Number((shifted >> BigInt(8 * i)) & 0xffn);
      return out;
    }
  }
  return Buffer.concat([Buffer.from([0xff]), uint64(value)]);
}

export interface TaggedGtidSpec {
  readonly flags?: number;
  readonly uuid: string;
  readonly gno: bigint;
  readonly tag?: string;
  /** Fields after the tag, as id and encoded value (skipped by the parser). */
  readonly more?: readonly (readonly [id: number, value: Buffer])[];
  /** The last non-ignorable field id written; 11 (commit_group_ticket) unless said otherwise. */
  readonly lastNonIgnorable?: number;
  readonly version?: number;
}

/** The body of a GTID_TAGGED event (42): a mysql::serialization message, fields in ascending id order. */
export function taggedGtidBody(spec: TaggedGtidSpec): Buffer {
  const field = (id: number, value: Buffer): Buffer => Buffer.concat([varint(BigInt(id)), value]);
  const signed = (value: bigint): Buffer => varint(value < 0n ? -2n * value - 1n : 2n * value);
  const fields = Buffer.concat([
    ...(spec.flags === undefined ? [] : [field(0, varint(BigInt(spec.flags)))]),
    field(1, Buffer.concat([...Buffer.from(spec.uuid.replace(/-/g, ''), 'hex')].map((byte) => varint(BigInt(byte))))),
    field(2, signed(spec.gno)),
    ...(spec.tag === undefined ? [] : [field(3, Buffer.concat([varint(BigInt(spec.tag.length)), Buffer.from(spec.tag, 'latin1')]))]),
    ...(spec.more ?? []).map(([id, value]) => field(id, value)),
  ]);
  const rest = Buffer.concat([varint(BigInt(spec.lastNonIgnorable ?? 11)), fields]);
  const version = varint(BigInt(spec.version ?? 1));
  // The size counts the whole message, its own bytes included.
  let size = version.length + 1 + rest.length;
  while (version.length + varint(BigInt(size)).length + rest.length !== size) size = version.length + varint(BigInt(size)).length + rest.length;
  return Buffer.concat([version, varint(BigInt(size)), rest]);
}
