/**
 * MySQL's binary JSON (how a JSON column travels in row events; sql-common/json_binary.cc) → the text MySQL itself
 * prints for the value (Json_wrapper::to_string: what SELECT, CAST(… AS CHAR) and JSON_EXTRACT(doc, '$') show), so
 * a JSON value streamed from the binlog is the same string the snapshot's SELECT returned for it.
 *
 *   doc         ::= type value                  (an empty doc is the JSON null literal, as MySQL reads it)
 *   object      ::= count size key-entry* value-entry* key* value*
 *   array       ::= count size value-entry* value*
 *   key-entry   ::= key-offset key-length(uint16)
 *   value-entry ::= type offset-or-inlined-value
 *   string      ::= var-length utf8mb4-bytes          opaque ::= field-type(uint8) var-length bytes
 *
 * count, size and offsets are uint16 in the small format and uint32 in the large one; offsets count from the
 * container's count field. Literals and 16-bit integers are inlined in their value entry, 32-bit integers only in
 * the large format. var-length is 7 bits a byte, least significant first, high bit set on all but the last byte.
 */
import { SourceError } from '../../model/errors.js';

const SMALL_OBJECT = 0x00;
const LARGE_OBJECT = 0x01;
const SMALL_ARRAY = 0x02;
const LARGE_ARRAY = 0x03;
const LITERAL = 0x04;
const INT16 = 0x05;
const UINT16 = 0x06;
const INT32 = 0x07;
const UINT32 = 0x08;
const INT64 = 0x09;
const UINT64 = 0x0a;
const DOUBLE = 0x0b;
const STRING = 0x0c;
const OPAQUE = 0x0f;

/** enum_field_types codes an opaque value can carry that MySQL prints as something other than base64. */
const FIELD_TIMESTAMP = 7;
const FIELD_DATE = 10;
const FIELD_TIME = 11;
const FIELD_DATETIME = 12;
const FIELD_NEWDECIMAL = 246;
const FIELD_VAR_STRING = 253;

/** JSON_DOCUMENT_MAX_DEPTH: MySQL refuses to store deeper documents. */
const MAX_DEPTH = 100;

/** Bytes of a decimal group holding 0–9 digits (strings/decimal.cc dig2bytes). */
const DIGIT_GROUP_BYTES: readonly number[] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

export function jsonBinaryToText(doc: Buffer): string {
  if (doc.length === 0) return 'null';
  return new JsonBinaryReader(doc).value(doc[0]!, 1, doc.length, 0);
}

class JsonBinaryReader {
  constructor(private readonly doc: Buffer) {}

  /** The value of binary type `type` stored from `start`, which may not read at or past `end`. */
  value(type: number, start: number, end: number, depth: number): string {
    switch (type) {
      case SMALL_OBJECT:
      case LARGE_OBJECT:
      case SMALL_ARRAY:
      case LARGE_ARRAY:
        if (depth >= MAX_DEPTH) throw this.malformed(start, `nests deeper than MySQL's ${MAX_DEPTH} levels`);
        return this.container(start, end, type === LARGE_OBJECT || type === LARGE_ARRAY, type <= LARGE_OBJECT, depth + 1);
      default:
        return this.scalar(type, start, end);
    }
  }

  private container(start: number, end: number, large: boolean, isObject: boolean, depth: number): string {
    const word = large ? 4 : 2;
    this.need(start, 2 * word, end, 'a container header');
    const count = this.offsetOrSize(start, large);
    const size = this.offsetOrSize(start + word, large);
    if (size > end - start) throw this.malformed(start, `container declares ${size} bytes but only ${end - start} remain`);
    const keyEntry = word + 2;
    const valueEntry = 1 + word;
    const keyEntries = start + 2 * word;
    const valueEntries = keyEntries + (isObject ? count * keyEntry : 0);
    const header = valueEntries + count * valueEntry - start;
    if (header > size) throw this.malformed(start, `${count} entries do not fit in a container of ${size} bytes`);
    const limit = start + size;
    const parts: string[] = [];
    for (let i = 0; i < count; i++) {
      const entry = valueEntries + i * valueEntry;
      const type = this.doc[entry]!;
      let text: string;
      if (type === LITERAL || type === INT16 || type === UINT16 || (large && (type === INT32 || type === UINT32))) {
        text = this.scalar(type, entry + 1, entry + valueEntry);
      } else {
        const offset = this.offsetOrSize(entry + 1, large);
        if (offset < entry + valueEntry - start || offset > size) {
          throw this.malformed(entry, `value offset ${offset} points outside its container`);
        }
        text = this.value(type, start + offset, limit, depth);
      }
      if (isObject) {
        const key = keyEntries + i * keyEntry;
        const keyOffset = this.offsetOrSize(key, large);
        const keyLength = this.doc.readUInt16LE(key + word);
        if (keyOffset < header || keyOffset + keyLength > size) {
          throw this.malformed(key, `key offset ${keyOffset} points outside its object`);
        }
        text = `${quote(this.utf8(start + keyOffset, keyLength))}: ${text}`;
      }
      parts.push(text);
    }
    return isObject ? `{${parts.join(', ')}}` : `[${parts.join(', ')}]`;
  }

  private scalar(type: number, start: number, end: number): string {
    const doc = this.doc;
    switch (type) {
      case LITERAL: {
        this.need(start, 1, end, 'a literal');
        const literal = ['null', 'true', 'false'][doc[start]!];
        if (literal === undefined) throw this.malformed(start, `literal 0x${doc[start]!.toString(16)} is not null, true or false`);
        return literal;
      }
      case INT16:
        this.need(start, 2, end, 'an int16');
        return String(doc.readInt16LE(start));
      case UINT16:
        this.need(start, 2, end, 'a uint16');
        return String(doc.readUInt16LE(start));
      case INT32:
        this.need(start, 4, end, 'an int32');
        return String(doc.readInt32LE(start));
      case UINT32:
        this.need(start, 4, end, 'a uint32');
        return String(doc.readUInt32LE(start));
      case INT64:
        this.need(start, 8, end, 'an int64');
        return String(doc.readBigInt64LE(start));
      case UINT64:
        this.need(start, 8, end, 'a uint64');
        return String(doc.readBigUInt64LE(start));
      case DOUBLE: {
        this.need(start, 8, end, 'a double');
        const double = doc.readDoubleLE(start);
        if (!Number.isFinite(double)) throw this.malformed(start, `double ${double} is not a JSON number`);
        return formatDouble(double);
      }
      case STRING: {
        const [length, width] = this.variableLength(start, end);
        this.need(start + width, length, end, 'a string');
        return quote(this.utf8(start + width, length));
      }
      case OPAQUE: {
        this.need(start, 1, end, 'an opaque value');
        const [length, width] = this.variableLength(start + 1, end);
        this.need(start + 1 + width, length, end, 'an opaque value');
        const data = doc.subarray(start + 1 + width, start + 1 + width + length);
        return this.opaque(doc[start]!, data, start);
      }
      default:
        throw this.malformed(start, `type 0x${type.toString(16)} is not a binary JSON type`);
    }
  }

  /** How Json_wrapper::to_string prints a value MySQL stored with its SQL type. */
  private opaque(fieldType: number, data: Buffer, at: number): string {
    const fail = (problem: string): SourceError => this.malformed(at, problem);
    switch (fieldType) {
      case FIELD_NEWDECIMAL:
        return decimalText(data, fail);
      case FIELD_DATE:
      case FIELD_TIME:
      case FIELD_DATETIME:
      case FIELD_TIMESTAMP:
        if (data.length !== 8) throw fail(`a packed temporal value has ${data.length} bytes, not 8`);
        return quote(temporalText(fieldType, data.readBigInt64LE(0)));
      case FIELD_VAR_STRING:
        return quote(data.toString('utf8'));
      default:
        return quote(`base64:type${fieldType}:${mysqlBase64(data)}`);
    }
  }

  private offsetOrSize(at: number, large: boolean): number {
    return large ? this.doc.readUInt32LE(at) : this.doc.readUInt16LE(at);
  }

  /** read_variable_length: at most five bytes, as a length never exceeds 32 bits. [length, bytes used]. */
  private variableLength(start: number, end: number): [number, number] {
    let length = 0;
    for (let i = 0; i < 5 && start + i < end; i++) {
      const byte = this.doc[start + i]!;
      length += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) {
        if (length > 0xffff_ffff) break;
        return [length, i + 1];
      }
    }
    throw this.malformed(start, 'a variable-length size runs past its value');
  }

  private utf8(start: number, length: number): string {
    return this.doc.toString('utf8', start, start + length);
  }

  private need(start: number, bytes: number, end: number, what: string): void {
    if (start + bytes > end) throw this.malformed(start, `${what} needs ${bytes} bytes but only ${Math.max(0, end - start)} remain`);
  }

  private malformed(at: number, problem: string): SourceError {
    return new SourceError(`MySQL binary JSON value of ${this.doc.length} bytes is malformed at byte ${at}: ${problem}`, {
      fix: 'the binlog holds a JSON value this reader cannot decode: leave the column out with columns.exclude and report the value',
    });
  }
}

/**
 * double_quote() in json_dom.cc escapes `"`, `\`, and the control characters below 0x20 (\b \t \n \f \r by name,
 * the rest as \u00xx in lower-case hex), and nothing else: exactly JSON.stringify's escaping of a string that
 * decoded from UTF-8, which cannot hold the lone surrogates it would escape differently.
 */
function quote(text: string): string {
  return JSON.stringify(text);
}

/** MySQL's base64_encode: the standard alphabet with padding, and a newline after every 76 characters. */
function mysqlBase64(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join('\n');
}

/**
 * A DECIMAL as Json_decimal stores it (precision byte, scale byte, then decimal2bin's big-endian groups of nine
 * digits with the sign in the top bit) → decimal2string's text: the declared scale kept, at least one integer digit.
 */
function decimalText(data: Buffer, fail: (problem: string) => SourceError): string {
  const problem = (what: string): SourceError => fail(`DECIMAL ${what}`);
  if (data.length < 2) throw problem('lacks its precision and scale bytes');
  const precision = data[0]!;
  const scale = data[1]!;
  if (precision < 1 || precision > 65 || scale > 30 || scale > precision) throw problem(`(${precision},${scale}) is out of range`);
  const intDigits = precision - scale;
  const groups = [
    ...(intDigits % 9 > 0 ? [intDigits % 9] : []),
    ...Array<number>(Math.floor(intDigits / 9)).fill(9),
    ...Array<number>(Math.floor(scale / 9)).fill(9),
    ...(scale % 9 > 0 ? [scale % 9] : []),
  ];
  const bytes = Buffer.from(data.subarray(2));
  const expected = groups.reduce((sum, digits) => sum + DIGIT_GROUP_BYTES[digits]!, 0);
  if (bytes.length !== expected) throw problem(`(${precision},${scale}) has ${bytes.length} value bytes, not ${expected}`);
  const negative = (bytes[0]! & 0x80) === 0;
  bytes[0]! ^= 0x80;
  if (negative) for (let i = 0; i < bytes.length; i++) bytes[i] = ~bytes[i]! & 0xff;
  let digits = '';
  let pos = 0;
  for (const count of groups) {
    const width = DIGIT_GROUP_BYTES[count]!;
    const group = bytes.readUIntBE(pos, width);
    if (group >= 10 ** count) throw problem(`group ${group} has more than ${count} digits`);
    digits += String(group).padStart(count, '0');
    pos += width;
  }
  const integer = digits.slice(0, intDigits).replace(/^0+/, '') || '0';
  const fraction = digits.slice(intDigits);
  return `${negative ? '-' : ''}${integer}${scale > 0 ? `.${fraction}` : ''}`;
}

/**
 * A temporal value as Json_datetime stores it (TIME_to_longlong_packed: (integer part << 24) + microseconds,
 * negated for a negative TIME) → my_TIME_to_str with six fractional digits, as json_dom prints it.
 */
function temporalText(fieldType: number, packed: bigint): string {
  const negative = packed < 0n;
  const magnitude = negative ? -packed : packed;
  const micros = `.${String(magnitude & 0xff_ffffn).padStart(6, '0')}`;
  const whole = magnitude >> 24n;
  const two = (n: bigint): string => String(n).padStart(2, '0');
  if (fieldType === FIELD_TIME) {
    const hour = (whole >> 12n) % 1024n;
    return `${negative ? '-' : ''}${two(hour)}:${two((whole >> 6n) % 64n)}:${two(whole % 64n)}${micros}`;
  }
  const ymd = whole >> 17n;
  const hms = whole % (1n << 17n);
  const date = `${String((ymd >> 5n) / 13n).padStart(4, '0')}-${two((ymd >> 5n) % 13n)}-${two(ymd % 32n)}`;
  if (fieldType === FIELD_DATE) return date;
  return `${date} ${two(hms >> 12n)}:${two((hms >> 6n) % 64n)}:${two(hms % 64n)}${micros}`;
}

/** MY_GCVT_MAX_FIELD_WIDTH: the width json_dom.cc gives my_gcvt for a double. */
const GCVT_WIDTH = 34;
/** MAX_DECPT_FOR_F_FORMAT (DBL_DIG): beyond it my_gcvt prefers the exponent form. */
const MAX_DECPT_FOR_F = 15;

/**
 * A double as json_dom.cc prints it: my_gcvt(MY_GCVT_ARG_DOUBLE, width 34) over the shortest round-trip digits
 * (dtoa mode 4 with more digits than a double has is mode 0), then ".0" when the text has neither a point nor an
 * exponent, so it still reads as a double. Exponents carry no "+" and no padding: 1e15, 1.5e-7.
 */
function formatDouble(value: number): string {
  const negative = value < 0 || Object.is(value, -0);
  const [mantissa, exponent] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const len = digits.length;
  const decpt = Number(exponent) + 1;
  // my_gcvt drops the sign from the width only for x < 0, so -0.0 keeps the full width.
  const width = value < 0 ? GCVT_WIDTH - 1 : GCVT_WIDTH;
  const expLen = 1 + (decpt >= 101 || decpt <= -99 ? 1 : 0) + (decpt >= 11 || decpt <= -9 ? 1 : 0);
  const haveSpace = (decpt <= 0 ? len - decpt + 2 : decpt < len ? len + 1 : decpt) <= width;
  const forceE = decpt <= 0 && width <= 2 - decpt && width >= 3 + expLen;
  const fixed =
    (haveSpace || (decpt <= width && (decpt >= -1 || (decpt === -2 && (len > 1 || !forceE))) && !forceE)) &&
    (!haveSpace || (decpt >= -MAX_DECPT_FOR_F + 1 && (decpt <= MAX_DECPT_FOR_F || len > decpt)));
  let text: string;
  if (fixed) {
    if (decpt <= 0) text = `0.${'0'.repeat(-decpt)}${digits}`;
    else if (decpt < len) text = `${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
    else text = digits + '0'.repeat(decpt - len);
  } else {
    text = `${digits[0]!}${len > 1 ? `.${digits.slice(1)}` : ''}e${decpt - 1}`;
  }
  if (!/[.e]/.test(text)) text += '.0';
  return negative ? `-${text}` : text;
}
