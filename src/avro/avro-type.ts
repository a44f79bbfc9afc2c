/**
 * avsc Types built from the schema JSON of avro-data.ts, with longs as exact bigints (avsc's own long type
 * refuses values beyond 2^53), and the JSON each Type was built from, which is what goes to the registry.
 */
import avro from 'avsc';
import type { ConnectSchema } from './connect-schema.js';
import { toAvroSchema, type AvroSchemaJson } from './avro-data.js';
import { plainJson, printJavaJson } from './java-json.js';
import { AvroSchemaError } from './errors.js';

/** Reads and writes every Avro long as a bigint, so int64 values survive the full signed 64-bit range. */
const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (json: unknown) => BigInt(json as string | number),
  toJSON: (n: bigint) => (Number.isSafeInteger(Number(n)) ? Number(n) : n.toString()),
  isValid: (n: unknown) => typeof n === 'bigint' && n >= -(2n ** 63n) && n < 2n ** 63n,
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

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
