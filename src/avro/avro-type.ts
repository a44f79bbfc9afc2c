/**
 * avsc Types built from the schema JSON of avro-data.ts, with longs as exact bigints (avsc's own long type
 * refuses values beyond 2^53), and the JSON each Type was built from, which is what goes to the registry.
 */
import avro from 'avsc';
import type { ConnectSchema } from './connect-schema.js';
import { toAvroSchema, type AvroSchemaJson } from './avro-data.js';
import { plainJson, printJavaJson } from './java-json.js';
import { AvroSchemaError } from './errors.js';

const MIN_LONG = -(2n ** 63n);
const MAX_LONG = 2n ** 63n - 1n;

/**
 * The 64-bit zigzag of longs beyond 52 bits as two 32-bit numbers. Nanosecond timestamps land there on every
 * event, and each bigint operation allocates: splitting takes four. An event's two (processing time and the
 * source's) repeat across the events of a millisecond or a transaction, so the last two splits are kept.
 */
class WideZigzags {
  private recent = { value: 0n, low: 0, high: 0 };
  private older = { value: 0n, low: 0, high: 0 };

  of(value: bigint): { readonly low: number; readonly high: number } {
    if (value === this.recent.value) return this.recent;
    if (value === this.older.value) return this.older;
    const zigzag = value >= 0n ? value << 1n : (-value << 1n) - 1n;
    const split = { value, low: Number(zigzag & 0xffffffffn), high: Number(zigzag >> 32n) };
    this.older = this.recent;
    this.recent = split;
    return split;
  }
}

/** Reads and writes every Avro long as a bigint, so int64 values survive the full signed 64-bit range. */
const bigintLong = withDirectAccess(
  avro.types.LongType.__with({
    fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
    toBuffer: (n: bigint) => {
      const buf = Buffer.alloc(8);
      buf.writeBigInt64LE(n);
      return buf;
    },
    fromJSON: (json: unknown) => BigInt(json as string | number),
    toJSON: (n: bigint) => (Number.isSafeInteger(Number(n)) ? Number(n) : n.toString()),
    isValid: (n: unknown) => typeof n === 'bigint' && n >= MIN_LONG && n <= MAX_LONG,
    compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
  }),
);

interface Tap {
  buf: Buffer;
  pos: number;
  writeLong(n: number): void;
}

/**
 * Reads a zigzag varint long as a bigint. avsc's custom long reads each value into a new 8-byte Buffer for
 * fromBuffer; the lake reads several longs per record. Seven 7-bit groups (49 bits) are summed as a double, exact;
 * longer values (nanosecond timestamps) continue in bigint.
 */
function readLong(tap: Tap): bigint {
  const { buf } = tap;
  let pos = tap.pos;
  let small = 0;
  let shift = 0;
  let byte: number | undefined;
  do {
    byte = buf[pos++];
    if (byte === undefined) return truncated(tap);
    small += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80 && shift < 49);
  if ((byte & 0x80) === 0) {
    tap.pos = pos;
    return BigInt(small % 2 === 0 ? small / 2 : -(small + 1) / 2);
  }
  let big = BigInt(small);
  let bigShift = 49n;
  do {
    byte = buf[pos++];
    if (byte === undefined) return truncated(tap);
    big |= BigInt(byte & 0x7f) << bigShift;
    bigShift += 7n;
  } while (byte & 0x80);
  tap.pos = pos;
  return BigInt.asIntN(64, (big >> 1n) ^ -(big & 1n));
}

/** Past the end: avsc checks the position after reading and reports the truncated buffer itself. */
function truncated(tap: Tap): bigint {
  tap.pos = tap.buf.length + 1;
  return 0n;
}

/**
 * avsc's custom long writes and reads through an 8-byte Buffer per value (toBuffer/fromBuffer around the varint),
 * the biggest allocation per event. This writes the zigzag varint straight from the bigint: through avsc's own
 * number path while the value is a safe integer (every realistic id, LSN and timestamp), bit by bit beyond; and
 * reads it with readLong.
 */
function withDirectAccess(frozen: avro.Type): avro.Type {
  const type = Object.create(frozen) as avro.Type & { _write(tap: Tap, n: unknown): void };
  const isValid = (frozen as unknown as { _isValid(n: unknown): boolean })._isValid;
  const wide = new WideZigzags();
  Object.defineProperty(type, '_read', { value: readLong });
  Object.defineProperty(type, '_write', {
    value: (tap: Tap, n: unknown): void => {
      if (typeof n === 'bigint' && n >= -0xfffffffffffffn && n <= 0xfffffffffffffn) return tap.writeLong(Number(n));
      if (!isValid(n)) throw new Error(`invalid "long": ${String(n)}`);
      const zigzag = wide.of(n as bigint);
      let low = zigzag.low;
      let high = zigzag.high;
      const { buf } = tap;
      while (high > 0 || low > 0x7f) {
        buf[tap.pos++] = (low & 0x7f) | 0x80;
        low = ((low >>> 7) | (high << 25)) >>> 0;
        high >>>= 7;
      }
      buf[tap.pos++] = low;
    },
  });
  return Object.freeze(type);
}

function isObjectLong(schema: avro.Schema): boolean {
  return typeof schema === 'object' && !Array.isArray(schema) && (schema as { type?: unknown }).type === 'long';
}

const schemaStrings = new WeakMap<avro.Type, string>();

/** An avsc Type for the Avro form of a Connect schema. */
export function avroTypeFor(schema: ConnectSchema): avro.Type {
  return typeFromJson(toAvroSchema(schema));
}

export function typeFromJson(json: AvroSchemaJson): avro.Type {
  const type = avro.Type.forSchema(plainJson(json) as avro.Schema, {
    registry: { long: bigintLong },
    // The registry only catches "long" by name; {"type":"long","connect.name":…} needs the hook.
    typeHook: (schema) => (isObjectLong(schema) ? bigintLong : undefined),
  });
  schemaStrings.set(type, printJavaJson(json));
  return type;
}

/**
 * The schema text to register for a Type made here: what the Confluent converter registers for Debezium's
 * Connect schema (AvroSchema.canonicalString(), i.e. Avro Java's Schema.toString()), connect.* properties kept.
 */
export function schemaJson(type: avro.Type): string {
  const json = schemaStrings.get(type);
  if (json === undefined) {
    throw new AvroSchemaError('schemaJson() only knows Types built by the Avro encoder', {
      fix: 'this is a bug: build the Type with buildKeySchema/buildValueSchema/buildTransactionSchemas',
    });
  }
  return json;
}
