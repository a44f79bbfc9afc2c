/**
 * Parsers from PostgreSQL's text output (with the session settings in connection.ts: DateStyle ISO,
 * IntervalStyle iso_8601, TimeZone UTC, bytea_output hex) to the neutral values of src/model/change.ts.
 */
import type { Value } from '../../model/change.js';

const US_PER_SECOND = 1_000_000n;
const US_PER_DAY = 86_400n * US_PER_SECOND;
const MS_PER_DAY = 86_400_000;

export class TextValueError extends Error {}

function fail(kind: string, text: string): never {
  throw new TextValueError(`cannot read ${JSON.stringify(text)} as ${kind}`);
}

export function parseBoolean(text: string): boolean {
  if (text === 't') return true;
  if (text === 'f') return false;
  return fail('boolean', text);
}

export function parseInteger(text: string): number {
  if (!/^-?\d+$/.test(text)) fail('integer', text);
  return Number(text);
}

export function parseBigInt(text: string): bigint {
  if (!/^-?\d+$/.test(text)) fail('bigint', text);
  return BigInt(text);
}

/** float4/float8 text, including NaN and ±Infinity (Number() reads those spellings). */
export function parseFloat(text: string): number {
  const value = Number(text);
  if (Number.isNaN(value) && text !== 'NaN') fail('float', text);
  return value;
}

/** numeric keeps its text; NaN and ±Infinity have no decimal value, so they become null. */
export function parseNumeric(text: string): string | null {
  if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') return null;
  if (!/^-?\d+(\.\d+)?$/.test(text)) fail('numeric', text);
  return text;
}

/** money under lc_monetary C: `$1,234.56`, `-$1,234.56`; a decimal string with scale 2. */
export function parseMoney(text: string): string {
  const negative = text.includes('-') || text.startsWith('(');
  const digits = text.replace(/[^0-9.]/g, '');
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(digits);
  if (match === null) return fail('money', text);
  const whole = match[1]!.replace(/^0+(?=\d)/, '');
  return `${negative ? '-' : ''}${whole}.${(match[2] ?? '').padEnd(2, '0')}`;
}

/** bytea in hex output: `\x0a0b`. */
export function parseBytea(text: string): Uint8Array {
  if (!text.startsWith('\\x') || text.length % 2 !== 0) fail('bytea (hex)', text);
  return new Uint8Array(Buffer.from(text.slice(2), 'hex'));
}

/**
 * A bit string as Debezium's PostgresValueConverter writes it: the last character is bit 0, bytes as
 * java.util.BitSet.toByteArray gives them — little-endian and only up to the highest set bit, so `B'00000000'`
 * is empty and `B'0000000100000010'` is [0x02, 0x01]. A single bit is a boolean.
 */
export function parseBits(text: string, length: number): Uint8Array | boolean {
  if (!/^[01]*$/.test(text)) fail('bit string', text);
  if (length === 1) return text === '1';
  const highest = text.length - 1 - text.indexOf('1');
  const bytes = new Uint8Array(text.includes('1') ? (highest >> 3) + 1 : 0);
  for (let i = 0; i < text.length; i++) {
    if (text[text.length - 1 - i] === '1') bytes[i >> 3]! |= 1 << (i & 7);
  }
  return bytes;
}

/** Days since 1970-01-01 of a proleptic Gregorian date; `bc` years count 1 BC as year 0. */
function epochDay(year: number, month: number, day: number, bc: boolean): number {
  const date = new Date(0);
  date.setUTCFullYear(bc ? 1 - year : year, month - 1, day);
  return Math.round(date.getTime() / MS_PER_DAY);
}

/** date `2024-01-02` or `0044-03-15 BC` → days since the epoch; ±infinity has no day number and becomes null. */
export function parseDate(text: string): number | null {
  if (text === 'infinity' || text === '-infinity') return null;
  const match = /^(\d{4,})-(\d\d)-(\d\d)( BC)?$/.exec(text);
  if (match === null) return fail('date', text);
  return epochDay(Number(match[1]), Number(match[2]), Number(match[3]), match[4] !== undefined);
}

function fractionMicros(fraction: string | undefined): bigint {
  return fraction === undefined ? 0n : BigInt(fraction.slice(1, 7).padEnd(6, '0'));
}

const TIME = '(\\d\\d):(\\d\\d):(\\d\\d)(\\.\\d+)?';
const TIME_TEXT = new RegExp(`^${TIME}$`);
const TIMETZ_TEXT = new RegExp(`^${TIME}([+-][\\d:]+)$`);
const TIMESTAMP_TEXT = new RegExp(`^(\\d{4,})-(\\d\\d)-(\\d\\d) ${TIME}([+-][\\d:]+)?( BC)?$`);
/** What a UTC session prints for a timestamptz in years 1–9999 AD: already ISO-8601 but for the `T` and `Z`. */
const UTC_TIMESTAMP_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

function timeMicros(hours: string, minutes: string, seconds: string, fraction: string | undefined): bigint {
  return (BigInt(hours) * 3600n + BigInt(minutes) * 60n + BigInt(seconds)) * US_PER_SECOND + fractionMicros(fraction);
}

/** time `04:05:06.789` → microseconds since midnight. */
export function parseTime(text: string): bigint {
  const match = TIME_TEXT.exec(text);
  if (match === null) return fail('time', text);
  return timeMicros(match[1]!, match[2]!, match[3]!, match[4]);
}

/** A UTC offset `+02`, `-03:30`, `+05:45:10` in seconds. */
function offsetSeconds(text: string): bigint {
  const match = /^([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/.exec(text);
  if (match === null) return fail('UTC offset', text);
  const seconds = BigInt(match[2]!) * 3600n + BigInt(match[3] ?? '0') * 60n + BigInt(match[4] ?? '0');
  return match[1] === '-' ? -seconds : seconds;
}

/** Microseconds since the epoch of `YYYY-MM-DD HH:MM:SS[.f][offset][ BC]`, offset applied when present. */
function timestampMicros(text: string, kind: string): bigint | null {
  if (text === 'infinity' || text === '-infinity') return null;
  const match = TIMESTAMP_TEXT.exec(text);
  if (match === null) return fail(kind, text);
  const day = BigInt(epochDay(Number(match[1]), Number(match[2]), Number(match[3]), match[9] !== undefined));
  const local = day * US_PER_DAY + timeMicros(match[4]!, match[5]!, match[6]!, match[7]);
  return match[8] === undefined ? local : local - offsetSeconds(match[8]) * US_PER_SECOND;
}

/** timestamp without zone → microseconds since the epoch of the wall-clock value read as UTC. */
export function parseTimestamp(text: string): bigint | null {
  return timestampMicros(text, 'timestamp');
}

function pad(value: number | bigint, width: number): string {
  return String(value).padStart(width, '0');
}

function fraction(micros: bigint, digits: number): string {
  if (digits <= 0) return '';
  return `.${pad(micros, 6).slice(0, digits)}`;
}

/** An instant as ISO-8601 UTC with exactly `digits` fractional digits, as Debezium's ZonedTimestamp writes it. */
export function formatInstant(epochMicros: bigint, digits: number): string {
  let days = epochMicros / US_PER_DAY;
  let rest = epochMicros % US_PER_DAY;
  if (rest < 0n) {
    rest += US_PER_DAY;
    days -= 1n;
  }
  const date = new Date(Number(days) * MS_PER_DAY);
  const year = date.getUTCFullYear();
  const yearText = year < 0 ? `-${pad(-year, 4)}` : year > 9999 ? `+${year}` : pad(year, 4);
  const seconds = rest / US_PER_SECOND;
  const clock = `${pad(seconds / 3600n, 2)}:${pad((seconds / 60n) % 60n, 2)}:${pad(seconds % 60n, 2)}`;
  return `${yearText}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}T${clock}${fraction(rest % US_PER_SECOND, digits)}Z`;
}

/** timestamptz (session TimeZone UTC) → ISO UTC string with the column's fractional digits; ±infinity kept as Debezium does. */
export function parseTimestamptz(text: string, digits: number): string | null {
  if (text === 'infinity' || text === '-infinity') return text;
  // The common case rearranged as text: no date arithmetic per value.
  const utc = UTC_TIMESTAMP_TEXT.exec(text);
  if (utc !== null) return `${utc[1]}T${utc[2]}${digits > 0 ? `.${(utc[3] ?? '').padEnd(6, '0').slice(0, digits)}` : ''}Z`;
  const micros = timestampMicros(text, 'timestamptz');
  return micros === null ? null : formatInstant(micros, digits);
}

/**
 * timetz `04:05:06.789+02` → the same instant of the day in UTC, `02:05:06.789Z`: Debezium's ZonedTime, which
 * prints only the fractional digits needed.
 */
export function parseTimetz(text: string): string {
  const match = TIMETZ_TEXT.exec(text);
  if (match === null) return fail('timetz', text);
  let micros = timeMicros(match[1]!, match[2]!, match[3]!, match[4]) - offsetSeconds(match[5]!) * US_PER_SECOND;
  micros = ((micros % US_PER_DAY) + US_PER_DAY) % US_PER_DAY;
  const seconds = micros / US_PER_SECOND;
  const fractionText = pad(micros % US_PER_SECOND, 6).replace(/0+$/, '');
  return `${pad(seconds / 3600n, 2)}:${pad((seconds / 60n) % 60n, 2)}:${pad(seconds % 60n, 2)}${fractionText === '' ? '' : `.${fractionText}`}Z`;
}

/** Debezium's MicroDuration average month: 365.25 / 12 days. */
export const DAYS_PER_MONTH_AVG = 365.25 / 12;
/** That month in microseconds: 2,629,800 s, a whole number, so month arithmetic stays exact. */
const US_PER_MONTH = 2_629_800n * US_PER_SECOND;

/**
 * interval in IntervalStyle iso_8601 (`P1Y2M3DT4H5M6.5S`, fields signed separately) → microseconds with
 * Debezium's MicroDuration rule (a month is 365.25/12 days), computed in integers: Debezium's doubles can
 * lose the last microsecond (1.000001 s), this does not.
 */
export function parseInterval(text: string): bigint {
  const match = /^P(?:(-?\d+)Y)?(?:(-?\d+)M)?(?:(-?\d+)W)?(?:(-?\d+)D)?(?:T(?:(-?\d+)H)?(?:(-?\d+)M)?(?:(-?)(\d+)(\.\d+)?S)?)?$/.exec(text);
  if (match === null || text === 'P' || text.endsWith('T')) return fail('interval (iso_8601)', text);
  const field = (index: number): bigint => BigInt(match[index] ?? '0');
  const months = field(1) * 12n + field(2);
  const days = field(3) * 7n + field(4);
  const seconds = field(8) * US_PER_SECOND + fractionMicros(match[9]);
  const clock = (field(5) * 3600n + field(6) * 60n) * US_PER_SECOND + (match[7] === '-' ? -seconds : seconds);
  return months * US_PER_MONTH + days * US_PER_DAY + clock;
}

/**
 * A one-dimensional or nested array literal `{1,NULL,"a \"b\""}` (optionally prefixed by bounds `[0:1]=`),
 * each element read by `element`.
 */
export function parseArray(text: string, element: (item: string) => Value): Value[] {
  let position = text.startsWith('[') ? text.indexOf('=') + 1 : 0;
  const parseLevel = (): Value[] => {
    if (text[position] !== '{') fail('array', text);
    position++;
    const items: Value[] = [];
    if (text[position] === '}') {
      position++;
      return items;
    }
    for (;;) {
      if (text[position] === '{') {
        items.push(parseLevel());
      } else if (text[position] === '"') {
        let item = '';
        position++;
        while (position < text.length && text[position] !== '"') {
          if (text[position] === '\\') position++;
          item += text[position++];
        }
        if (position >= text.length) fail('array', text);
        position++;
        items.push(element(item));
      } else {
        const start = position;
        while (position < text.length && text[position] !== ',' && text[position] !== '}') position++;
        const item = text.slice(start, position).trim();
        items.push(item === 'NULL' ? null : element(item));
      }
      const separator = text[position++];
      if (separator === '}') return items;
      if (separator !== ',') fail('array', text);
    }
  };
  const result = parseLevel();
  if (position !== text.length) fail('array', text);
  return result;
}
