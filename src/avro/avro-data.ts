/**
 * Connect schema → Avro schema JSON, as Confluent's AvroData.fromConnectSchema (connect.meta.data=true, the
 * converter's default) followed by Avro Java's Schema.toString() would print it. The registry stores and
 * compares what the Confluent serializer registers, which is exactly that string, so the details matter:
 * - optional schemas become ["null", T] with default null; an optional schema with a default becomes [T, "null"]
 *   with that default (the source block's `snapshot`);
 * - metadata goes on the non-union schema in the order connect.doc, connect.version, connect.parameters,
 *   connect.default, connect.name, connect.type; Decimal gets scale/precision first and logicalType last;
 * - records print name, namespace (only when it differs from the enclosing one), fields, then properties;
 *   a record already printed is referred to by name, relative to the enclosing namespace.
 */
import { DECIMAL_NAME, type ConnectSchema } from './connect-schema.js';
import { AvroSchemaError } from './errors.js';
import { JsonFloat, type JsonTree } from './java-json.js';

/** Avro schema JSON: a primitive name, a named-type reference, a union array, or a schema object. */
export type AvroSchemaJson = string | AvroSchemaJson[] | { [key: string]: JsonTree };

/** AvroData's precision for a Decimal without `connect.decimal.precision`. */
const DEFAULT_DECIMAL_PRECISION = 64;

interface Context {
  /** Named records already printed, by full name, with the Connect schema that defined them. */
  readonly defined: Map<string, string>;
  /** The enclosing namespace while printing record fields. */
  space: string | null;
}

export function toAvroSchema(schema: ConnectSchema): AvroSchemaJson {
  return convert(schema, { defined: new Map(), space: null });
}

function convert(schema: ConnectSchema, ctx: Context): AvroSchemaJson {
  const base = convertNonOptional(schema, ctx);
  if (!schema.optional) return base;
  return hasDefault(schema) ? [base, 'null'] : ['null', base];
}

function convertNonOptional(schema: ConnectSchema, ctx: Context): AvroSchemaJson {
  if (schema.type === 'struct') return convertStruct(schema, ctx);

  const json: Record<string, JsonTree> = { type: avroPrimitive(schema) };
  if (schema.type === 'array') {
    if (schema.items === undefined) throw new AvroSchemaError('a Connect array schema has no item schema');
    json.items = convert(schema.items, ctx);
  }
  const isDecimal = schema.name === DECIMAL_NAME;
  if (isDecimal) {
    json.scale = Number(schema.parameters?.scale ?? '0');
    json.precision = Number(schema.parameters?.['connect.decimal.precision'] ?? DEFAULT_DECIMAL_PRECISION);
  }
  addConnectProps(json, schema);
  if (schema.type === 'int8' || schema.type === 'int16') json['connect.type'] = schema.type;
  if (isDecimal) json.logicalType = 'decimal';
  return Object.keys(json).length === 1 ? (json.type as string) : json;
}

function convertStruct(schema: ConnectSchema, ctx: Context): AvroSchemaJson {
  if (schema.name === undefined) throw new AvroSchemaError('a Connect struct schema has no name');
  const { space, name } = splitName(schema.name);
  const signature = JSON.stringify({ ...schema, optional: false }, (_k, v: unknown) =>
    typeof v === 'bigint' ? v.toString() : v,
  );
  const seen = ctx.defined.get(schema.name);
  if (seen !== undefined) {
    if (seen !== signature) {
      throw new AvroSchemaError(`two different record schemas are both named "${schema.name}"`);
    }
    return space === null || space === ctx.space ? name : schema.name;
  }
  ctx.defined.set(schema.name, signature);

  const json: Record<string, JsonTree> = { type: 'record', name };
  if (space !== ctx.space) json.namespace = space ?? '';
  const outer = ctx.space;
  ctx.space = space;
  json.fields = (schema.fields ?? []).map((f) => {
    checkName(f.name, `field "${f.name}" of record "${schema.name}"`);
    const out: Record<string, JsonTree> = { name: f.name, type: convert(f.schema, ctx) };
    if (hasDefault(f.schema)) out.default = defaultJson(f.schema, f.schema.defaultValue);
    else if (f.schema.optional) out.default = null;
    return out;
  });
  ctx.space = outer;
  addConnectProps(json, schema);
  return json;
}

function addConnectProps(json: Record<string, JsonTree>, schema: ConnectSchema): void {
  if (schema.doc !== undefined) json['connect.doc'] = schema.doc;
  if (schema.version !== undefined) json['connect.version'] = schema.version;
  if (schema.parameters !== undefined && Object.keys(schema.parameters).length > 0) {
    json['connect.parameters'] = { ...schema.parameters };
  }
  if (hasDefault(schema)) json['connect.default'] = defaultJson(schema, schema.defaultValue);
  if (schema.name !== undefined) json['connect.name'] = schema.name;
}

function hasDefault(schema: ConnectSchema): boolean {
  return schema.defaultValue !== undefined && schema.defaultValue !== null;
}

/** AvroData.defaultValueFromConnect: bytes as ISO-8859-1 text, floats as Java prints them. */
function defaultJson(schema: ConnectSchema, value: unknown): JsonTree {
  if (value === null || value === undefined) return null;
  const wrong = () => new AvroSchemaError(`default ${String(value)} does not fit a ${schema.type} schema`);
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
      if (typeof value !== 'number') throw wrong();
      return value;
    case 'int64':
      if (typeof value !== 'bigint') throw wrong();
      return value;
    case 'float32':
    case 'float64':
      if (typeof value !== 'number') throw wrong();
      return new JsonFloat(value, schema.type === 'float32');
    case 'boolean':
      if (typeof value !== 'boolean') throw wrong();
      return value;
    case 'string':
      if (typeof value !== 'string') throw wrong();
      return value;
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw wrong();
      return Buffer.from(value).toString('latin1');
    case 'array':
      if (!Array.isArray(value) || schema.items === undefined) throw wrong();
      return value.map((item: unknown) => defaultJson(schema.items as ConnectSchema, item));
    case 'struct': {
      if (typeof value !== 'object') throw wrong();
      const record = value as Record<string, unknown>;
      return Object.fromEntries((schema.fields ?? []).map((f) => [f.name, defaultJson(f.schema, record[f.name])]));
    }
  }
}

function avroPrimitive(schema: ConnectSchema): string {
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
      return 'int';
    case 'int64':
      return 'long';
    case 'float32':
      return 'float';
    case 'float64':
      return 'double';
    case 'boolean':
    case 'string':
    case 'bytes':
    case 'array':
      return schema.type;
    case 'struct':
      throw new AvroSchemaError('struct is not a primitive');
  }
}

/** AvroData.splitName: the namespace is everything before the last dot. */
function splitName(fullName: string): { space: string | null; name: string } {
  const dot = fullName.lastIndexOf('.');
  const space = dot < 0 ? null : fullName.slice(0, dot);
  const name = dot < 0 ? fullName : fullName.slice(dot + 1);
  for (const part of [...(space?.split('.') ?? []), name]) checkName(part, `record name "${fullName}"`);
  return { space, name };
}

const AVRO_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkName(name: string, what: string): void {
  if (!AVRO_NAME.test(name)) {
    throw new AvroSchemaError(`${what} is not a valid Avro name`, {
      fix:
        'Avro names start with a letter or underscore and contain only ASCII letters, digits and underscores; ' +
        'rename the column, or choose a topic prefix and table names made of such parts',
    });
  }
}
