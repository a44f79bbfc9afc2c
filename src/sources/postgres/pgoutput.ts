/**
 * Decoder for the pgoutput logical replication protocol (version 1), as pure functions over the bytes of one
 * XLogData payload. Column values stay in PostgreSQL's text form; types.ts turns them into neutral values.
 * https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
 */
import { Lsn } from './position.js';

export const enum MessageCode {
  Begin = 0x42, // B
  Commit = 0x43, // C
  Origin = 0x4f, // O
  Relation = 0x52, // R
  Type = 0x59, // Y
  Insert = 0x49, // I
  Update = 0x55, // U
  Delete = 0x44, // D
  Truncate = 0x54, // T
  Message = 0x4d, // M
}

const enum TupleKind {
  Null = 0x6e, // n
  Unchanged = 0x75, // u
  Text = 0x74, // t
  Binary = 0x62, // b
  New = 0x4e, // N
  Key = 0x4b, // K
  Old = 0x4f, // O
}

/** One column value of a tuple: SQL NULL, an unchanged TOASTed value that was not sent, or its text form. */
export type TupleValue = null | { readonly unchanged: true } | string;
export const UNCHANGED_TOAST: TupleValue = Object.freeze({ unchanged: true as const });

export interface RelationColumn {
  /** Bit 1: part of the replica identity key. */
  readonly flags: number;
  readonly name: string;
  readonly typeOid: number;
  readonly typeMod: number;
}

export type ReplicaIdentity = 'default' | 'nothing' | 'full' | 'index';

export type PgoutputMessage =
  | { readonly tag: 'begin'; readonly finalLsn: Lsn; readonly commitTimeUs: bigint; readonly xid: number }
  | { readonly tag: 'commit'; readonly flags: number; readonly commitLsn: Lsn; readonly endLsn: Lsn; readonly commitTimeUs: bigint }
  | { readonly tag: 'origin'; readonly originLsn: Lsn; readonly name: string }
  | {
      readonly tag: 'relation';
      readonly oid: number;
      readonly schema: string;
      readonly name: string;
      readonly replicaIdentity: ReplicaIdentity;
      readonly columns: readonly RelationColumn[];
    }
  | { readonly tag: 'type'; readonly oid: number; readonly schema: string; readonly name: string }
  | { readonly tag: 'insert'; readonly relation: number; readonly newTuple: readonly TupleValue[] }
  | {
      readonly tag: 'update';
      readonly relation: number;
      /** Present with REPLICA IDENTITY FULL ('O': whole old row) or when the key changed ('K': key columns only). */
      readonly oldTuple: readonly TupleValue[] | null;
      readonly oldIsKeyOnly: boolean;
      readonly newTuple: readonly TupleValue[];
    }
  | { readonly tag: 'delete'; readonly relation: number; readonly oldTuple: readonly TupleValue[]; readonly oldIsKeyOnly: boolean }
  | { readonly tag: 'truncate'; readonly options: number; readonly relations: readonly number[] }
  | { readonly tag: 'message'; readonly flags: number; readonly lsn: Lsn; readonly prefix: string; readonly content: Uint8Array };

/** Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01. */
export const PG_EPOCH_OFFSET_US = 946_684_800_000_000n;

export class PgoutputDecodeError extends Error {}

class Reader {
  private offset = 0;

  constructor(private readonly buffer: Buffer) {}

  private need(bytes: number): void {
    if (this.offset + bytes > this.buffer.length) {
      throw new PgoutputDecodeError(`pgoutput message truncated at byte ${this.offset} (needs ${bytes} more, has ${this.buffer.length - this.offset})`);
    }
  }

  uint8(): number {
    this.need(1);
    return this.buffer.readUInt8(this.offset++);
  }

  int16(): number {
    this.need(2);
    const value = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uint32(): number {
    this.need(4);
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  int64(): bigint {
    this.need(8);
    const value = this.buffer.readBigInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  lsn(): Lsn {
    this.need(8);
    const value = this.buffer.readBigUInt64BE(this.offset);
    this.offset += 8;
    return Lsn.of(value);
  }

  cstring(): string {
    const end = this.buffer.indexOf(0, this.offset);
    if (end < 0) throw new PgoutputDecodeError(`pgoutput string at byte ${this.offset} has no terminator`);
    const text = this.buffer.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return text;
  }

  /** `length` bytes as UTF-8, without a Buffer view in between. */
  text(length: number): string {
    this.need(length);
    const text = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return text;
  }

  bytes(length: number): Buffer {
    this.need(length);
    const slice = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  end(): void {
    if (this.offset !== this.buffer.length) {
      throw new PgoutputDecodeError(`pgoutput message has ${this.buffer.length - this.offset} unexpected trailing bytes`);
    }
  }
}

const REPLICA_IDENTITIES: Readonly<Record<number, ReplicaIdentity>> = { 0x64: 'default', 0x6e: 'nothing', 0x66: 'full', 0x69: 'index' };

function tuple(reader: Reader): TupleValue[] {
  const count = reader.int16();
  const values: TupleValue[] = [];
  for (let i = 0; i < count; i++) {
    const kind = reader.uint8();
    switch (kind) {
      case TupleKind.Null:
        values.push(null);
        break;
      case TupleKind.Unchanged:
        values.push(UNCHANGED_TOAST);
        break;
      case TupleKind.Text:
        values.push(reader.text(reader.int32()));
        break;
      case TupleKind.Binary:
        throw new PgoutputDecodeError('pgoutput sent a binary column value; the replication must run without the binary option');
      default:
        throw new PgoutputDecodeError(`unknown pgoutput tuple value kind 0x${kind.toString(16)}`);
    }
  }
  return values;
}

function expect(reader: Reader, kind: TupleKind): void {
  const actual = reader.uint8();
  if (actual !== kind) throw new PgoutputDecodeError(`expected pgoutput tuple marker 0x${kind.toString(16)}, got 0x${actual.toString(16)}`);
}

/** Decodes one pgoutput message; throws PgoutputDecodeError on a malformed or truncated one. */
export function decodePgoutput(buffer: Buffer): PgoutputMessage {
  const reader = new Reader(buffer);
  const message = decodeBody(reader, reader.uint8());
  reader.end();
  return message;
}

function decodeBody(reader: Reader, code: number): PgoutputMessage {
  switch (code) {
    case MessageCode.Begin:
      return { tag: 'begin', finalLsn: reader.lsn(), commitTimeUs: reader.int64(), xid: reader.uint32() };
    case MessageCode.Commit:
      return { tag: 'commit', flags: reader.uint8(), commitLsn: reader.lsn(), endLsn: reader.lsn(), commitTimeUs: reader.int64() };
    case MessageCode.Origin:
      return { tag: 'origin', originLsn: reader.lsn(), name: reader.cstring() };
    case MessageCode.Relation: {
      const oid = reader.uint32();
      const schema = reader.cstring();
      const name = reader.cstring();
      const identityCode = reader.uint8();
      const replicaIdentity = REPLICA_IDENTITIES[identityCode];
      if (replicaIdentity === undefined) throw new PgoutputDecodeError(`unknown replica identity 0x${identityCode.toString(16)}`);
      const count = reader.int16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < count; i++) {
        columns.push({ flags: reader.uint8(), name: reader.cstring(), typeOid: reader.uint32(), typeMod: reader.int32() });
      }
      return { tag: 'relation', oid, schema, name, replicaIdentity, columns };
    }
    case MessageCode.Type:
      return { tag: 'type', oid: reader.uint32(), schema: reader.cstring(), name: reader.cstring() };
    case MessageCode.Insert: {
      const relation = reader.uint32();
      expect(reader, TupleKind.New);
      return { tag: 'insert', relation, newTuple: tuple(reader) };
    }
    case MessageCode.Update: {
      const relation = reader.uint32();
      const marker = reader.uint8();
      if (marker === TupleKind.New) return { tag: 'update', relation, oldTuple: null, oldIsKeyOnly: false, newTuple: tuple(reader) };
      if (marker !== TupleKind.Key && marker !== TupleKind.Old) {
        throw new PgoutputDecodeError(`unexpected pgoutput update marker 0x${marker.toString(16)}`);
      }
      const oldTuple = tuple(reader);
      expect(reader, TupleKind.New);
      return { tag: 'update', relation, oldTuple, oldIsKeyOnly: marker === TupleKind.Key, newTuple: tuple(reader) };
    }
    case MessageCode.Delete: {
      const relation = reader.uint32();
      const marker = reader.uint8();
      if (marker !== TupleKind.Key && marker !== TupleKind.Old) {
        throw new PgoutputDecodeError(`unexpected pgoutput delete marker 0x${marker.toString(16)}`);
      }
      return { tag: 'delete', relation, oldTuple: tuple(reader), oldIsKeyOnly: marker === TupleKind.Key };
    }
    case MessageCode.Truncate: {
      const count = reader.int32();
      const options = reader.uint8();
      const relations: number[] = [];
      for (let i = 0; i < count; i++) relations.push(reader.uint32());
      return { tag: 'truncate', options, relations };
    }
    case MessageCode.Message: {
      const flags = reader.uint8();
      const lsn = reader.lsn();
      const prefix = reader.cstring();
      const content = reader.bytes(reader.int32());
      return { tag: 'message', flags, lsn, prefix, content: new Uint8Array(content) };
    }
    default:
      throw new PgoutputDecodeError(`unknown pgoutput message code 0x${code.toString(16)}`);
  }
}

/** Commit timestamps are microseconds since 2000-01-01; events carry milliseconds since 1970-01-01. */
export function pgTimeToEpochMs(pgMicros: bigint): number {
  return Number(pgTimeToEpochUs(pgMicros) / 1000n);
}

/** A commit timestamp as microseconds since 1970-01-01 (Debezium's source.ts_us). */
export function pgTimeToEpochUs(pgMicros: bigint): bigint {
  return pgMicros + PG_EPOCH_OFFSET_US;
}
