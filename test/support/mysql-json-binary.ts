/**
 * Builds MySQL binary JSON documents the way the server serializes them (sql-common/json_binary.cc serialize()),
 * for decoder fixtures: object keys sorted by byte length then bytes, literals and 16-bit integers inlined in
 * their value entry (32-bit ones too in the large format), the small format unless a size or offset does not fit
 * in 16 bits (then the enclosing containers go large, as MySQL's retry does), DECIMALs and temporals as opaque
 * values in Json_decimal / Json_datetime's binary forms. `large: true` forces the large format on a container.
 */

export type JsonNode =
  | { readonly kind: 'literal'; readonly value: null | boolean }
  | { readonly kind: 'int' | 'uint'; readonly value: bigint }
  | { readonly kind: 'double'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'opaque'; readonly fieldType: number; readonly data: Buffer }
  | { readonly kind: 'array'; readonly items: readonly JsonNode[]; readonly large?: boolean }
  | { readonly kind: 'object'; readonly members: readonly (readonly [string, JsonNode])[]; readonly large?: boolean };

export const FieldType = { TIMESTAMP: 7, DATE: 10, TIME: 11, DATETIME: 12, VARCHAR: 15, BIT: 16, NEWDECIMAL: 246, BLOB: 252, VAR_STRING: 253 } as const;

export const json = {
  null: { kind: 'literal', value: null } as JsonNode,
  true: { kind: 'literal', value: true } as JsonNode,
  false: { kind: 'literal', value: false } as JsonNode,
  int: (value: number | bigint): JsonNode => ({ kind: 'int', value: BigInt(value) }),
  uint: (value: number | bigint): JsonNode => ({ kind: 'uint', value: BigInt(value) }),
  double: (value: number): JsonNode => ({ kind: 'double', value }),
  string: (value: string): JsonNode => ({ kind: 'string', value }),
  array: (items: readonly JsonNode[], large?: boolean): JsonNode => ({ kind: 'array', items, ...(large ? { large } : {}) }),
  object: (members: Record<string, JsonNode> | readonly (readonly [string, JsonNode])[], large?: boolean): JsonNode => ({
    kind: 'object',
    members: Array.isArray(members) ? members : Object.entries(members),
    ...(large ? { large } : {}),
  }),
  opaque: (fieldType: number, data: Buffer): JsonNode => ({ kind: 'opaque', fieldType, data }),
  /** Json_decimal::get_binary: precision, scale, then my_decimal2binary. */
  decimal: (text: string, precision: number, scale: number): JsonNode =>
    json.opaque(FieldType.NEWDECIMAL, Buffer.concat([Buffer.from([precision, scale]), decimalBinary(text, precision, scale)])),
  date: (y: number, m: number, d: number): JsonNode => json.opaque(FieldType.DATE, packedDateTime(y, m, d, 0, 0, 0, 0)),
  datetime: (y: number, m: number, d: number, h: number, mi: number, s: number, micros = 0): JsonNode =>
    json.opaque(FieldType.DATETIME, packedDateTime(y, m, d, h, mi, s, micros)),
  timestamp: (y: number, m: number, d: number, h: number, mi: number, s: number, micros = 0): JsonNode =>
    json.opaque(FieldType.TIMESTAMP, packedDateTime(y, m, d, h, mi, s, micros)),
  time: (negative: boolean, h: number, mi: number, s: number, micros = 0): JsonNode => {
    const packed = ((BigInt((h << 12) | (mi << 6) | s) << 24n) + BigInt(micros)) * (negative ? -1n : 1n);
    return json.opaque(FieldType.TIME, int64(packed));
  },
};

/** TIME_to_longlong_datetime_packed, stored with int8store. */
function packedDateTime(y: number, m: number, d: number, h: number, mi: number, s: number, micros: number): Buffer {
  const ymd = (BigInt(y * 13 + m) << 5n) | BigInt(d);
  const hms = BigInt((h << 12) | (mi << 6) | s);
  return int64((((ymd << 17n) | hms) << 24n) + BigInt(micros));
}

function int64(value: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigInt64LE(value);
  return out;
}

const DIGIT_GROUP_BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/** decimal2bin: big-endian groups of nine digits (partial groups outermost), negatives inverted, sign bit flipped. */
export function decimalBinary(text: string, precision: number, scale: number): Buffer {
  const negative = text.startsWith('-');
  const [intPart = '', fracPart = ''] = text.replace(/^-/, '').split('.');
  const intDigits = intPart.replace(/^0+/, '').padStart(precision - scale, '0');
  const fracDigits = fracPart.padEnd(scale, '0');
  const groups: string[] = [];
  const lead = intDigits.length % 9;
  if (lead > 0) groups.push(intDigits.slice(0, lead));
  for (let i = lead; i < intDigits.length; i += 9) groups.push(intDigits.slice(i, i + 9));
  for (let i = 0; i < fracDigits.length; i += 9) groups.push(fracDigits.slice(i, i + 9));
  const bytes: number[] = [];
  for (const group of groups) {
    const width = DIGIT_GROUP_BYTES[group.length]!;
    const value = Number(group);
    for (let b = width - 1; b >= 0; b--) bytes.push(Math.floor(value / 256 ** b) % 256);
  }
  const out = Buffer.from(bytes.map((b) => (negative ? ~b & 0xff : b)));
  out[0]! ^= 0x80;
  return out;
}

const TYPE = {
  SMALL_OBJECT: 0x00,
  LARGE_OBJECT: 0x01,
  SMALL_ARRAY: 0x02,
  LARGE_ARRAY: 0x03,
  LITERAL: 0x04,
  INT16: 0x05,
  UINT16: 0x06,
  INT32: 0x07,
  UINT32: 0x08,
  INT64: 0x09,
  UINT64: 0x0a,
  DOUBLE: 0x0b,
  STRING: 0x0c,
  OPAQUE: 0x0f,
} as const;

/** A container in the small format got a size or offset over 65535: MySQL retries it (and its parents) large. */
class TooBig extends Error {}

export function encodeJsonBinary(root: JsonNode): Buffer {
  const out: number[] = [0];
  serializeValue(root, 0, false, out);
  return Buffer.from(out);
}

function serializeValue(node: JsonNode, typePos: number, smallParent: boolean, out: number[]): void {
  if (node.kind === 'array' || node.kind === 'object') {
    const start = out.length;
    const isObject = node.kind === 'object';
    if (node.large !== true) {
      try {
        out[typePos] = isObject ? TYPE.SMALL_OBJECT : TYPE.SMALL_ARRAY;
        serializeContainer(node, false, out);
        return;
      } catch (error) {
        if (!(error instanceof TooBig) || smallParent) throw error;
        out.length = start;
      }
    }
    out[typePos] = isObject ? TYPE.LARGE_OBJECT : TYPE.LARGE_ARRAY;
    serializeContainer(node, true, out);
    return;
  }
  out[typePos] = serializeScalar(node, out);
}

function serializeContainer(node: JsonNode & { kind: 'array' | 'object' }, large: boolean, out: number[]): void {
  const start = out.length;
  const word = large ? 4 : 2;
  const members: (readonly [string | null, JsonNode])[] =
    node.kind === 'object' ? [...node.members].sort(([a], [b]) => keyOrder(a, b)) : node.items.map((item) => [null, item] as const);
  writeWord(out, out.length, members.length, large);
  const sizePos = out.length;
  writeWord(out, out.length, 0, large);
  if (node.kind === 'object') {
    let keyOffset = 2 * word + members.length * (word + 2 + 1 + word);
    for (const [key] of members) {
      const length = Buffer.byteLength(key!);
      writeWord(out, out.length, keyOffset, large);
      writeWord(out, out.length, length, false);
      keyOffset += length;
    }
  }
  const entries = out.length;
  for (let i = 0; i < members.length * (1 + word); i++) out.push(0);
  for (const [key] of members) if (key !== null) out.push(...Buffer.from(key));
  members.forEach(([, child], i) => {
    const entry = entries + i * (1 + word);
    const inlined = inline(child, large);
    if (inlined !== null) {
      out[entry] = inlined.type;
      writeWord(out, entry + 1, inlined.value, large);
      return;
    }
    writeWord(out, entry + 1, out.length - start, large);
    serializeValue(child, entry, !large, out);
  });
  writeWord(out, sizePos, out.length - start, large);
}

/** Json keys order: shorter first, then by bytes (Json_key_comparator). */
function keyOrder(a: string | null, b: string | null): number {
  const ba = Buffer.from(a!);
  const bb = Buffer.from(b!);
  return ba.length - bb.length || Buffer.compare(ba, bb);
}

function inline(node: JsonNode, large: boolean): { type: number; value: number } | null {
  if (node.kind === 'literal') return { type: TYPE.LITERAL, value: node.value === null ? 0 : node.value ? 1 : 2 };
  if (node.kind === 'int') {
    if (node.value >= -32768n && node.value <= 32767n) return { type: TYPE.INT16, value: Number(node.value) };
    if (large && node.value >= -(2n ** 31n) && node.value < 2n ** 31n) return { type: TYPE.INT32, value: Number(node.value) };
  }
  if (node.kind === 'uint') {
    if (node.value <= 65535n) return { type: TYPE.UINT16, value: Number(node.value) };
    if (large && node.value < 2n ** 32n) return { type: TYPE.UINT32, value: Number(node.value) };
  }
  return null;
}

/** Appends the scalar's bytes; returns its type byte. */
function serializeScalar(node: Exclude<JsonNode, { kind: 'array' | 'object' }>, out: number[]): number {
  switch (node.kind) {
    case 'literal':
      out.push(node.value === null ? 0 : node.value ? 1 : 2);
      return TYPE.LITERAL;
    case 'int': {
      const v = node.value;
      if (v >= -32768n && v <= 32767n) return push(out, 2, (b) => b.writeInt16LE(Number(v)), TYPE.INT16);
      if (v >= -(2n ** 31n) && v < 2n ** 31n) return push(out, 4, (b) => b.writeInt32LE(Number(v)), TYPE.INT32);
      return push(out, 8, (b) => b.writeBigInt64LE(v), TYPE.INT64);
    }
    case 'uint': {
      const v = node.value;
      if (v <= 65535n) return push(out, 2, (b) => b.writeUInt16LE(Number(v)), TYPE.UINT16);
      if (v < 2n ** 32n) return push(out, 4, (b) => b.writeUInt32LE(Number(v)), TYPE.UINT32);
      return push(out, 8, (b) => b.writeBigUInt64LE(v), TYPE.UINT64);
    }
    case 'double':
      return push(out, 8, (b) => b.writeDoubleLE(node.value), TYPE.DOUBLE);
    case 'string': {
      const bytes = Buffer.from(node.value);
      out.push(...variableLength(bytes.length));
      for (const byte of bytes) out.push(byte);
      return TYPE.STRING;
    }
    case 'opaque':
      out.push(node.fieldType, ...variableLength(node.data.length), ...node.data);
      return TYPE.OPAQUE;
  }
}

function push(out: number[], size: number, write: (b: Buffer) => void, type: number): number {
  const b = Buffer.alloc(size);
  write(b);
  out.push(...b);
  return type;
}

/** append_variable_length: seven bits a byte, least significant first, high bit on all but the last. */
export function variableLength(length: number): number[] {
  const bytes: number[] = [];
  let rest = length;
  do {
    const low = rest % 128;
    rest = Math.floor(rest / 128);
    bytes.push(rest > 0 ? low | 0x80 : low);
  } while (rest > 0);
  return bytes;
}

/** Writes a uint16/uint32 field (or an inlined value, two's complement) at `at`, appending when `at` is the end. */
function writeWord(out: number[], at: number, value: number, large: boolean): void {
  if (!large && value > 0xffff) throw new TooBig();
  const b = Buffer.alloc(large ? 4 : 2);
  if (large) b.writeUInt32LE((value + 2 ** 32) % 2 ** 32);
  else b.writeUInt16LE((value + 0x10000) % 0x10000);
  for (let i = 0; i < b.length; i++) out[at + i] = b[i]!;
}
