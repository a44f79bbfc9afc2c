/**
 * FieldType → the Connect schema Debezium gives such a column with its default settings:
 * decimal.handling.mode=precise, binary.handling.mode=bytes, interval.handling.mode=numeric,
 * bigint.unsigned.handling.mode=precise (sources map BIGINT UNSIGNED to decimal(20,0)), and
 * time.precision.mode=adaptive (PostgreSQL) or adaptive_time_microseconds (MySQL/MariaDB).
 * Sources: JdbcValueConverters.schemaBuilder, PostgresValueConverter.schemaBuilder,
 * BinlogValueConverters.schemaBuilder, TemporalPrecisionMode.
 */
import type { Column, FieldType } from '../model/schema.js';
import {
  array,
  connectDecimal,
  debeziumBits,
  debeziumEnum,
  debeziumEnumSet,
  debeziumJson,
  debeziumUuid,
  debeziumXml,
  optional,
  primitive,
  timeDate,
  timeMicroDuration,
  timeMicroTime,
  timeMicroTimestamp,
  timeTime,
  timeTimestamp,
  timeYear,
  timeZonedTime,
  timeZonedTimestamp,
  variableScaleDecimal,
  type ConnectSchema,
} from './connect-schema.js';
import { AvroSchemaError } from './errors.js';

/** Which Debezium connector's conventions an event follows. */
export type SourceKind = 'postgresql' | 'mysql' | 'mariadb';

/** Debezium's time.precision.mode; each connector's default. */
export type TemporalMode = 'adaptive' | 'adaptive_time_microseconds';

export function temporalModeFor(kind: SourceKind): TemporalMode {
  return kind === 'postgresql' ? 'adaptive' : 'adaptive_time_microseconds';
}

/** The unit a `time` column is written in: io.debezium.time.Time (ms, int) or MicroTime (µs, long). */
export function timeUnit(precision: number, mode: TemporalMode): 'millis' | 'micros' {
  checkPrecision(precision);
  return mode === 'adaptive' && precision <= 3 ? 'millis' : 'micros';
}

/** The unit a `timestamp` column is written in: io.debezium.time.Timestamp (ms) or MicroTimestamp (µs). */
export function timestampUnit(precision: number): 'millis' | 'micros' {
  checkPrecision(precision);
  return precision <= 3 ? 'millis' : 'micros';
}

/**
 * A decimal column without precision and scale has a per-value scale (PostgreSQL `numeric`). One with a scale
 * but no precision (PostgreSQL `money`) is a Decimal without the connect.decimal.precision parameter.
 */
export function isVariableScale(type: Extract<FieldType, { kind: 'decimal' }>): boolean {
  return type.precision === undefined && type.scale === undefined;
}

export function columnSchema(column: Column, mode: TemporalMode): ConnectSchema {
  const schema = connectSchemaFor(column.type, mode);
  return column.nullable ? optional(schema) : schema;
}

export function connectSchemaFor(type: FieldType, mode: TemporalMode): ConnectSchema {
  switch (type.kind) {
    case 'boolean':
      return primitive('boolean');
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
    case 'float32':
    case 'float64':
    case 'string':
    case 'bytes':
      return primitive(type.kind);
    case 'decimal':
      return isVariableScale(type) ? variableScaleDecimal() : connectDecimal(type.scale ?? 0, type.precision);
    case 'uuid':
      return debeziumUuid();
    case 'json':
      return debeziumJson();
    case 'xml':
      return debeziumXml();
    case 'enum':
      return debeziumEnum(type.symbols);
    case 'set':
      return debeziumEnumSet(type.symbols);
    case 'bits':
      return type.length > 1 ? debeziumBits(type.length) : primitive('boolean');
    case 'date':
      return timeDate();
    case 'time':
      return timeUnit(type.precision, mode) === 'millis' ? timeTime() : timeMicroTime();
    case 'timestamp':
      return timestampUnit(type.precision) === 'millis' ? timeTimestamp() : timeMicroTimestamp();
    case 'timestamptz':
      return timeZonedTimestamp();
    case 'timetz':
      return timeZonedTime();
    case 'interval':
      return timeMicroDuration();
    case 'year':
      return timeYear();
    case 'array':
      // Debezium's array element schemas are always optional (PostgresValueConverter).
      return array(optional(connectSchemaFor(type.items, mode)));
  }
}

function checkPrecision(precision: number): void {
  if (!Number.isInteger(precision) || precision < 0 || precision > 6) {
    throw new AvroSchemaError(`fractional-second precision ${precision} is outside 0–6`, {
      fix: 'this is a bug in the source type mapping: time precisions must be 0 to 6',
    });
  }
}
