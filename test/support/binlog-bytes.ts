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
