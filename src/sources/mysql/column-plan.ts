/**
 * How each column of a table map is laid out in row images (MySQL's per-type metadata, after
 * log_event_print_value in sql/log_event.cc) and how a captured column's values are read from that layout: one
 * plan per column, built once per table map and table schema.
 */
import type { Column, FieldType } from '../../model/schema.js';
import { SourceError } from '../../model/errors.js';
import { textDecoderFor, type TextDecode } from './charsets.js';
import { decimalBytes, HIRES_DATETIME_BYTES, HIRES_FRACTION_BYTES, HIRES_TIME_BYTES } from './temporal-decimal.js';

/** enum_field_types codes a table map can hold (ENUM and SET resolved from a STRING column's metadata). */
export const enum MysqlType {
  DECIMAL = 0,
  TINY = 1,
  SHORT = 2,
  LONG = 3,
  FLOAT = 4,
  DOUBLE = 5,
  NULL = 6,
  TIMESTAMP = 7,
  LONGLONG = 8,
  INT24 = 9,
  DATE = 10,
  TIME = 11,
  DATETIME = 12,
  YEAR = 13,
  NEWDATE = 14,
  VARCHAR = 15,
  BIT = 16,
  TIMESTAMP2 = 17,
  DATETIME2 = 18,
  TIME2 = 19,
  /** MariaDB's COMPRESSED columns. */
  BLOB_COMPRESSED = 140,
  VARCHAR_COMPRESSED = 141,
  JSON = 245,
  NEWDECIMAL = 246,
  ENUM = 247,
  SET = 248,
  TINY_BLOB = 249,
  MEDIUM_BLOB = 250,
  LONG_BLOB = 251,
  BLOB = 252,
  VAR_STRING = 253,
  STRING = 254,
  GEOMETRY = 255,
}

/** The table map's layout metadata of a column (MySQL's per-type `metadata` field). */
export interface ColumnMetadata {
  /** CHAR/VARCHAR: the maximum length in bytes. */
  readonly maxLength?: number;
  /** BLOB/TEXT/JSON/GEOMETRY: bytes of the length prefix. */
  readonly lengthSize?: number;
  /** DECIMAL. */
  readonly precision?: number;
  /** DECIMAL's scale; fractional-second digits of TIME2/DATETIME2/TIMESTAMP2. */
  readonly decimals?: number;
  readonly bits?: number;
  /** ENUM/SET: bytes of the stored value. */
  readonly size?: number;
}

/** A column as the table map describes it: how its values are laid out in row images. */
export interface TableMapColumn {
  readonly name: string;
  /** enum_field_types code, ENUM and SET resolved. */
  readonly type: number;
  readonly metadata: ColumnMetadata;
  /** Character set name; null for binary. */
  readonly charset: string | null;
  /** COLUMN_TYPE: tells BINARY(n) and MariaDB 5.3's fractional TIME/DATETIME/TIMESTAMP, which no metadata does. */
  readonly columnType: string;
  readonly unsigned: boolean;
}

/** How a captured column's value is read; Skip passes over a column that is not captured. */
export const enum Read {
  Skip,
  Int8,
  Uint8,
  Int16,
  Uint16,
  Int24,
  Uint24,
  Int32,
  Uint32,
  Int64,
  Float,
  Double,
  Decimal,
  Year,
  Date,
  Time2,
  Time,
  TimeHires,
  DateTime2,
  DateTime,
  DateTimeHires,
  Timestamp2,
  Timestamp,
  TimestampHires,
  Text,
  CompressedText,
  Bytes,
  CompressedBytes,
  Json,
  Enum,
  Set,
  Bits,
}

/** One column's reading instructions; every field set, so all plans share one shape. */
export interface ColumnPlan {
  readonly read: Read;
  /** The output's property; null for a column that is not captured. */
  readonly name: string | null;
  /** Bytes of a fixed-width value, or of the length prefix of a variable one (then `prefixed`). */
  readonly width: number;
  readonly prefixed: boolean;
  /** Fractional-second digits stored (temporals); DECIMAL's precision. */
  readonly digits: number;
  /** DECIMAL's scale; the fractional digits TIMESTAMP is printed with; BINARY(n)'s n; BIT(n)'s n. */
  readonly size: number;
  readonly big: boolean;
  readonly nullable: boolean;
  readonly symbols: readonly string[];
  readonly decode: TextDecode | null;
}

/** The fractional digits MariaDB 5.3's temporals leave to COLUMN_TYPE alone ('datetime(3) /* mariadb-5.3 *\/'). */
function hiresDigits(column: TableMapColumn): number {
  const match = /^(?:time|datetime|timestamp)\((\d)\)/.exec(column.columnType);
  return match === null ? 0 : Number(match[1]);
}

function metadata(table: string, column: TableMapColumn, key: keyof ColumnMetadata): number {
  const value = column.metadata[key];
  if (value === undefined) throw new SourceError(`the table map of ${table} gives column ${column.name} (type ${column.type}) no ${key}`);
  return value;
}

interface Layout {
  readonly width: number;
  readonly prefixed: boolean;
  /** Fractional-second digits of a temporal. */
  readonly digits: number;
}

const fixed = (width: number, digits = 0): Layout => ({ width, prefixed: false, digits });
const prefixed = (width: number): Layout => ({ width, prefixed: true, digits: 0 });

/** Where a column's value ends: a fixed width, or a length prefix of `width` bytes. */
function layoutOf(table: string, column: TableMapColumn): Layout {
  switch (column.type) {
    case MysqlType.TINY:
    case MysqlType.YEAR:
      return fixed(1);
    case MysqlType.SHORT:
      return fixed(2);
    case MysqlType.INT24:
    case MysqlType.DATE:
    case MysqlType.NEWDATE:
      return fixed(3);
    case MysqlType.LONG:
    case MysqlType.FLOAT:
      return fixed(4);
    case MysqlType.LONGLONG:
    case MysqlType.DOUBLE:
      return fixed(8);
    case MysqlType.TIME: {
      const digits = hiresDigits(column);
      return digits === 0 ? fixed(3) : fixed(HIRES_TIME_BYTES[digits]!, digits);
    }
    case MysqlType.DATETIME: {
      const digits = hiresDigits(column);
      return digits === 0 ? fixed(8) : fixed(HIRES_DATETIME_BYTES[digits]!, digits);
    }
    case MysqlType.TIMESTAMP: {
      const digits = hiresDigits(column);
      return fixed(4 + HIRES_FRACTION_BYTES[digits]!, digits);
    }
    case MysqlType.TIME2:
    case MysqlType.DATETIME2:
    case MysqlType.TIMESTAMP2: {
      const digits = column.metadata.decimals ?? 0;
      const whole = column.type === MysqlType.TIME2 ? 3 : column.type === MysqlType.DATETIME2 ? 5 : 4;
      return fixed(whole + ((digits + 1) >> 1), digits);
    }
    case MysqlType.NEWDECIMAL:
      return fixed(decimalBytes(metadata(table, column, 'precision'), metadata(table, column, 'decimals')));
    case MysqlType.BIT:
      return fixed((metadata(table, column, 'bits') + 7) >> 3);
    case MysqlType.ENUM:
    case MysqlType.SET:
      return fixed(metadata(table, column, 'size'));
    case MysqlType.VARCHAR:
    case MysqlType.VARCHAR_COMPRESSED:
    case MysqlType.STRING:
      return prefixed(metadata(table, column, 'maxLength') > 255 ? 2 : 1);
    case MysqlType.VAR_STRING:
      return prefixed(1);
    case MysqlType.TINY_BLOB:
    case MysqlType.MEDIUM_BLOB:
    case MysqlType.LONG_BLOB:
    case MysqlType.BLOB:
    case MysqlType.BLOB_COMPRESSED:
    case MysqlType.GEOMETRY:
    case MysqlType.JSON:
      return prefixed(metadata(table, column, 'lengthSize'));
    default:
      throw new SourceError(`column ${column.name} of ${table} has binlog type ${column.type}, whose row-image layout Tributary does not know`, {
        fix: `convert the column to a current type (it predates MySQL 5.0), or drop it from ${table}`,
      });
  }
}

const INTEGER_KINDS = new Set(['int8', 'int16', 'int32', 'int64']);
const TEXT_KINDS = new Set(['string', 'json']);

/** How a captured column's values are read, given its layout and its FieldType; undefined when they do not fit. */
function readOf(column: TableMapColumn, type: FieldType): Read | undefined {
  const kind = type.kind;
  const unsigned = column.unsigned;
  switch (column.type) {
    case MysqlType.TINY:
      return INTEGER_KINDS.has(kind) ? (unsigned ? Read.Uint8 : Read.Int8) : undefined;
    case MysqlType.SHORT:
      return INTEGER_KINDS.has(kind) ? (unsigned ? Read.Uint16 : Read.Int16) : undefined;
    case MysqlType.INT24:
      return INTEGER_KINDS.has(kind) ? (unsigned ? Read.Uint24 : Read.Int24) : undefined;
    case MysqlType.LONG:
      return INTEGER_KINDS.has(kind) ? (unsigned ? Read.Uint32 : Read.Int32) : undefined;
    case MysqlType.LONGLONG:
      return kind === 'int64' ? Read.Int64 : undefined;
    case MysqlType.FLOAT:
      return kind === 'float32' || kind === 'float64' ? Read.Float : undefined;
    case MysqlType.DOUBLE:
      return kind === 'float64' ? Read.Double : undefined;
    case MysqlType.NEWDECIMAL:
      return kind === 'decimal' ? Read.Decimal : undefined;
    case MysqlType.YEAR:
      return kind === 'year' ? Read.Year : undefined;
    case MysqlType.DATE:
      return kind === 'date' ? Read.Date : undefined;
    case MysqlType.TIME2:
      return kind === 'time' ? Read.Time2 : undefined;
    case MysqlType.TIME:
      return kind === 'time' ? (hiresDigits(column) === 0 ? Read.Time : Read.TimeHires) : undefined;
    case MysqlType.DATETIME2:
      return kind === 'timestamp' ? Read.DateTime2 : undefined;
    case MysqlType.DATETIME:
      return kind === 'timestamp' ? (hiresDigits(column) === 0 ? Read.DateTime : Read.DateTimeHires) : undefined;
    case MysqlType.TIMESTAMP2:
      return kind === 'timestamptz' ? Read.Timestamp2 : undefined;
    case MysqlType.TIMESTAMP:
      return kind === 'timestamptz' ? (hiresDigits(column) === 0 ? Read.Timestamp : Read.TimestampHires) : undefined;
    case MysqlType.VARCHAR:
    case MysqlType.STRING:
    case MysqlType.VAR_STRING:
    case MysqlType.TINY_BLOB:
    case MysqlType.MEDIUM_BLOB:
    case MysqlType.LONG_BLOB:
    case MysqlType.BLOB:
      return kind === 'bytes' ? Read.Bytes : TEXT_KINDS.has(kind) ? Read.Text : undefined;
    case MysqlType.VARCHAR_COMPRESSED:
    case MysqlType.BLOB_COMPRESSED:
      return kind === 'bytes' ? Read.CompressedBytes : TEXT_KINDS.has(kind) ? Read.CompressedText : undefined;
    case MysqlType.JSON:
      return kind === 'json' ? Read.Json : undefined;
    case MysqlType.ENUM:
      return kind === 'enum' ? Read.Enum : undefined;
    case MysqlType.SET:
      return kind === 'set' ? Read.Set : undefined;
    case MysqlType.BIT:
      return kind === 'bits' ? Read.Bits : undefined;
    default:
      return undefined;
  }
}

export function planColumn(table: string, column: TableMapColumn, captured: Column | undefined): ColumnPlan {
  const layout = layoutOf(table, column);
  const plan: ColumnPlan = {
    read: Read.Skip,
    name: null,
    width: layout.width,
    prefixed: layout.prefixed,
    digits: layout.digits,
    size: 0,
    big: false,
    nullable: true,
    symbols: [],
    decode: null,
  };
  if (captured === undefined) return plan;
  const type = captured.type;
  const read = readOf(column, type);
  if (read === undefined) {
    throw new SourceError(`column ${column.name} of ${table} is ${type.kind} in the table schema, but the binlog writes it as type ${column.type}`, {
      fix: 'the table schema is not the one these rows were written with; restart the source to read the table anew',
    });
  }
  const decode = read === Read.Text || read === Read.CompressedText ? textDecoderFor(column.charset) : null;
  if (decode === undefined) {
    throw new SourceError(`column ${column.name} of ${table} has character set ${column.charset}, which Tributary cannot decode`, {
      fix: `convert the column to utf8mb4, or leave it out with columns.exclude: [${column.name}] for table ${table}`,
    });
  }
  const decimal = type.kind === 'decimal';
  return {
    ...plan,
    read,
    name: captured.name,
    digits: decimal ? metadata(table, column, 'precision') : layout.digits,
    size: sizeOf(column, type, decimal ? metadata(table, column, 'decimals') : 0),
    big: type.kind === 'int64',
    nullable: captured.nullable,
    symbols: type.kind === 'enum' || type.kind === 'set' ? type.symbols : [],
    decode,
  };
}

/** The plan's `size`: DECIMAL's scale, TIMESTAMP's printed digits, BINARY(n)'s n, BIT(n)'s n. */
function sizeOf(column: TableMapColumn, type: FieldType, scale: number): number {
  switch (type.kind) {
    case 'decimal':
      return scale;
    case 'timestamptz':
      return type.precision;
    case 'bits':
      return type.length;
    case 'bytes': {
      const binary = /^binary\((\d+)\)/.exec(column.columnType);
      return binary === null ? 0 : Number(binary[1]);
    }
    default:
      return 0;
  }
}
