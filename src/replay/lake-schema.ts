/**
 * The TableSchema a lake snapshot's rows were streamed with, rebuilt from what the lake metadata records of each
 * column: its field in the change events' Avro schema, whose Connect names and parameters give the neutral type
 * (io.debezium.time.MicroTimestamp is a timestamp of 4–6 digits, Decimal's parameters its precision and scale),
 * and for ZonedTimestamp columns the fractional digits the source writes. The rebuilt schema is then encoded
 * again and compared field by field with the recorded one, so a replay registers exactly the live topic's schema
 * or stops before its first record.
 */
import { isDeepStrictEqual } from 'node:util';
import { buildValueSchema, fromTwosComplement, schemaJson, type SourceKind } from '../avro/index.js';
import { decimalString, envelopeRowFields } from '../lake/columns.js';
import type { LakeSchema, SchemaField } from '../lake/metadata.js';
import type { Value } from '../model/change.js';
import { TributaryError } from '../model/errors.js';
import type { Column, FieldType, TableId, TableSchema } from '../model/schema.js';

/** A lake snapshot that cannot be replayed as it is (no snapshot, columns it cannot describe exactly). */
export class LakeReplayError extends TributaryError {}

const USE_DATABASE = 'replay from the database with --from database';

type Json = Record<string, unknown>;

/** `table` names the table for messages; `liveTopic` and `kind` are what the live topic's schema was built with. */
export function lakeTableSchema(lake: LakeSchema, id: TableId, liveTopic: string, kind: SourceKind, table: string): TableSchema {
  const columns = lake.fields.map((field) => columnOf(field, table));
  const schema: TableSchema = { id, columns, key: [...lake.key] };
  const missingKey = schema.key.find((name) => !columns.some((c) => c.name === name));
  if (missingKey !== undefined) {
    throw new LakeReplayError(`the lake snapshot of ${table} names key column ${missingKey}, which its schema does not have`, {
      fix: `the lake metadata is damaged: rebuild the table's lake directory with tributary compact, or ${USE_DATABASE}`,
    });
  }
  verify(schema, lake, liveTopic, kind, table);
  return schema;
}

function columnOf(field: SchemaField, table: string): Column {
  const where = `${table}.${field.name}`;
  if (field.avro === undefined) {
    throw new LakeReplayError(`the lake snapshot of ${table} was written by a Tributary that did not record the column types a replay needs`, {
      fix: `let tributary compact publish a new snapshot of ${table} (it records them once the table changes), or ${USE_DATABASE}`,
    });
  }
  const { schema, nullable } = nonNull(field.avro.type);
  const type = fieldType(schema, field.fractionDigits, where);
  const column: Column = { name: field.name, type, nullable, sourceType: field.type };
  const fallback = field.avro.default;
  return fallback === undefined || fallback === null ? column : { ...column, defaultValue: defaultValue(type, fallback, where) };
}

function nonNull(type: unknown): { schema: unknown; nullable: boolean } {
  if (!Array.isArray(type)) return { schema: type, nullable: false };
  const others = type.filter((t) => t !== 'null');
  return { schema: others.length === 1 ? others[0] : others, nullable: others.length < type.length };
}

/** The neutral type Debezium's Avro schema of a column stands for (the inverse of src/avro/connect-types.ts). */
function fieldType(schema: unknown, fractionDigits: number | undefined, where: string): FieldType {
  const json: Json = isObject(schema) ? schema : { type: schema };
  const name = json['connect.name'];
  const parameters = (isObject(json['connect.parameters']) ? json['connect.parameters'] : {}) as Record<string, string>;
  const symbols = (): string[] => (parameters['allowed'] ?? '').split(',');
  switch (json.type) {
    case 'boolean':
      return { kind: 'boolean' };
    case 'int':
      if (name === 'io.debezium.time.Date') return { kind: 'date' };
      if (name === 'io.debezium.time.Time') return { kind: 'time', precision: 3 };
      if (name === 'io.debezium.time.Year') return { kind: 'year' };
      if (json['connect.type'] === 'int8') return { kind: 'int8' };
      if (json['connect.type'] === 'int16') return { kind: 'int16' };
      return { kind: 'int32' };
    case 'long':
      if (name === 'io.debezium.time.MicroTime') return { kind: 'time', precision: 6 };
      if (name === 'io.debezium.time.Timestamp') return { kind: 'timestamp', precision: 3 };
      if (name === 'io.debezium.time.MicroTimestamp') return { kind: 'timestamp', precision: 6 };
      if (name === 'io.debezium.time.MicroDuration') return { kind: 'interval' };
      return { kind: 'int64' };
    case 'float':
      return { kind: 'float32' };
    case 'double':
      return { kind: 'float64' };
    case 'string':
      if (name === 'io.debezium.data.Json') return { kind: 'json' };
      if (name === 'io.debezium.data.Xml') return { kind: 'xml' };
      if (name === 'io.debezium.data.Uuid') return { kind: 'uuid' };
      if (name === 'io.debezium.data.Enum') return { kind: 'enum', symbols: symbols() };
      if (name === 'io.debezium.data.EnumSet') return { kind: 'set', symbols: symbols() };
      // Values without a fraction never showed the digits; any precision writes them alike.
      if (name === 'io.debezium.time.ZonedTimestamp') return { kind: 'timestamptz', precision: fractionDigits ?? 0 };
      if (name === 'io.debezium.time.ZonedTime') return { kind: 'timetz' };
      return { kind: 'string' };
    case 'bytes':
      if (name === 'org.apache.kafka.connect.data.Decimal') {
        const scale = Number(parameters['scale'] ?? 0);
        const precision = parameters['connect.decimal.precision'];
        return precision === undefined ? { kind: 'decimal', scale } : { kind: 'decimal', precision: Number(precision), scale };
      }
      if (name === 'io.debezium.data.Bits') return { kind: 'bits', length: Number(parameters['length']) };
      return { kind: 'bytes' };
    case 'record':
      if (name === 'io.debezium.data.VariableScaleDecimal') return { kind: 'decimal' };
      break;
    case 'array':
      return { kind: 'array', items: fieldType(nonNull(json.items).schema, fractionDigits, `${where}[]`) };
  }
  throw new LakeReplayError(`lake column ${where} has the Avro type ${JSON.stringify(schema)}, which has no Tributary column type`, {
    fix: `the table's topic was not written by this version of Tributary; ${USE_DATABASE}`,
  });
}

/** An Avro field default (JSON as the schema prints it: bytes as ISO-8859-1 text) → the neutral Value. */
function defaultValue(type: FieldType, json: unknown, where: string): Value {
  const bytes = (text: unknown): Buffer => Buffer.from(String(text), 'latin1');
  switch (type.kind) {
    case 'boolean':
    case 'int8':
    case 'int16':
    case 'int32':
    case 'date':
    case 'year':
    case 'float32':
    case 'float64':
    case 'string':
    case 'uuid':
    case 'json':
    case 'xml':
    case 'enum':
    case 'set':
    case 'timestamptz':
    case 'timetz':
      return json as Value;
    case 'int64':
    case 'interval':
      return BigInt(json as number);
    case 'time':
    case 'timestamp':
      // Millisecond schemas (precision 3) hold milliseconds; the neutral value is microseconds.
      return BigInt(json as number) * (type.precision <= 3 ? 1000n : 1n);
    case 'decimal': {
      if (type.scale !== undefined) return decimalString(fromTwosComplement(bytes(json)), type.scale);
      const variable = json as { scale: number; value: string };
      return decimalString(fromTwosComplement(bytes(variable.value)), variable.scale);
    }
    case 'bytes':
      return new Uint8Array(bytes(json));
    case 'bits':
      return type.length > 1 ? new Uint8Array(bytes(json)) : (json as boolean);
    case 'array':
      if (!Array.isArray(json)) break;
      return json.map((item: unknown) => (item === null ? null : defaultValue(type.items, item, `${where}[]`)));
  }
  throw new LakeReplayError(`lake column ${where} has the default ${JSON.stringify(json)}, which does not fit its type`, {
    fix: `the lake metadata is damaged or was not written by Tributary; ${USE_DATABASE}`,
  });
}

/** Encodes the rebuilt schema as the live pipeline would and compares it with what the lake recorded. */
function verify(schema: TableSchema, lake: LakeSchema, liveTopic: string, kind: SourceKind, table: string): void {
  const rebuilt = envelopeRowFields(JSON.parse(schemaJson(buildValueSchema(liveTopic, schema, kind))), liveTopic);
  lake.fields.forEach((field, index) => {
    const again = rebuilt[index];
    if (again?.name === field.name && isDeepStrictEqual(again.avro, field.avro)) return;
    throw new LakeReplayError(
      `cannot rebuild the schema of ${table} column ${field.name} exactly from the lake: it was ${JSON.stringify(field.avro)}, the rebuilt one is ${JSON.stringify(again?.avro)}`,
      { fix: `the table's topic was written by another Tributary or Debezium version; ${USE_DATABASE}` },
    );
  });
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
