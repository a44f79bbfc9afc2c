/**
 * Row events (WRITE/UPDATE/DELETE_ROWS v1 and v2, and MariaDB's compressed forms) as pure functions over Buffers,
 * decoded straight into the neutral Values toValue() gives the snapshot's rows, without text in between.
 *
 *   event  ::= header(19) table-id(6) flags(2) [v2: extra-length(2, counting itself) extra] column-count(lenenc)
 *              present-bitmap [update: present-bitmap-after] image+ [checksum(4)]
 *   image  ::= null-bitmap value*    one null bit per present column; a value for each present non-null column
 *
 * Bitmaps are least significant bit first. MariaDB's compressed events (log_bin_compress) hold the images behind
 * a header byte (bit 7 set, bits 0–2 the width of the big-endian uncompressed length that follows) and zlib.
 * How each value is laid out comes from the table map (types and metadata); what it becomes comes from the
 * captured column's FieldType and nullability. Layouts follow MySQL's log_event_print_value (sql/log_event.cc),
 * my_time.cc for the temporal encodings and strings/decimal.cc for DECIMAL.
 */
import { inflateRawSync, inflateSync } from 'node:zlib';
import type { Op, Row, Value } from '../../model/change.js';
import type { Column } from '../../model/schema.js';
import { SourceError } from '../../model/errors.js';
import { BinlogEventType, CHECKSUM_LENGTH, EVENT_HEADER_LENGTH, inflate, inflateEventPayload, readLengthEncoded } from './binlog-event.js';
import { planColumn, Read, type ColumnPlan, type TableMapColumn } from './column-plan.js';
import { jsonBinaryToText } from './json-binary.js';
import { bitsValue } from './types.js';
import {
  fraction,
  hiresFraction,
  instant,
  readDate,
  readDateTime,
  readDateTime2,
  readDateTimeHires,
  readDecimal,
  readTime,
  readTime2,
  readTimeHires,
} from './temporal-decimal.js';

export type RowsOp = Extract<Op, 'c' | 'u' | 'd'>;

const OPS: Readonly<Partial<Record<number, RowsOp>>> = {
  [BinlogEventType.WRITE_ROWS_V1]: 'c',
  [BinlogEventType.UPDATE_ROWS_V1]: 'u',
  [BinlogEventType.DELETE_ROWS_V1]: 'd',
  [BinlogEventType.WRITE_ROWS_V2]: 'c',
  [BinlogEventType.UPDATE_ROWS_V2]: 'u',
  [BinlogEventType.DELETE_ROWS_V2]: 'd',
  [BinlogEventType.MARIADB_WRITE_ROWS_COMPRESSED_V1]: 'c',
  [BinlogEventType.MARIADB_UPDATE_ROWS_COMPRESSED_V1]: 'u',
  [BinlogEventType.MARIADB_DELETE_ROWS_COMPRESSED_V1]: 'd',
  [BinlogEventType.MARIADB_WRITE_ROWS_COMPRESSED]: 'c',
  [BinlogEventType.MARIADB_UPDATE_ROWS_COMPRESSED]: 'u',
  [BinlogEventType.MARIADB_DELETE_ROWS_COMPRESSED]: 'd',
};

/** The change a rows event of this type code carries; undefined for any other event. */
export function rowsEventOp(type: number): RowsOp | undefined {
  return OPS[type];
}

function hasExtraData(type: number): boolean {
  return (
    (type >= BinlogEventType.WRITE_ROWS_V2 && type <= BinlogEventType.DELETE_ROWS_V2) ||
    (type >= BinlogEventType.MARIADB_WRITE_ROWS_COMPRESSED && type <= BinlogEventType.MARIADB_DELETE_ROWS_COMPRESSED)
  );
}

function isCompressed(type: number): boolean {
  return type >= BinlogEventType.MARIADB_WRITE_ROWS_COMPRESSED_V1 && type <= BinlogEventType.MARIADB_DELETE_ROWS_COMPRESSED;
}

/** The table id of a rows event: the first field after the header, as in a table map. */
export function rowsEventTableId(event: Buffer): number {
  return event.readUIntLE(EVENT_HEADER_LENGTH, 6);
}

export interface RowsEvent {
  readonly op: RowsOp;
  readonly tableId: number;
  readonly columnCount: number;
  /** Columns present in each image (an update's before image). */
  readonly present: Buffer;
  /** Columns present in an update's after image; null for writes and deletes. */
  readonly presentAfter: Buffer | null;
  /** The row images, inflated when the event was compressed. */
  readonly images: Buffer;
}

export function parseRowsEvent(event: Buffer, checksum: boolean): RowsEvent {
  const type = event.readUInt8(4);
  const op = rowsEventOp(type);
  if (op === undefined) throw new RangeError(`binlog event of type ${type} is not a rows event`);
  const end = event.length - (checksum ? CHECKSUM_LENGTH : 0);
  const tableId = rowsEventTableId(event);
  let offset = EVENT_HEADER_LENGTH + 8; // table id, flags
  if (hasExtraData(type)) offset += event.readUInt16LE(offset);
  const [columnCount, width] = readLengthEncoded(event, offset);
  offset += width;
  const bitmapBytes = (columnCount + 7) >> 3;
  const present = event.subarray(offset, offset + bitmapBytes);
  offset += bitmapBytes;
  const presentAfter = op === 'u' ? event.subarray(offset, offset + bitmapBytes) : null;
  if (presentAfter !== null) offset += bitmapBytes;
  if (offset > end) throw new SourceError(`rows event of table id ${tableId} (type ${type}) ends inside its header`);
  const images = isCompressed(type) ? inflateEventPayload(event.subarray(offset, end), `compressed rows event of table id ${tableId}`) : event.subarray(offset, end);
  return { op, tableId, columnCount, present, presentAfter, images };
}

export interface RowImage {
  readonly before: Row | null;
  readonly after: Row | null;
}

/**
 * Decodes the row images of one table's rows events into rows of its captured columns: built once per table map
 * and table schema, used for every rows event between them.
 */
export class RowsDecoder {
  private readonly plans: readonly ColumnPlan[];
  /** Captured columns the table map lacks: null in every row, as a driver row without them gave. */
  private readonly absent: readonly string[];
  private data: Buffer = EMPTY;
  private pos = 0;

  constructor(
    private readonly table: string,
    columns: readonly TableMapColumn[],
    captured: readonly Column[],
  ) {
    const byName = new Map(captured.map((c) => [c.name, c]));
    this.plans = columns.map((c) => planColumn(table, c, byName.get(c.name)));
    const mapped = new Set(columns.map((c) => c.name));
    this.absent = captured.filter((c) => !mapped.has(c.name)).map((c) => c.name);
  }

  decode(event: RowsEvent): RowImage[] {
    if (event.columnCount !== this.plans.length) {
      throw new SourceError(`rows event of ${this.table} has ${event.columnCount} columns where its table map has ${this.plans.length}`);
    }
    const presentNulls = (countBits(event.present) + 7) >> 3;
    const afterNulls = event.presentAfter === null ? 0 : (countBits(event.presentAfter) + 7) >> 3;
    const images: RowImage[] = [];
    this.data = event.images;
    this.pos = 0;
    try {
      while (this.pos < this.data.length) {
        const first = this.image(event.present, presentNulls);
        if (event.op === 'u') images.push({ before: first, after: this.image(event.presentAfter!, afterNulls) });
        else images.push(event.op === 'c' ? { before: null, after: first } : { before: first, after: null });
      }
    } catch (error) {
      // Buffer's reads past the end throw RangeError; the others are caught in image().
      throw error instanceof RangeError ? this.overrun() : error;
    } finally {
      this.data = EMPTY; // holds the socket's chunk otherwise
    }
    return images;
  }

  private image(present: Buffer, nullBytes: number): Row {
    const data = this.data;
    const plans = this.plans;
    const nulls = this.pos;
    this.pos += nullBytes;
    const row: Record<string, Value> = {};
    let nullIndex = 0;
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i]!;
      let value: Value = null;
      if ((present[i >> 3]! & (1 << (i & 7))) !== 0) {
        const isNull = (data[nulls + (nullIndex >> 3)]! & (1 << (nullIndex & 7))) !== 0;
        nullIndex++;
        if (!isNull) value = this.value(plan);
      }
      if (plan.name !== null) row[plan.name] = value;
    }
    for (const name of this.absent) row[name] = null;
    if (this.pos > data.length) throw this.overrun();
    return row;
  }

  private overrun(): SourceError {
    return new SourceError(`a row image of ${this.table} runs past the end of its rows event`, {
      fix: 'the table map does not describe these rows; restart the source to read the table anew',
    });
  }

  /** Reads the value at `pos` and moves past it. */
  private value(plan: ColumnPlan): Value {
    const data = this.data;
    const pos = this.pos;
    this.pos = pos + plan.width;
    switch (plan.read) {
      case Read.Skip:
        if (plan.prefixed) this.pos += length(data, pos, plan.width);
        return null;
      case Read.Int8:
        return int(plan, data.readInt8(pos));
      case Read.Uint8:
        return int(plan, data[pos]!);
      case Read.Int16:
        return int(plan, data.readInt16LE(pos));
      case Read.Uint16:
        return int(plan, data.readUInt16LE(pos));
      case Read.Int24:
        return int(plan, data.readIntLE(pos, 3));
      case Read.Uint24:
        return int(plan, data.readUIntLE(pos, 3));
      case Read.Int32:
        return int(plan, data.readInt32LE(pos));
      case Read.Uint32:
        return int(plan, data.readUInt32LE(pos));
      case Read.Int64:
        // bigint.unsigned.handling.mode=long: BIGINT UNSIGNED above 2^63-1 wraps as Java's long does.
        return data.readBigInt64LE(pos);
      case Read.Float:
        return data.readFloatLE(pos);
      case Read.Double:
        return data.readDoubleLE(pos);
      case Read.Decimal:
        return readDecimal(data, pos, plan.digits, plan.size);
      case Read.Year: {
        const year = data[pos]!;
        return year === 0 ? 0 : year + 1900;
      }
      case Read.Date:
        return readDate(data.readUIntLE(pos, 3), plan.nullable);
      case Read.Time2:
        return readTime2(data, pos, plan.digits);
      case Read.Time:
        return readTime(data.readIntLE(pos, 3));
      case Read.TimeHires:
        return readTimeHires(data, pos, plan.width, plan.digits);
      case Read.DateTime2:
        return readDateTime2(data, pos, plan.digits, plan.nullable);
      case Read.DateTime:
        return readDateTime(data.readUInt32LE(pos) + data.readUInt32LE(pos + 4) * 2 ** 32, plan.nullable);
      case Read.DateTimeHires:
        return readDateTimeHires(data, pos, plan.width, plan.digits, plan.nullable);
      case Read.Timestamp2:
        return instant(data.readUInt32BE(pos), fraction(data, pos + 4, plan.digits), plan);
      case Read.Timestamp:
        return instant(data.readUInt32LE(pos), 0, plan);
      case Read.TimestampHires:
        return instant(data.readUInt32BE(pos), hiresFraction(data, pos + 4, plan.width - 4, plan.digits), plan);
      case Read.Text: {
        const end = this.pos + length(data, pos, plan.width);
        const text = plan.decode!(data, this.pos, end);
        this.pos = end;
        return text;
      }
      case Read.CompressedText: {
        const bytes = this.prefixedBytes(data, pos, plan.width);
        const inflated = inflateColumn(bytes, this.table, plan.name!);
        return plan.decode!(inflated, 0, inflated.length);
      }
      case Read.Bytes:
        return copyBytes(this.prefixedBytes(data, pos, plan.width), plan.size);
      case Read.CompressedBytes:
        return copyBytes(inflateColumn(this.prefixedBytes(data, pos, plan.width), this.table, plan.name!), plan.size);
      case Read.Json:
        return jsonBinaryToText(this.prefixedBytes(data, pos, plan.width));
      case Read.Enum:
        return this.enumValue(plan, plan.width === 1 ? data[pos]! : data.readUInt16LE(pos));
      case Read.Set:
        return this.setValue(plan, data, pos);
      case Read.Bits:
        return bitsValue(data.subarray(pos, pos + plan.width), plan.size);
    }
  }

  /** The bytes of a length-prefixed value at `pos`, moving past them. */
  private prefixedBytes(data: Buffer, pos: number, prefix: number): Buffer {
    const start = pos + prefix;
    this.pos = start + length(data, pos, prefix);
    return data.subarray(start, this.pos);
  }

  /** Index 0 is the empty string MySQL stores for a value the ENUM does not have. */
  private enumValue(plan: ColumnPlan, index: number): string {
    if (index === 0) return '';
    const symbol = plan.symbols[index - 1];
    if (symbol === undefined) throw this.beyondSymbols(plan, `ENUM index ${index}`);
    return symbol;
  }

  private setValue(plan: ColumnPlan, data: Buffer, pos: number): string {
    const symbols = plan.symbols;
    let low = data.readUIntLE(pos, Math.min(plan.width, 4));
    let high = plan.width > 4 ? data.readUIntLE(pos + 4, plan.width - 4) : 0;
    let text = '';
    for (let i = 0; low !== 0 || high !== 0; i++) {
      if ((low & 1) !== 0) {
        const symbol = symbols[i];
        if (symbol === undefined) throw this.beyondSymbols(plan, `SET member ${i + 1}`);
        text = text === '' ? symbol : `${text},${symbol}`;
      }
      low = (low >>> 1) | ((high & 1) << 31);
      high >>>= 1;
    }
    return text;
  }

  private beyondSymbols(plan: ColumnPlan, what: string): SourceError {
    return new SourceError(`${what} of ${this.table}.${plan.name} is beyond its ${plan.symbols.length} symbols`, {
      fix: 'the table schema is older than these rows; restart the source to read the table anew',
    });
  }
}

const EMPTY = Buffer.alloc(0);

function int(plan: ColumnPlan, value: number): number | bigint {
  return plan.big ? BigInt(value) : value;
}

function length(data: Buffer, pos: number, prefix: number): number {
  return prefix === 1 ? data[pos]! : data.readUIntLE(pos, prefix);
}

function countBits(bitmap: Buffer): number {
  let bits = 0;
  for (let byte of bitmap) {
    for (; byte !== 0; byte &= byte - 1) bits++;
  }
  return bits;
}

/** A Uint8Array of its own (not a view of the event), zero-padded to `width` as BINARY(n) reads. */
function copyBytes(bytes: Buffer, width: number): Uint8Array {
  const out = new Uint8Array(Math.max(bytes.length, width));
  out.set(bytes);
  return out;
}

/**
 * MariaDB's COMPRESSED column value (sql/field_comp.cc): empty, or a header byte (bits 4–7 the method: 0 stored,
 * 8 zlib; for zlib bits 0–2 the width of the original length that follows and bit 3 a raw deflate stream).
 */
function inflateColumn(bytes: Buffer, table: string, column: string): Buffer {
  if (bytes.length === 0) return bytes;
  const header = bytes[0]!;
  const method = header >> 4;
  if (method === 0) return bytes.subarray(1);
  if (method === 8) {
    const compressed = bytes.subarray(1 + (header & 0x07));
    return inflate(() => ((header & 0x08) !== 0 ? inflateRawSync(compressed) : inflateSync(compressed)), `compressed value of ${table}.${column}`);
  }
  throw new SourceError(`compressed value of ${table}.${column} uses unknown method ${method}`);
}
