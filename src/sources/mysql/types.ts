/**
 * MySQL/MariaDB column types onto the neutral FieldType, and column values onto neutral Values.
 *
 * Both readers feed the same converter: snapshot queries (mysql2 with dateStrings, bigNumberStrings and a UTC
 * session) and binlog rows (zongji with dateStrings and timezone 'Z') deliver integers as numbers or decimal
 * strings, DECIMAL as exact strings, temporals as text, and binary data as Buffers. The integer mapping follows
 * Debezium's defaults (TINYINT → int16, INT UNSIGNED → int64, bigint.unsigned.handling.mode=long: BIGINT
 * UNSIGNED → int64, values above 2^63-1 wrap as Java's long does).
 */
import type { Column, FieldType } from '../../model/schema.js';
import type { Row, Value } from '../../model/change.js';
import { SourceError } from '../../model/errors.js';
import { jsonBinaryToText } from './json-binary.js';

/** What the mapper needs to know about a column, from information_schema or from a binlog table map. */
export interface ColumnDescription {
  readonly name: string;
  /** COLUMN_TYPE as the server spells it: `int(10) unsigned`, `decimal(30,10)`, `enum('a','b')`. */
  readonly columnType: string;
  /** MariaDB JSON is LONGTEXT with a json_valid() check; MySQL's JSON has its own type. */
  readonly json?: boolean;
}

export function fieldTypeOf(table: string, column: ColumnDescription): FieldType {
  const text = column.columnType.trim().toLowerCase();
  const match = /^([a-z]+)\s*(?:\((.*)\))?\s*(.*)$/.exec(text);
  if (match === null) throw unsupported(table, column);
  const base = match[1]!;
  const args = match[2];
  const unsigned = /\bunsigned\b/.test(match[3] ?? '');
  const first = args === undefined ? undefined : Number.parseInt(args, 10);
  switch (base) {
    case 'tinyint':
      return { kind: 'int16' };
    case 'smallint':
      return { kind: unsigned ? 'int32' : 'int16' };
    case 'mediumint':
      return { kind: 'int32' };
    case 'int':
    case 'integer':
      return { kind: unsigned ? 'int64' : 'int32' };
    case 'bigint':
      return { kind: 'int64' };
    case 'decimal':
    case 'numeric':
    case 'dec':
    case 'fixed': {
      const [precision, scale] = (args ?? '10,0').split(',').map((n) => Number.parseInt(n, 10));
      return { kind: 'decimal', precision: precision ?? 10, scale: scale ?? 0 };
    }
    case 'float':
      return { kind: 'float32' };
    case 'double':
    case 'real':
      return { kind: 'float64' };
    case 'bit':
      return { kind: 'bits', length: first ?? 1 };
    case 'char':
    case 'varchar':
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
      return column.json === true ? { kind: 'json' } : { kind: 'string' };
    case 'json':
      return { kind: 'json' };
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return { kind: 'bytes' };
    case 'date':
      return { kind: 'date' };
    case 'time':
      return { kind: 'time', precision: first ?? 0 };
    case 'datetime':
      return { kind: 'timestamp', precision: first ?? 0 };
    case 'timestamp':
      return { kind: 'timestamptz', precision: first ?? 0 };
    case 'year':
      return { kind: 'year' };
    case 'enum':
      return { kind: 'enum', symbols: parseSymbols(args ?? '') };
    case 'set':
      return { kind: 'set', symbols: parseSymbols(args ?? '') };
    default:
      throw unsupported(table, column);
  }
}

function unsupported(table: string, column: ColumnDescription): SourceError {
  return new SourceError(`column ${table}.${column.name} has type ${column.columnType}, which Tributary cannot stream`, {
    fix: `leave the column out with columns.exclude: [${column.name}] for table ${table}`,
  });
}

/** The quoted list inside `enum(...)`/`set(...)`: `'a','it''s','b,c'` → ['a', "it's", 'b,c']. */
export function parseSymbols(list: string): string[] {
  const symbols: string[] = [];
  let i = 0;
  while (i < list.length) {
    if (list[i] !== "'") {
      i++;
      continue;
    }
    let symbol = '';
    i++;
    while (i < list.length) {
      const ch = list[i]!;
      if (ch === "'" && list[i + 1] === "'") {
        symbol += "'";
        i += 2;
      } else if (ch === '\\' && i + 1 < list.length) {
        symbol += list[i + 1];
        i += 2;
      } else if (ch === "'") {
        i++;
        break;
      } else {
        symbol += ch;
        i++;
      }
    }
    symbols.push(symbol);
  }
  return symbols;
}

const MS_PER_DAY = 86_400_000;

/**
 * A value as mysql2 or zongji delivered it → the neutral Value for `type`. `nullable` decides what a zero date
 * becomes: null for nullable columns, the epoch otherwise (as Debezium does).
 */
export function toValue(type: FieldType, raw: unknown, nullable = true): Value {
  if (raw === null || raw === undefined) return null;
  switch (type.kind) {
    case 'int8':
    case 'int16':
    case 'int32':
      return Number(raw);
    case 'int64':
      return BigInt.asIntN(64, BigInt(raw as string | number | bigint));
    case 'float32':
      return Math.fround(Number(raw));
    case 'float64':
      return Number(raw);
    case 'decimal':
      return String(raw);
    case 'bits':
      return bitsValue(asBytes(raw), type.length);
    case 'bytes':
      return new Uint8Array(asBytes(raw));
    case 'json':
      // MySQL's JSON arrives from the binlog in its binary form (see readJsonColumnsAsBytes), as text otherwise.
      if (Buffer.isBuffer(raw)) return jsonBinaryToText(raw);
      return typeof raw === 'string' ? raw : JSON.stringify(raw);
    case 'string':
    case 'enum':
    case 'set':
      return typeof raw === 'string' ? raw : Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'object' ? JSON.stringify(raw) : String(raw);
    case 'year':
      return Number(raw);
    case 'date': {
      const days = parseDate(String(raw));
      return days === null ? zero(nullable, 0) : days;
    }
    case 'time':
      return parseTime(String(raw));
    case 'timestamp': {
      const micros = parseDateTime(String(raw));
      return micros === null ? zero(nullable, 0n) : micros;
    }
    case 'timestamptz': {
      // TIMESTAMP cannot hold the epoch itself (its range starts a second later): the binlog writes the zero
      // timestamp '0000-00-00 00:00:00' as epoch 0, which a query shows as zeros.
      const micros = parseDateTime(String(raw));
      const zeroValue = micros === null || micros === 0n;
      return formatInstant(zeroValue ? 0n : micros, type.precision, zeroValue && nullable);
    }
    default:
      throw new SourceError(`MySQL value of kind ${type.kind} cannot be converted`);
  }
}

function zero<T extends Value>(nullable: boolean, epoch: T): T | null {
  return nullable ? null : epoch;
}

function asBytes(raw: unknown): Uint8Array {
  if (raw instanceof Uint8Array) return raw;
  if (typeof raw === 'string') return Buffer.from(raw, 'latin1');
  throw new SourceError(`expected binary data, got ${typeof raw}`);
}

/**
 * BIT(n) as both drivers deliver it (big-endian) → a boolean for BIT(1), otherwise ceil(n/8) little-endian bytes:
 * Debezium's io.debezium.data.Bits is Java BitSet byte order (JdbcValueConverters.convertBits reverses MySQL's
 * big-endian bytes and pads the high end).
 */
function bitsValue(bytes: Uint8Array, length: number): Value {
  if (length === 1) return bytes.some((b) => b !== 0);
  const width = Math.ceil(length / 8);
  const out = new Uint8Array(width);
  const src = bytes.length > width ? bytes.subarray(bytes.length - width) : bytes;
  for (let i = 0; i < src.length; i++) out[i] = src[src.length - 1 - i]!;
  return out;
}

/** 'YYYY-MM-DD' → days since 1970-01-01; null for MySQL's zero date or a zero month/day. */
export function parseDate(text: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (match === null) throw new SourceError(`"${text}" is not a MySQL date`);
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (m === 0 || d === 0) return null;
  return Math.round(utcMillis(y, m, d, 0, 0, 0) / MS_PER_DAY);
}

/** '[-]HHH:MM:SS[.ffffff]' → microseconds (negative times and over 24 h allowed, as MySQL TIME is a duration). */
export function parseTime(text: string): bigint {
  const match = /^(-)?(\d+):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (match === null) throw new SourceError(`"${text}" is not a MySQL time`);
  const seconds = BigInt(match[2]!) * 3600n + BigInt(match[3]!) * 60n + BigInt(match[4]!);
  const micros = seconds * 1_000_000n + fractionMicros(match[5]);
  return match[1] === '-' ? -micros : micros;
}

/** 'YYYY-MM-DD HH:MM:SS[.ffffff]' read as UTC → microseconds since the epoch; null for a zero date. */
export function parseDateTime(text: string): bigint | null {
  const fixed = fixedWidthDateTime(text);
  if (fixed !== undefined) return fixed;
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (match === null) throw new SourceError(`"${text}" is not a MySQL datetime`);
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo === 0 || d === 0) return null;
  return BigInt(utcMillis(y, mo, d, h, mi, s)) * 1000n + fractionMicros(match[7]);
}

/**
 * The binlog's hot path: zongji and mysql2 print every DATETIME/TIMESTAMP fixed-width, so it is read by position,
 * without a regex, substrings or a Date per value. undefined leaves any other form (and years below 100, which
 * Date.UTC maps to 19xx) to the general parser.
 */
function fixedWidthDateTime(text: string): bigint | null | undefined {
  const n = text.length;
  if (n !== 19 && (n < 21 || n > 26 || text[19] !== '.')) return undefined;
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== ' ' || text[13] !== ':' || text[16] !== ':') return undefined;
  const y = digitsAt(text, 0, 4);
  const mo = digitsAt(text, 5, 7);
  const d = digitsAt(text, 8, 10);
  const h = digitsAt(text, 11, 13);
  const mi = digitsAt(text, 14, 16);
  const s = digitsAt(text, 17, 19);
  const fraction = n === 19 ? 0 : digitsAt(text, 20, n) * 10 ** (26 - n);
  if (y < 100 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || fraction < 0) return undefined;
  if (mo === 0 || d === 0) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Exact as a double while |µs| < 2^53 (years before 2255): one bigint conversion instead of bigint arithmetic.
  return Math.abs(ms) < 9e12 ? BigInt(ms * 1000 + fraction) : BigInt(ms) * 1000n + BigInt(fraction);
}

/** The decimal digits text[from, to) as a number; -1 when one is not a digit. */
function digitsAt(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function utcMillis(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, s));
  date.setUTCFullYear(y); // Date.UTC maps years 0–99 to 1900–1999
  return date.getTime();
}

function fractionMicros(digits: string | undefined): bigint {
  return digits === undefined ? 0n : BigInt(digits.padEnd(6, '0'));
}

/** Microseconds since the epoch → '2024-01-02T03:04:05.123456Z' with `precision` fractional digits. */
export function formatInstant(micros: bigint, precision: number, asNull = false): string | null {
  if (asNull) return null;
  const millis = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const iso = new Date(Number(millis)).toISOString(); // 2024-01-02T03:04:05.123Z
  if (precision === 0) return `${iso.slice(0, 19)}Z`;
  const subSecond = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  return `${iso.slice(0, 19)}.${subSecond.toString().padStart(6, '0').slice(0, precision)}Z`;
}

/** A row as a driver delivered it (column name → raw value) → the neutral Row of the captured columns. */
export function toRow(columns: readonly Column[], raw: Readonly<Record<string, unknown>>): Row {
  const row: Record<string, Value> = {};
  for (const column of columns) row[column.name] = toValue(column.type, raw[column.name], column.nullable);
  return row;
}
