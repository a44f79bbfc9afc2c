/**
 * Neutral Values (see src/model/change.ts) → the JavaScript values avsc writes for the schemas of
 * connect-types.ts. Longs are bigint throughout (avro-type.ts installs a bigint long type), bytes are Buffers.
 *
 * Debezium behaviours reproduced here, with their sources:
 * - null in a NOT NULL column becomes the column default, else the converter's fallback (0, "", false, empty
 *   bytes, the epoch), JdbcValueConverters.convertValue; PostgreSQL delete events without REPLICA IDENTITY FULL
 *   rely on it;
 * - UNAVAILABLE (an unchanged TOASTed value) becomes `__debezium_unavailable_value`: as a string for string
 *   schemas, as its UTF-8 bytes for bytes schemas, and for arrays as UnchangedToastedPlaceholder builds them
 *   (one-element string/bytes/uuid lists, the placeholder's bytes for int/bigint arrays). PostgreSQL only TOASTs
 *   variable-length types, so the remaining kinds (numbers, dates, numeric) get a clear error instead;
 * - precise decimals are the two's-complement big-endian bytes of the unscaled value at the column scale
 *   (BigInteger.toByteArray); a value needing more fractional digits than the scale is an error, as in
 *   Connect's Decimal.fromLogical; NaN/Infinity are errors in precise mode (SpecialValueDecimal.fromLogical).
 */
import { createHash } from 'node:crypto';
import { UNAVAILABLE, type Value } from '../model/change.js';
import type { Column, FieldType } from '../model/schema.js';
import { isVariableScale, timestampUnit, timeUnit, type TemporalMode } from './connect-types.js';
import { AvroValueError } from './errors.js';

export const UNAVAILABLE_PLACEHOLDER = '__debezium_unavailable_value';
const PLACEHOLDER_BYTES = Buffer.from(UNAVAILABLE_PLACEHOLDER, 'utf8');

export interface ValueContext {
  readonly mode: TemporalMode;
  /** `schema.table` / `db.table`, for error messages. */
  readonly table: string;
}

/**
 * A column as the model may carry its default: the database default already converted to a neutral Value
 * (Debezium puts column defaults into the schema, and uses them for nulls in NOT NULL columns).
 */
export type ColumnWithDefault = Column & { readonly defaultValue?: Value };

export function columnToAvro(column: ColumnWithDefault, value: Value, ctx: ValueContext): unknown {
  if (value === null) {
    if (column.nullable) return null;
    const fallbackValue = columnDefaultToAvro(column, ctx);
    return fallbackValue === null ? fallback(column.type, ctx.mode) : fallbackValue;
  }
  // The common kinds first, without building the column's name for error messages: this runs per column per event.
  switch (column.type.kind) {
    case 'int64':
      if (typeof value === 'bigint') return value;
      break;
    case 'int32':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      break;
    case 'string':
    case 'timestamptz':
      if (typeof value === 'string') return value;
      break;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      break;
    case 'float64':
      if (typeof value === 'number') return value;
      break;
    default:
      break;
  }
  const where = `${ctx.table}.${column.name}`;
  if (value === UNAVAILABLE) return unavailable(column.type, where);
  return convert(column.type, value, ctx.mode, where);
}

/** The column default as avsc writes it, or null when the column has none. */
export function columnDefaultToAvro(column: ColumnWithDefault, ctx: ValueContext): unknown {
  const value = column.defaultValue;
  if (value === undefined || value === null || value === UNAVAILABLE) return null;
  return convert(column.type, value, ctx.mode, `${ctx.table}.${column.name} (default)`);
}

function convert(type: FieldType, value: Value, mode: TemporalMode, where: string): unknown {
  const wrong = (expected: string) =>
    new AvroValueError(`column ${where} (${type.kind}) expects ${expected} but got ${describe(value)}`, {
      fix: 'this is a bug in the source type mapping; report it with the column type',
    });
  switch (type.kind) {
    case 'boolean':
      if (typeof value !== 'boolean') throw wrong('a boolean');
      return value;
    case 'int8':
    case 'int16':
    case 'int32':
    case 'date':
    case 'year':
      if (typeof value !== 'number' || !Number.isInteger(value)) throw wrong('an integer number');
      return value;
    case 'int64':
    case 'interval':
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
      throw wrong('a bigint');
    case 'float32':
    case 'float64':
      if (typeof value !== 'number') throw wrong('a number');
      return value;
    case 'decimal':
      if (typeof value !== 'string') throw wrong('a decimal string');
      return isVariableScale(type) ? variableScaleDecimal(value, where) : decimalBytes(value, type.scale ?? 0, where);
    case 'string':
    case 'uuid':
    case 'json':
    case 'xml':
    case 'enum':
    case 'set':
    case 'timetz':
    case 'timestamptz':
      if (typeof value !== 'string') throw wrong('a string');
      return value;
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw wrong('a Uint8Array');
      return toBuffer(value);
    case 'bits':
      if (type.length > 1) {
        if (!(value instanceof Uint8Array)) throw wrong('a Uint8Array');
        return toBuffer(value);
      }
      if (typeof value !== 'boolean') throw wrong('a boolean');
      return value;
    case 'time': {
      if (typeof value !== 'bigint') throw wrong('microseconds as a bigint');
      return timeUnit(type.precision, mode) === 'millis' ? Number(floorDiv(value, 1000n)) : value;
    }
    case 'timestamp':
      if (typeof value !== 'bigint') throw wrong('microseconds as a bigint');
      return timestampUnit(type.precision) === 'millis' ? floorDiv(value, 1000n) : value;
    case 'array':
      if (!Array.isArray(value)) throw wrong('an array');
      return (value as readonly Value[]).map((item, i) =>
        item === null ? null : convert(type.items, item, mode, `${where}[${i}]`),
      );
  }
}

/** JdbcValueConverters' fallbacks for a null in a NOT NULL column. */
function fallback(type: FieldType, mode: TemporalMode): unknown {
  switch (type.kind) {
    case 'boolean':
      return false;
    case 'bits':
      return type.length > 1 ? Buffer.alloc(0) : false;
    case 'int8':
    case 'int16':
    case 'int32':
    case 'date':
    case 'year':
    case 'float32':
    case 'float64':
      return 0;
    case 'int64':
    case 'interval':
    case 'timestamp':
      return 0n;
    case 'time':
      return timeUnit(type.precision, mode) === 'millis' ? 0 : 0n;
    case 'decimal':
      return isVariableScale(type) ? { scale: 0, value: twosComplement(0n) } : twosComplement(0n);
    case 'string':
    case 'uuid':
    case 'json':
    case 'xml':
    case 'enum':
    case 'set':
      return '';
    case 'timestamptz':
      return '1970-01-01T00:00:00Z';
    case 'timetz':
      return '00:00:00Z';
    case 'bytes':
      return Buffer.alloc(0);
    case 'array':
      return [];
  }
}

function unavailable(type: FieldType, where: string): unknown {
  switch (type.kind) {
    case 'string':
    case 'json':
    case 'xml':
    case 'enum':
    case 'set':
    case 'uuid':
    case 'timetz':
    case 'timestamptz':
      return UNAVAILABLE_PLACEHOLDER;
    case 'bytes':
      return Buffer.from(PLACEHOLDER_BYTES);
    case 'bits':
      if (type.length > 1) return Buffer.from(PLACEHOLDER_BYTES);
      break;
    case 'array':
      switch (type.items.kind) {
        case 'string':
        case 'json':
        case 'enum':
        case 'timestamptz':
        case 'timetz':
          return [UNAVAILABLE_PLACEHOLDER];
        case 'uuid':
          return [nameUuidFromBytes(PLACEHOLDER_BYTES)];
        case 'bytes':
          return [Buffer.from(PLACEHOLDER_BYTES)];
        case 'int16':
        case 'int32':
          return [...PLACEHOLDER_BYTES];
        case 'int64':
          return [...PLACEHOLDER_BYTES].map((b) => BigInt(b));
        default:
          break;
      }
      break;
    default:
      break;
  }
  throw new AvroValueError(`column ${where} (${describeType(type)}) has an unavailable (unchanged TOASTed) value`, {
    fix: 'set REPLICA IDENTITY FULL on the table so PostgreSQL sends every column value',
  });
}

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?$/;

function parseDecimal(text: string, where: string): { unscaled: bigint; scale: number } | null {
  const m = DECIMAL.exec(text);
  const intPart = m?.[2] ?? '';
  const fracPart = m?.[3] ?? '';
  if (m === null || intPart.length + fracPart.length === 0) {
    if (/^[+-]?(nan|infinity|inf)$/i.test(text)) return null;
    throw new AvroValueError(`column ${where}: "${text}" is not a decimal number`, {
      fix: 'this is a bug in the source value decoding; report it with the column type',
    });
  }
  const magnitude = BigInt(intPart + fracPart);
  return { unscaled: m[1] === '-' ? -magnitude : magnitude, scale: fracPart.length };
}

/** Connect Decimal bytes at the column scale. */
export function decimalBytes(text: string, scale: number, where: string): Buffer {
  const parsed = parseDecimal(text, where);
  if (parsed === null) {
    throw new AvroValueError(`column ${where} holds the special value ${text}, which a precise decimal cannot carry`, {
      fix: 'Debezium fails the same way with decimal.handling.mode=precise; change the value or the column type',
    });
  }
  let unscaled = parsed.unscaled;
  if (scale > parsed.scale) {
    unscaled *= 10n ** BigInt(scale - parsed.scale);
  } else if (scale < parsed.scale) {
    // Fewer digits than written are fine only if the dropped ones are zeros: never round.
    const divisor = 10n ** BigInt(parsed.scale - scale);
    if (unscaled % divisor !== 0n) {
      throw new AvroValueError(
        `column ${where}: value ${text} has ${parsed.scale} fractional digits but the column scale is ${scale}`,
        { fix: 'the value does not fit the column type the source reported; check the column definition' },
      );
    }
    unscaled /= divisor;
  }
  return twosComplement(unscaled);
}

/** io.debezium.data.VariableScaleDecimal: the value's own scale and its unscaled bytes. */
function variableScaleDecimal(text: string, where: string): { scale: number; value: Buffer } {
  const parsed = parseDecimal(text, where);
  if (parsed === null) {
    throw new AvroValueError(`column ${where} holds the special value ${text}, which a precise decimal cannot carry`, {
      fix: 'Debezium fails the same way with decimal.handling.mode=precise; change the value or the column type',
    });
  }
  // PostgresValueConverter.convertDecimal strips trailing zeros and never lets the scale go negative.
  let { unscaled, scale } = parsed;
  while (scale > 0 && unscaled % 10n === 0n) {
    unscaled /= 10n;
    scale -= 1;
  }
  return { scale, value: twosComplement(unscaled) };
}

const SIX_BYTE_LIMIT = 2n ** 47n;

/** Minimal big-endian two's complement, as java.math.BigInteger.toByteArray. */
export function twosComplement(value: bigint): Buffer {
  // Up to 6 bytes Buffer writes the number itself; beyond, through hex text.
  if (value >= -SIX_BYTE_LIMIT && value < SIX_BYTE_LIMIT) {
    const n = Number(value);
    let bytes = 1;
    while (n >= 2 ** (8 * bytes - 1) || n < -(2 ** (8 * bytes - 1))) bytes++;
    const out = Buffer.allocUnsafe(bytes);
    out.writeIntBE(n, 0, bytes);
    return out;
  }
  const magnitude = value < 0n ? -value - 1n : value;
  const bitLength = magnitude === 0n ? 0 : magnitude.toString(2).length;
  const bytes = Math.floor(bitLength / 8) + 1;
  const unsigned = value < 0n ? value + (1n << BigInt(bytes * 8)) : value;
  return Buffer.from(unsigned.toString(16).padStart(bytes * 2, '0'), 'hex');
}

/** The inverse of twosComplement, for readers and tests. */
export function fromTwosComplement(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  // Up to six bytes fit a double exactly: the lake reads every DECIMAL through here, so spare it the hex string.
  if (bytes.length <= 6) {
    let small = 0;
    for (const byte of bytes) small = small * 256 + byte;
    return BigInt((bytes[0] ?? 0) & 0x80 ? small - 2 ** (8 * bytes.length) : small);
  }
  const unsigned = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  const first = bytes[0] ?? 0;
  return first & 0x80 ? unsigned - (1n << BigInt(bytes.length * 8)) : unsigned;
}

/** java.util.UUID.nameUUIDFromBytes (version 3, MD5). */
function nameUuidFromBytes(bytes: Uint8Array): string {
  const md5 = createHash('md5').update(bytes).digest();
  md5[6] = ((md5[6] ?? 0) & 0x0f) | 0x30;
  md5[8] = ((md5[8] ?? 0) & 0x3f) | 0x80;
  const hex = md5.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function describe(value: Value): string {
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'an array';
  return `${typeof value} ${String(value).slice(0, 40)}`;
}

function describeType(type: FieldType): string {
  return type.kind === 'array' ? `array of ${describeType(type.items)}` : type.kind;
}
