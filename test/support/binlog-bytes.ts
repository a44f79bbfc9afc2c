/** Binlog events built by hand for decoder fixtures: the 19-byte common header, the body, and a CRC32 trailer. */
import { crc32 } from 'node:zlib';

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
