/**
 * A minimal model of Kafka Connect schemas, and the named Connect/Debezium schemas we use.
 *
 * Debezium describes every event with Connect schemas and the Confluent converter (AvroData) turns those into
 * Avro. Modelling the Connect layer instead of writing Avro directly lets avro-data.ts reproduce AvroData's
 * output byte for byte (connect.* properties, union order, defaults), which is what registry subjects and
 * existing consumers see.
 *
 * Builders here mirror io.debezium.schema.SchemaFactory and the io.debezium.{data,time} classes of Debezium 3.6.
 */

export type ConnectType =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'boolean'
  | 'string'
  | 'bytes'
  | 'array'
  | 'struct';

export interface ConnectSchema {
  readonly type: ConnectType;
  readonly optional: boolean;
  readonly name?: string;
  readonly version?: number;
  readonly doc?: string;
  /** Insertion order matters: AvroData writes them in this order into `connect.parameters`. */
  readonly parameters?: Readonly<Record<string, string>>;
  /**
   * The default in the form avsc writes (what values.ts produces: bigint longs, Buffer bytes, plain objects for
   * structs); null is no default, as in Connect.
   */
  readonly defaultValue?: unknown;
  readonly fields?: readonly ConnectField[];
  readonly items?: ConnectSchema;
}

export interface ConnectField {
  readonly name: string;
  readonly schema: ConnectSchema;
}

export function primitive(type: Exclude<ConnectType, 'array' | 'struct'>, optional = false): ConnectSchema {
  return { type, optional };
}

export function optional(schema: ConnectSchema): ConnectSchema {
  return { ...schema, optional: true };
}

export function struct(name: string, fields: readonly ConnectField[], extra: Partial<ConnectSchema> = {}): ConnectSchema {
  return { type: 'struct', optional: false, name, fields, ...extra };
}

export function array(items: ConnectSchema): ConnectSchema {
  return { type: 'array', optional: false, items };
}

export function field(name: string, schema: ConnectSchema): ConnectField {
  return { name, schema };
}

function named(type: ConnectType, name: string, parameters?: Record<string, string>): ConnectSchema {
  return parameters === undefined
    ? { type, optional: false, name, version: 1 }
    : { type, optional: false, name, version: 1, parameters };
}

/** org.apache.kafka.connect.data.Decimal as Debezium's precise decimal mode builds it. */
export const DECIMAL_NAME = 'org.apache.kafka.connect.data.Decimal';
export function connectDecimal(scale: number, precision?: number): ConnectSchema {
  const parameters: Record<string, string> = { scale: String(scale) };
  if (precision !== undefined) parameters['connect.decimal.precision'] = String(precision);
  return named('bytes', DECIMAL_NAME, parameters);
}

export const VARIABLE_SCALE_DECIMAL_NAME = 'io.debezium.data.VariableScaleDecimal';
export function variableScaleDecimal(): ConnectSchema {
  return struct(
    VARIABLE_SCALE_DECIMAL_NAME,
    [field('scale', primitive('int32')), field('value', primitive('bytes'))],
    { version: 1, doc: 'Variable scaled decimal' },
  );
}

export const debeziumEnum = (allowed: readonly string[]): ConnectSchema =>
  named('string', 'io.debezium.data.Enum', { allowed: allowed.join(',') });
export const debeziumEnumSet = (allowed: readonly string[]): ConnectSchema =>
  named('string', 'io.debezium.data.EnumSet', { allowed: allowed.join(',') });
export const debeziumBits = (length: number): ConnectSchema =>
  named('bytes', 'io.debezium.data.Bits', { length: String(length) });
export const debeziumJson = (): ConnectSchema => named('string', 'io.debezium.data.Json');
export const debeziumXml = (): ConnectSchema => named('string', 'io.debezium.data.Xml');
export const debeziumUuid = (): ConnectSchema => named('string', 'io.debezium.data.Uuid');

export const timeDate = (): ConnectSchema => named('int32', 'io.debezium.time.Date');
export const timeTime = (): ConnectSchema => named('int32', 'io.debezium.time.Time');
export const timeMicroTime = (): ConnectSchema => named('int64', 'io.debezium.time.MicroTime');
export const timeTimestamp = (): ConnectSchema => named('int64', 'io.debezium.time.Timestamp');
export const timeMicroTimestamp = (): ConnectSchema => named('int64', 'io.debezium.time.MicroTimestamp');
export const timeZonedTimestamp = (): ConnectSchema => named('string', 'io.debezium.time.ZonedTimestamp');
export const timeZonedTime = (): ConnectSchema => named('string', 'io.debezium.time.ZonedTime');
export const timeMicroDuration = (): ConnectSchema => named('int64', 'io.debezium.time.MicroDuration');
export const timeYear = (): ConnectSchema => named('int32', 'io.debezium.time.Year');
