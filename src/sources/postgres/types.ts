/**
 * PostgreSQL column types → neutral FieldTypes, each with the reader of its text form. Types are described by
 * their pg_type rows (catalog.ts loads them), so domains, enums and arrays resolve like built-ins.
 */
import type { Value } from '../../model/change.js';
import type { FieldType } from '../../model/schema.js';
import * as text from './text-values.js';

/** The pg_type facts the mapping needs. */
export interface PgType {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  /** typtype: b base, d domain, e enum, c composite, r range, m multirange, p pseudo. */
  readonly kind: string;
  /** Element type of an array type, 0 otherwise. */
  readonly element: number;
  /** Base type and typmod of a domain. */
  readonly baseType: number;
  readonly baseTypeMod: number;
  /** Labels in sort order, for enums. */
  readonly enumLabels: readonly string[] | null;
}

export interface ColumnCodec {
  readonly type: FieldType;
  readonly read: (value: string) => Value;
}

/** Fractional-second digits of a time/timestamp typmod: -1 means the default, 6. */
export function temporalPrecision(typeMod: number): number {
  return typeMod < 0 ? 6 : Math.min(typeMod, 6);
}

/** numeric(p,s) typmod → precision and scale; -1 means unconstrained. Scale is an 11-bit signed field (PG15). */
export function numericPrecisionScale(typeMod: number): { precision: number; scale: number } | null {
  if (typeMod < 4) return null;
  const packed = typeMod - 4;
  return { precision: (packed >> 16) & 0xffff, scale: ((packed & 0x7ff) ^ 1024) - 1024 };
}

/** bit(n)/varbit(n) length; an unconstrained varbit has no fixed length, so it takes the largest one. */
function bitLength(typeMod: number): number {
  return typeMod > 0 ? typeMod : 2_147_483_647;
}

type Builtin = (typeMod: number) => ColumnCodec;

const same = (value: string): string => value;
const stringCodec: Builtin = () => ({ type: { kind: 'string' }, read: same });

const BUILTINS: Readonly<Record<string, Builtin>> = {
  bool: () => ({ type: { kind: 'boolean' }, read: text.parseBoolean }),
  int2: () => ({ type: { kind: 'int16' }, read: text.parseInteger }),
  int4: () => ({ type: { kind: 'int32' }, read: text.parseInteger }),
  int8: () => ({ type: { kind: 'int64' }, read: text.parseBigInt }),
  oid: () => ({ type: { kind: 'int64' }, read: text.parseBigInt }),
  float4: () => ({ type: { kind: 'float32' }, read: text.parseFloat }),
  float8: () => ({ type: { kind: 'float64' }, read: text.parseFloat }),
  numeric: (typeMod) => {
    const ps = numericPrecisionScale(typeMod);
    return { type: ps === null ? { kind: 'decimal' } : { kind: 'decimal', ...ps }, read: text.parseNumeric };
  },
  // Debezium's moneySchema is a Decimal with the scale only (money.fraction.digits, default 2), no precision.
  money: () => ({ type: { kind: 'decimal', scale: 2 }, read: text.parseMoney }),
  text: stringCodec,
  varchar: stringCodec,
  bpchar: stringCodec,
  name: stringCodec,
  char: stringCodec,
  citext: stringCodec,
  inet: stringCodec,
  cidr: stringCodec,
  macaddr: stringCodec,
  macaddr8: stringCodec,
  bytea: () => ({ type: { kind: 'bytes' }, read: text.parseBytea }),
  uuid: () => ({ type: { kind: 'uuid' }, read: same }),
  json: () => ({ type: { kind: 'json' }, read: same }),
  jsonb: () => ({ type: { kind: 'json' }, read: same }),
  xml: () => ({ type: { kind: 'xml' }, read: same }),
  date: () => ({ type: { kind: 'date' }, read: text.parseDate }),
  time: (typeMod) => ({ type: { kind: 'time', precision: temporalPrecision(typeMod) }, read: text.parseTime }),
  timetz: () => ({ type: { kind: 'timetz' }, read: text.parseTimetz }),
  timestamp: (typeMod) => ({ type: { kind: 'timestamp', precision: temporalPrecision(typeMod) }, read: text.parseTimestamp }),
  timestamptz: (typeMod) => {
    const precision = temporalPrecision(typeMod);
    return { type: { kind: 'timestamptz', precision }, read: (value) => text.parseTimestamptz(value, precision) };
  },
  interval: () => ({ type: { kind: 'interval' }, read: text.parseInterval }),
  bit: (typeMod) => {
    const length = bitLength(typeMod);
    return { type: { kind: 'bits', length }, read: (value) => text.parseBits(value, length) };
  },
  varbit: (typeMod) => {
    const length = bitLength(typeMod);
    return { type: { kind: 'bits', length }, read: (value) => text.parseBits(value, length) };
  },
};

/** Extension types recognised by name in any schema. */
const EXTENSION_TYPES = new Set(['citext']);

/**
 * The codec of a column of type `oid` with `typeMod`, or undefined when the type has no mapping. `types` must
 * hold the type and, for arrays and domains, the types they are built on.
 */
export function columnCodec(oid: number, typeMod: number, types: ReadonlyMap<number, PgType>): ColumnCodec | undefined {
  const type = types.get(oid);
  if (type === undefined) return undefined;
  if (type.kind === 'd') return columnCodec(type.baseType, typeMod >= 0 ? typeMod : type.baseTypeMod, types);
  if (type.kind === 'e' && type.enumLabels !== null) {
    return { type: { kind: 'enum', symbols: [...type.enumLabels] }, read: same };
  }
  if (type.element !== 0 && type.name.startsWith('_')) {
    const item = columnCodec(type.element, typeMod, types);
    if (item === undefined) return undefined;
    return { type: { kind: 'array', items: item.type }, read: (value) => text.parseArray(value, item.read) };
  }
  if (type.kind !== 'b') return undefined;
  if (type.schema !== 'pg_catalog' && !EXTENSION_TYPES.has(type.name)) return undefined;
  return BUILTINS[type.name]?.(typeMod);
}
