/**
 * The binary layouts of MySQL/MariaDB DECIMAL and temporal column values in row images, read into the neutral
 * Values: DECIMAL as strings/decimal.cc packs it, TIME2/DATETIME2/TIMESTAMP2 as my_time.cc does, the classic
 * pre-5.6.4 forms, and MariaDB 5.3's fractional temporals.
 */
import type { ColumnPlan } from './column-plan.js';
import { daysFromCivil, epochMicros, formatEpochSeconds, utcMillis } from './types.js';

/** Bytes of a DECIMAL group of 0–9 digits (strings/decimal.cc dig2bytes). */
const DIGIT_BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4] as const;

export function decimalBytes(precision: number, scale: number): number {
  const integral = precision - scale;
  return Math.floor(integral / 9) * 4 + DIGIT_BYTES[integral % 9]! + Math.floor(scale / 9) * 4 + DIGIT_BYTES[scale % 9]!;
}

/**
 * strings/decimal.cc decimal2bin: big-endian groups of nine digits (four bytes), a shorter group first in the
 * integral part and last in the fraction, the first bit flipped to sort the sign, every bit flipped when negative.
 * Printed as mysql2 prints DECIMAL: no leading zeros, exactly `scale` fractional digits.
 */
export function readDecimal(data: Buffer, pos: number, precision: number, scale: number): string {
  const integral = precision - scale;
  const mask = (data[pos]! & 0x80) === 0 ? 0xff : 0;
  let at = pos;
  let whole = '';
  const leading = DIGIT_BYTES[integral % 9]!;
  if (leading > 0) {
    const value = decimalGroup(data, pos, at, leading, mask);
    if (value !== 0) whole = String(value);
    at += leading;
  }
  for (let i = Math.floor(integral / 9); i > 0; i--, at += 4) {
    const value = decimalGroup(data, pos, at, 4, mask);
    whole = whole === '' ? (value === 0 ? '' : String(value)) : whole + String(value).padStart(9, '0');
  }
  let text = (mask === 0 ? '' : '-') + (whole === '' ? '0' : whole);
  if (scale === 0) return text;
  text += '.';
  for (let i = Math.floor(scale / 9); i > 0; i--, at += 4) text += String(decimalGroup(data, pos, at, 4, mask)).padStart(9, '0');
  const trailing = scale % 9;
  if (trailing > 0) text += String(decimalGroup(data, pos, at, DIGIT_BYTES[trailing]!, mask)).padStart(trailing, '0');
  return text;
}

/** The big-endian group of `bytes` at `at`, each byte XOR `mask`, the sign bit at `start` flipped back. */
function decimalGroup(data: Buffer, start: number, at: number, bytes: number, mask: number): number {
  let value = 0;
  for (let i = at; i < at + bytes; i++) value = value * 256 + ((data[i]! ^ mask ^ (i === start ? 0x80 : 0)) & 0xff);
  return value;
}

/** DATE: day in bits 0–4, month 5–8, year from bit 9 (sql/field.cc Field_newdate). Zero parts are a zero date. */
export function readDate(value: number, nullable: boolean): number | null {
  const day = value & 31;
  const month = (value >> 5) & 15;
  if (month === 0 || day === 0) return nullable ? null : 0;
  return daysFromCivil(value >> 9, month, day);
}

/** Fractional seconds of TIME2/DATETIME2/TIMESTAMP2 → µs: ceil(digits/2) big-endian bytes, 2 digits a byte. */
export function fraction(data: Buffer, pos: number, digits: number): number {
  switch ((digits + 1) >> 1) {
    case 0:
      return 0;
    case 1:
      return data[pos]! * 10_000;
    case 2:
      return data.readUInt16BE(pos) * 100;
    default:
      return data.readUIntBE(pos, 3);
  }
}

const PACKED_SECOND = 2 ** 24;

/**
 * TIME2 (my_time.cc my_time_packed_from_binary): the packed time (hms << 24 | µs) plus 0x800000 << 24, big-endian,
 * in 3 bytes and the fraction's; a negative fraction borrows from the integral part. hms is hour (10 bits),
 * minute (6), second (6). → signed µs, as a duration: negative and beyond 24 hours allowed.
 */
export function readTime2(data: Buffer, pos: number, digits: number): bigint {
  let packed: number;
  if (digits >= 5) packed = data.readUIntBE(pos, 6) - 0x8000_0000_0000;
  else {
    let whole = data.readUIntBE(pos, 3) - 0x80_0000;
    let part = digits === 0 ? 0 : digits <= 2 ? data[pos + 3]! : data.readUInt16BE(pos + 3);
    const unit = digits <= 2 ? 0x100 : 0x1_0000;
    if (whole < 0 && part !== 0) {
      whole++;
      part -= unit;
    }
    packed = whole * PACKED_SECOND + part * (digits <= 2 ? 10_000 : 100);
  }
  const magnitude = Math.abs(packed);
  const hms = Math.floor(magnitude / PACKED_SECOND);
  const micros = ((((hms >> 12) & 0x3ff) * 60 + ((hms >> 6) & 63)) * 60 + (hms & 63)) * 1_000_000 + (magnitude % PACKED_SECOND);
  return BigInt(packed < 0 ? -micros : micros);
}

/** TIME before MySQL 5.6.4: ±HHMMSS as a 3-byte little-endian integer. */
export function readTime(value: number): bigint {
  const magnitude = Math.abs(value);
  const seconds = Math.floor(magnitude / 10_000) * 3600 + (Math.floor(magnitude / 100) % 100) * 60 + (magnitude % 100);
  return BigInt(value < 0 ? -seconds * 1_000_000 : seconds * 1_000_000);
}

/**
 * DATETIME2 (my_time.cc my_datetime_packed_from_binary): 40 bits big-endian, 0x8000000000 plus year×13+month
 * (17 bits), day (5), hour (5), minute (6), second (6), then the fraction. → µs of the wall-clock time read as UTC.
 */
export function readDateTime2(data: Buffer, pos: number, digits: number, nullable: boolean): bigint | null {
  const packed = data.readUIntBE(pos, 5) - 0x80_0000_0000;
  const ymd = Math.floor(packed / 0x2_0000);
  const hms = packed % 0x2_0000;
  const day = ymd & 31;
  const yearMonth = ymd >> 5;
  const month = yearMonth % 13;
  if (month === 0 || day === 0) return nullable ? null : 0n;
  const millis = utcMillis(Math.floor(yearMonth / 13), month, day, hms >> 12, (hms >> 6) & 63, hms & 63);
  return epochMicros(millis, fraction(data, pos + 5, digits));
}

/** DATETIME before MySQL 5.6.4: YYYYMMDDhhmmss as an 8-byte little-endian integer. */
export function readDateTime(value: number, nullable: boolean): bigint | null {
  const date = Math.floor(value / 1_000_000);
  const time = value % 1_000_000;
  const month = Math.floor(date / 100) % 100;
  const day = date % 100;
  if (month === 0 || day === 0) return nullable ? null : 0n;
  const millis = utcMillis(Math.floor(date / 10_000), month, day, Math.floor(time / 10_000), Math.floor(time / 100) % 100, time % 100);
  return epochMicros(millis, 0);
}

/**
 * TIMESTAMP (seconds since the epoch and µs) → the instant as Debezium prints it. The zero timestamp
 * '0000-00-00 00:00:00' is written as epoch 0, which TIMESTAMP cannot otherwise hold (its range starts a second
 * later).
 */
export function instant(seconds: number, micros: number, plan: ColumnPlan): string | null {
  if (seconds === 0 && micros === 0 && plan.nullable) return null;
  return formatEpochSeconds(seconds, micros, plan.size);
}

/** MariaDB 5.3's fractional temporals (TIME/DATETIME/TIMESTAMP(n) under the classic codes), by total bytes. */
export const HIRES_TIME_BYTES = [3, 4, 4, 5, 5, 5, 6] as const;
export const HIRES_DATETIME_BYTES = [5, 6, 6, 7, 7, 7, 8] as const;
export const HIRES_FRACTION_BYTES = [0, 1, 1, 2, 2, 3, 3] as const;
/** TIME_MAX_VALUE_SECONDS + 1: MariaDB 5.3's TIME is stored offset by it, so that it sorts unsigned. */
const HIRES_TIME_ZERO = 3_020_400;

export function hiresFraction(data: Buffer, pos: number, bytes: number, digits: number): number {
  return bytes === 0 ? 0 : data.readUIntBE(pos, bytes) * 10 ** (6 - digits);
}

/** MariaDB 5.3's TIME(n): seconds × 10^n plus the fraction, offset by the zero point, big-endian. */
export function readTimeHires(data: Buffer, pos: number, bytes: number, digits: number): bigint {
  const scale = 10 ** digits;
  const units = data.readUIntBE(pos, bytes) - HIRES_TIME_ZERO * scale;
  const magnitude = Math.abs(units);
  const micros = Math.floor(magnitude / scale) * 1_000_000 + (magnitude % scale) * 10 ** (6 - digits);
  return BigInt(units < 0 ? -micros : micros);
}

/** MariaDB 5.3's DATETIME(n): ((((year×13+month)×32+day)×24+hour)×60+minute)×60+second, × 10^n plus the fraction. */
export function readDateTimeHires(data: Buffer, pos: number, bytes: number, digits: number, nullable: boolean): bigint | null {
  let units = 0n;
  for (let i = 0; i < bytes; i++) units = (units << 8n) | BigInt(data[pos + i]!);
  const scale = 10n ** BigInt(digits);
  const micros = Number(units % scale) * 10 ** (6 - digits);
  let rest = units / scale;
  const take = (radix: bigint): number => {
    const part = Number(rest % radix);
    rest /= radix;
    return part;
  };
  const second = take(60n);
  const minute = take(60n);
  const hour = take(24n);
  const day = take(32n);
  const month = take(13n);
  if (month === 0 || day === 0) return nullable ? null : 0n;
  return epochMicros(utcMillis(Number(rest), month, day, hour, minute, second), micros);
}
