/**
 * MySQL/MariaDB column types onto the neutral FieldType, and column values as mysql2 delivers them onto neutral
 * Values.
 *
 * Snapshot and replay queries (mysql2 with dateStrings, bigNumberStrings and a UTC session) deliver integers as
 * numbers or decimal strings, DECIMAL as exact strings, temporals as text, and binary data as Buffers; binlog rows
 * are decoded from their bytes into the same Values by rows-event.ts, with the helpers exported here. The integer
 * mapping follows Debezium's defaults (TINYINT → int16, INT UNSIGNED → int64, bigint.unsigned.handling.mode=long:
 * BIGINT UNSIGNED → int64, values above 2^63-1 wrap as Java's long does).
 */
import type { Column, FieldType } from '../../model/schema.js';
import type { Row, Value } from '../../model/change.js';
import { SourceError } from '../../model/errors.js';

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
 * A value as mysql2 delivered it → the neutral Value for `type`. `nullable` decides what a zero date
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
 * BIT(n) as mysql2 and the binlog deliver it (big-endian) → a boolean for BIT(1), otherwise ceil(n/8) little-endian bytes:
 * Debezium's io.debezium.data.Bits is Java BitSet byte order (JdbcValueConverters.convertBits reverses MySQL's
 * big-endian bytes and pads the high end).
 */
export function bitsValue(bytes: Uint8Array, length: number): Value {
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
  return daysFromCivil(y, m, d);
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
 * The snapshot's hot path: mysql2 prints every DATETIME/TIMESTAMP fixed-width, so it is read by position, without
 * a regex or substrings per value. undefined leaves any other form to the general parser.
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
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || fraction < 0) return undefined;
  if (mo === 0 || d === 0) return null;
  return epochMicros(utcMillis(y, mo, d, h, mi, s), fraction);
}

/** A whole second as milliseconds since the epoch, and the 0–999999 µs past it → µs since the epoch. */
export function epochMicros(millis: number, micros: number): bigint {
  // Exact as a double while |µs| < 2^53 (years before 2255): one bigint conversion instead of bigint arithmetic.
  return Math.abs(millis) < 9e12 ? BigInt(millis * 1000 + micros) : BigInt(millis) * 1000n + BigInt(micros);
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

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil): exact for every year,
 * where Date.UTC maps years 0–99 to 1900–1999. Linear in the day, so an out-of-range day (MySQL's
 * ALLOW_INVALID_DATES) lands where Date would put it.
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146_097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719_468;
}

/** A wall-clock time read as UTC → milliseconds since the epoch. */
export function utcMillis(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  return daysFromCivil(y, mo, d) * MS_PER_DAY + ((h * 60 + mi) * 60 + s) * 1000;
}

function fractionMicros(digits: string | undefined): bigint {
  return digits === undefined ? 0n : BigInt(digits.padEnd(6, '0'));
}

/** Microseconds since the epoch → '2024-01-02T03:04:05.123456Z' with `precision` fractional digits. */
export function formatInstant(micros: bigint, precision: number, asNull = false): string | null {
  if (asNull) return null;
  const seconds = micros / 1_000_000n - (micros % 1_000_000n < 0n ? 1n : 0n);
  return formatEpochSeconds(Number(seconds), Number(micros - seconds * 1_000_000n), precision);
}

/** Seconds since the epoch and 0–999999 µs past them → '2024-01-02T03:04:05.123456Z' with `precision` digits. */
export function formatEpochSeconds(seconds: number, micros: number, precision: number): string {
  const iso = new Date(seconds * 1000).toISOString(); // 2024-01-02T03:04:05.000Z
  if (precision === 0) return `${iso.slice(0, 19)}Z`;
  return `${iso.slice(0, 19)}.${String(micros).padStart(6, '0').slice(0, precision)}Z`;
}

/** A row as a driver delivered it (column name → raw value) → the neutral Row of the captured columns. */
export function toRow(columns: readonly Column[], raw: Readonly<Record<string, unknown>>): Row {
  const row: Record<string, Value> = {};
  for (const column of columns) row[column.name] = toValue(column.type, raw[column.name], column.nullable);
  return row;
}
