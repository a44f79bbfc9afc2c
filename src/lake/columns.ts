/**
 * Debezium's Avro value schema → the lake's column types. Each column has a lake type (what the Parquet file
 * holds, chosen to keep the source type: DECIMAL(p,s), microsecond TIMESTAMP with the right UTC flag, DATE, TIME,
 * JSON, UUID, BLOB), a staging type (what the DuckDB appender is fed: plain integers, strings and blobs), and the
 * SQL that turns a staged value into the lake type.
 *
 * Time columns (io.debezium.time.Time, MicroTime) follow the database that wrote them (`timeMeaning`):
 * PostgreSQL's `time` is a time of day (00:00:00 to 24:00:00) and becomes a Parquet TIME; MySQL/MariaDB's TIME is
 * a duration (-838:59:59.000000 to 838:59:59.000000), which a TIME would wrap, so it stays a BIGINT of
 * microseconds, described by the field's `doc`. (DuckDB writes an INTERVAL to Parquet as the legacy 12-byte
 * INTERVAL: it refuses negative values and drops the microseconds, and Iceberg has no interval type.)
 */
import { fromTwosComplement } from '../avro/index.js';
import { TributaryError } from '../model/errors.js';

/** How a decoded Avro value is appended to the staging table. */
export type StageKind = 'boolean' | 'integer' | 'bigint' | 'float' | 'double' | 'varchar' | 'blob';

export interface LakeColumn {
  readonly name: string;
  /** DuckDB type of the column in the Parquet files, e.g. `DECIMAL(12,2)`, `TIMESTAMP`, `JSON`. */
  readonly type: string;
  readonly nullable: boolean;
  /** The Connect/Debezium semantic name the type came from, when there is one (e.g. io.debezium.time.MicroTimestamp). */
  readonly semantic?: string;
  /**
   * The column's field in the change events' Avro value schema (value columns only): what `tributary replay
   * --from lake` rebuilds the live topic's schema from. Absent in metadata written before replay read the lake.
   */
  readonly avro?: AvroFieldSchema;
  /**
   * io.debezium.time.ZonedTimestamp columns: the fractional digits the source writes (its column precision), as
   * seen in the latest value; the Parquet TIMESTAMPTZ keeps the instant but not how many digits it was written with.
   */
  readonly fractionDigits?: number;
  /** What the column holds when its type alone does not say (Iceberg's field `doc`), e.g. a duration's unit. */
  readonly doc?: string;
}

/** One field of an Avro record schema, standing alone: named types it refers to are written out in full. */
export interface AvroFieldSchema {
  readonly type: unknown;
  /** The field default, when the schema gives one (null for an optional column). */
  readonly default?: unknown;
}

/** How to get one column from a decoded row into the lake. */
export interface ColumnCodec {
  readonly column: LakeColumn;
  readonly stage: StageKind;
  /** Decoded Avro value (never null) → what the appender takes for `stage`. */
  readonly toStage: (value: unknown) => unknown;
  /** SQL turning the staged column `ref` into the lake type. */
  readonly toLake: (ref: string) => string;
}

/** A value schema the lake cannot map (not a Debezium envelope, or a type this version does not know). */
export class LakeSchemaError extends TributaryError {}

type Json = Record<string, unknown>;

const identity = (v: unknown): unknown => v;
const sameSql = (ref: string): string => ref;
/** DuckDB's DECIMAL stops at 38 digits; wider decimals are kept exactly as strings. */
const MAX_DECIMAL_PRECISION = 38;

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** What a time column of a database holds: a time of day (PostgreSQL) or a signed duration (MySQL/MariaDB). */
export type TimeMeaning = 'time-of-day' | 'duration';

/**
 * The meaning of time columns written by `connector` (a source block's connector name: postgresql, mysql,
 * mariadb). Only PostgreSQL's are times of day; anything else is kept as a duration, which never changes a value.
 */
export function timeMeaning(connector: string | undefined): TimeMeaning {
  return connector === 'postgresql' ? 'time-of-day' : 'duration';
}

/** The connector named by an envelope's source block (io.debezium.connector.<connector>.Source), if any. */
export function envelopeConnector(envelope: unknown): string | undefined {
  const source = recordFields(envelope)?.find((f) => f.name === 'source')?.type;
  if (!isObject(source) || typeof source.name !== 'string') return undefined;
  const full = source.name.includes('.') || typeof source.namespace !== 'string' ? source.name : `${source.namespace}.${source.name}`;
  return /^io\.debezium\.connector\.([^.]+)\.Source$/.exec(full)?.[1];
}

/** The columns of the `after` record of a Debezium envelope schema, in schema order. */
export function envelopeColumns(envelope: unknown, topic: string, times: TimeMeaning): ColumnCodec[] {
  return envelopeRowFields(envelope, topic).map(({ name, avro }) => {
    const codec = fieldCodec(name, avro.type, topic, times);
    return { ...codec, column: { ...codec.column, avro } };
  });
}

/** The fields of the row record (`after`) of a Debezium envelope schema, in schema order, each standing alone. */
export function envelopeRowFields(envelope: unknown, topic: string): { name: string; avro: AvroFieldSchema }[] {
  const fields = recordFields(envelope);
  const after = fields?.find((f) => f.name === 'after');
  const named = after === undefined ? undefined : nonNull(after.type).schema;
  const types = namedTypes(envelope);
  // `before` defines the row record; `after` usually refers to it by name.
  const row = typeof named === 'string' ? types.get(named) : named;
  const rowFields = recordFields(row);
  if (rowFields === undefined) {
    throw new LakeSchemaError(`topic ${topic}: the value schema is not a Debezium change-event envelope (no "after" record)`, {
      fix: 'compact only change topics written by Tributary or Debezium (<prefix>.<schema>.<table>)',
    });
  }
  return rowFields.map((f) => {
    const type = writtenOut(f.type, types);
    return { name: f.name, avro: 'default' in f ? { type, default: f.default } : { type } };
  });
}

/** `type` with every reference to a named type replaced by its definition. */
function writtenOut(type: unknown, types: ReadonlyMap<string, unknown>): unknown {
  if (typeof type === 'string') return types.has(type) ? writtenOut(types.get(type), types) : type;
  if (Array.isArray(type)) return type.map((t) => writtenOut(t, types));
  if (!isObject(type)) return type;
  const out: Json = { ...type };
  if (type.items !== undefined) out.items = writtenOut(type.items, types);
  if (Array.isArray(type.fields)) out.fields = (type.fields as AvroField[]).map((f) => ({ ...f, type: writtenOut(f.type, types) }));
  return out;
}

/** The columns of a key record schema, in key order. */
export function keyColumns(keySchema: unknown, topic: string, times: TimeMeaning): ColumnCodec[] {
  const fields = recordFields(keySchema);
  if (fields === undefined) {
    throw new LakeSchemaError(`topic ${topic}: the key schema is not a record`, {
      fix: 'compact only change topics whose keys are Debezium key structs',
    });
  }
  return fields.map((f) => fieldCodec(f.name, f.type, topic, times));
}

interface AvroField {
  readonly name: string;
  readonly type: unknown;
  readonly default?: unknown;
}

function recordFields(schema: unknown): AvroField[] | undefined {
  if (!isObject(schema) || schema.type !== 'record' || !Array.isArray(schema.fields)) return undefined;
  return schema.fields as AvroField[];
}

/** Named record, enum and fixed schemas by name (full and short), for resolving references. */
export function namedTypes(schema: unknown, found = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(schema)) {
    for (const s of schema) namedTypes(s, found);
  } else if (isObject(schema)) {
    if (typeof schema.name === 'string' && (schema.type === 'record' || schema.type === 'enum' || schema.type === 'fixed')) {
      const full = schema.name.includes('.') || typeof schema.namespace !== 'string' ? schema.name : `${schema.namespace}.${schema.name}`;
      found.set(full, schema);
      found.set(schema.name, schema);
    }
    for (const f of (schema.fields as AvroField[] | undefined) ?? []) namedTypes(f.type, found);
    if (schema.items !== undefined) namedTypes(schema.items, found);
  }
  return found;
}

function nonNull(type: unknown): { schema: unknown; nullable: boolean } {
  if (!Array.isArray(type)) return { schema: type, nullable: false };
  const others = type.filter((t) => t !== 'null');
  return { schema: others.length === 1 ? others[0] : others, nullable: others.length < type.length };
}

function fieldCodec(name: string, fieldType: unknown, topic: string, times: TimeMeaning): ColumnCodec {
  const { schema, nullable } = nonNull(fieldType);
  const mapped = mapType(schema, `${topic} column ${name}`, times);
  const described = { ...(mapped.semantic ? { semantic: mapped.semantic } : {}), ...(mapped.doc ? { doc: mapped.doc } : {}) };
  return { ...mapped, column: { name, type: mapped.type, nullable, ...described } };
}

interface Mapped {
  readonly type: string;
  readonly semantic?: string;
  readonly doc?: string;
  readonly stage: StageKind;
  readonly toStage: (value: unknown) => unknown;
  readonly toLake: (ref: string) => string;
}

const plain = (type: string, stage: StageKind, semantic?: string): Mapped => ({
  type,
  stage,
  toStage: identity,
  toLake: sameSql,
  ...(semantic ? { semantic } : {}),
});

function mapType(schema: unknown, what: string, times: TimeMeaning): Mapped {
  const json: Json = isObject(schema) ? schema : { type: schema };
  const type = json.type;
  const semantic = typeof json['connect.name'] === 'string' ? json['connect.name'] : undefined;
  switch (type) {
    case 'boolean':
      return plain('BOOLEAN', 'boolean');
    case 'int':
      return mapInt(json, semantic, times);
    case 'long':
      return mapLong(semantic, times);
    case 'float':
      return plain('FLOAT', 'float');
    case 'double':
      return plain('DOUBLE', 'double');
    case 'string':
      return mapString(semantic);
    case 'bytes':
      return mapBytes(json, semantic);
    case 'record':
      if (semantic === 'io.debezium.data.VariableScaleDecimal') {
        // Scale varies per value: no fixed Parquet DECIMAL holds it, the exact decimal string does.
        return { type: 'VARCHAR', semantic, stage: 'varchar', toStage: variableDecimalString, toLake: sameSql };
      }
      break;
    case 'array':
      return mapArray(json, what, times);
  }
  throw new LakeSchemaError(`${what}: Avro type ${JSON.stringify(schema)} has no lake mapping`, {
    fix: 'this Avro type is not one Tributary or Debezium writes for a column; exclude the column from the source table',
  });
}

function mapInt(json: Json, semantic: string | undefined, times: TimeMeaning): Mapped {
  switch (semantic) {
    case 'io.debezium.time.Date':
      return { type: 'DATE', semantic, stage: 'integer', toStage: identity, toLake: (r) => `(DATE '1970-01-01' + ${r})` };
    case 'io.debezium.time.Time':
      return timeColumn(semantic, times, (v) => BigInt(v as number) * 1000n);
  }
  if (json['connect.type'] === 'int8') return plain('TINYINT', 'integer', semantic);
  if (json['connect.type'] === 'int16') return plain('SMALLINT', 'integer', semantic);
  return plain('INTEGER', 'integer', semantic);
}

function mapLong(semantic: string | undefined, times: TimeMeaning): Mapped {
  switch (semantic) {
    case 'io.debezium.time.MicroTime':
      return timeColumn(semantic, times, identity);
    case 'io.debezium.time.Timestamp':
      return { type: 'TIMESTAMP', semantic, stage: 'bigint', toStage: (v) => (v as bigint) * 1000n, toLake: (r) => `make_timestamp(${r})` };
    case 'io.debezium.time.MicroTimestamp':
      return { type: 'TIMESTAMP', semantic, stage: 'bigint', toStage: identity, toLake: (r) => `make_timestamp(${r})` };
  }
  // MicroDuration stays a count of microseconds: Parquet's INTERVAL is legacy and Iceberg has no interval type.
  return plain('BIGINT', 'bigint', semantic);
}

function mapString(semantic: string | undefined): Mapped {
  switch (semantic) {
    case 'io.debezium.data.Json':
      return { type: 'JSON', semantic, stage: 'varchar', toStage: identity, toLake: (r) => `CAST(${r} AS JSON)` };
    case 'io.debezium.time.ZonedTimestamp':
      return { type: 'TIMESTAMPTZ', semantic, stage: 'varchar', toStage: identity, toLake: (r) => `CAST(${r} AS TIMESTAMPTZ)` };
    case 'io.debezium.data.Uuid':
      return { type: 'UUID', semantic, stage: 'varchar', toStage: identity, toLake: (r) => `CAST(${r} AS UUID)` };
  }
  return plain('VARCHAR', 'varchar', semantic);
}

function mapBytes(json: Json, semantic: string | undefined): Mapped {
  if (json.logicalType === 'decimal') {
    const precision = Number(json.precision);
    const scale = Number(json.scale ?? 0);
    const toStage = (v: unknown): unknown => decimalString(fromTwosComplement(v as Uint8Array), scale);
    if (precision <= MAX_DECIMAL_PRECISION) {
      const type = `DECIMAL(${precision},${scale})`;
      return { type, semantic: semantic ?? 'decimal', stage: 'varchar', toStage, toLake: (r) => `CAST(${r} AS ${type})` };
    }
    return { type: 'VARCHAR', semantic: `decimal(${precision},${scale})`, stage: 'varchar', toStage, toLake: sameSql };
  }
  return plain('BLOB', 'blob', semantic);
}

/** Arrays of plain scalars become LISTs (staged as JSON text); anything richer stays JSON. */
function mapArray(json: Json, what: string, times: TimeMeaning): Mapped {
  const item = mapType(nonNull(json.items).schema, `${what}[]`, times);
  const listable = ['BOOLEAN', 'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'FLOAT', 'DOUBLE', 'VARCHAR'].includes(item.type);
  const toStage = (v: unknown): unknown => jsonText((v as unknown[]).map((x) => (x === null ? null : item.toStage(x))));
  if (!listable || item.toLake !== sameSql) return { type: 'JSON', stage: 'varchar', toStage, toLake: (r) => `CAST(${r} AS JSON)` };
  const type = `${item.type}[]`;
  return { type, stage: 'varchar', toStage, toLake: (r) => `CAST(CAST(${r} AS JSON) AS ${type})` };
}

/** The Connect names of time columns, whose lake type follows `timeMeaning`. */
const TIME_SEMANTICS: ReadonlySet<string> = new Set(['io.debezium.time.Time', 'io.debezium.time.MicroTime']);

/** The `doc` of a column that keeps a MySQL/MariaDB TIME as a duration. */
export const DURATION_DOC = 'MySQL/MariaDB TIME: a signed duration in microseconds (-838:59:59 to 838:59:59), not a time of day';

const DAY_MICROS = 86_400_000_000n;

/** A time column staged as microseconds (`toStage` converts the Avro value), stored as `times` says. */
function timeColumn(semantic: string, times: TimeMeaning, toStage: (v: unknown) => unknown): Mapped {
  if (times === 'duration') return { type: 'BIGINT', semantic, doc: DURATION_DOC, stage: 'bigint', toStage, toLake: sameSql };
  return { type: 'TIME', semantic, stage: 'bigint', toStage, toLake: timeOfDaySql };
}

/**
 * Microseconds since midnight → TIME. TIME arithmetic wraps at 24:00:00, which PostgreSQL's time includes (and
 * a TIME holds), so that value is written out; a value outside the day fails the compaction instead of wrapping.
 */
function timeOfDaySql(r: string): string {
  return `CASE WHEN ${r} = ${DAY_MICROS} THEN TIME '24:00:00'
    WHEN ${r} >= 0 AND ${r} < ${DAY_MICROS} THEN TIME '00:00:00' + to_microseconds(${r})
    ELSE error('a time of day outside 00:00:00-24:00:00: ' || CAST(${r} AS VARCHAR) || ' microseconds') END`;
}

/** Whether `column` is a Debezium time column (a time of day or a duration, as `timeMeaning` decided). */
export function isTimeColumn(column: LakeColumn): boolean {
  return column.semantic !== undefined && TIME_SEMANTICS.has(column.semantic);
}

/**
 * Time columns a lake holds as TIME although `connector`'s time is a duration: written by a Tributary before
 * durations were kept as such, and their values outside 00:00:00–24:00:00 wrapped (which cannot be undone).
 */
export function wrappedTimeColumns(columns: readonly LakeColumn[], connector: string | undefined): string[] {
  if (timeMeaning(connector) !== 'duration') return [];
  return columns.filter((c) => isTimeColumn(c) && c.type === 'TIME').map((c) => c.name);
}

/** What is wrong with a lake table that has `wrapped` columns (wrappedTimeColumns), for an error message. */
export function wrappedTimesProblem(table: string, connector: string, wrapped: readonly string[]): string {
  return (
    `the lake snapshot of ${table} holds the ${connector} TIME column${wrapped.length > 1 ? 's' : ''} ${wrapped.join(', ')} as a time of day, ` +
    'written by a Tributary that wrapped durations outside 00:00:00–24:00:00 (this version keeps them as BIGINT microseconds)'
  );
}

/** An unscaled integer and a scale → the exact decimal text ('-12.340'). */
export function decimalString(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString();
  if (scale <= 0) return (negative ? '-' : '') + digits + '0'.repeat(-scale);
  const padded = digits.padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

function variableDecimalString(value: unknown): unknown {
  const v = value as { scale: number; value: Uint8Array };
  return decimalString(fromTwosComplement(v.value), v.scale);
}

/** JSON with bigints written as exact numbers. */
function jsonText(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `\u0000${v}` : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)).replace(
    /"\\u0000(-?\d+)"/g,
    '$1',
  );
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
