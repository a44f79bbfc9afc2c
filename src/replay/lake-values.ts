/**
 * Lake values (what DuckDB reads from the Parquet files) → the neutral Values of src/model/change.ts, per
 * column type, so the live encoder writes them exactly as the change events had them: DECIMAL as its exact
 * text, TIMESTAMP/TIME (and MySQL TIME durations, kept as BIGINT) as microseconds, TIMESTAMPTZ as ISO-8601 UTC
 * text with the source's fractional digits (±infinity as PostgreSQL spells it), BLOB as bytes. Arrays are selected as lists of their staged form
 * (columns.ts: the lake keeps arrays of anything but plain scalars as JSON of the staged values).
 */
import {
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  DuckDBUUIDValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import { decimalString } from '../lake/columns.js';
import type { Value } from '../model/change.js';
import type { Column, FieldType } from '../model/schema.js';
import { formatInstant } from '../sources/postgres/text-values.js';
import { LakeReplayError } from './lake-schema.js';

export interface ColumnReader {
  /** SQL selecting the lake column `ref` in the form `read` takes. */
  readonly select: (ref: string) => string;
  readonly read: (value: DuckDBValue) => Value;
}

/** DuckDB's ±infinity timestamps. */
const INFINITY_MICROS = 2n ** 63n - 1n;

export function columnReader(column: Column, table: string): ColumnReader {
  const where = `${table}.${column.name}`;
  if (column.type.kind === 'array') {
    const items = column.type.items;
    const read = stagedReader(items, where);
    return {
      select: (ref) => `CAST(${ref} AS ${stagedSql(items)}[])`,
      read: (value) => listOf(value, where).map((item) => (item === null ? null : read(item))),
    };
  }
  return { select: (ref) => ref, read: lakeReader(column.type, where) };
}

function lakeReader(type: FieldType, where: string): (value: DuckDBValue) => Value {
  switch (type.kind) {
    case 'date':
      return (v) => expect(v, DuckDBDateValue, where).days;
    case 'time':
      // A time of day is a TIME, a MySQL/MariaDB duration BIGINT microseconds (lake/columns.ts timeMeaning).
      return (v) => {
        if (v instanceof DuckDBTimeValue) return v.micros;
        if (typeof v === 'bigint') return v;
        throw mismatch(v, 'TIME or BIGINT', where);
      };
    case 'timestamp':
      return (v) => expect(v, DuckDBTimestampValue, where).micros;
    case 'timestamptz':
      return (v) => {
        const { micros } = expect(v, DuckDBTimestampTZValue, where);
        if (micros === INFINITY_MICROS) return 'infinity';
        if (micros === -INFINITY_MICROS) return '-infinity';
        return formatInstant(micros, type.precision);
      };
    case 'decimal':
      return (v) => (v instanceof DuckDBDecimalValue ? decimalString(v.value, v.scale) : scalar(v, 'string', where));
    case 'uuid':
      return (v) => {
        // Its constructor is private, which expect() cannot take.
        if (v instanceof DuckDBUUIDValue) return v.toString();
        throw mismatch(v, 'UUID', where);
      };
    case 'bytes':
      return (v) => expect(v, DuckDBBlobValue, where).bytes;
    case 'bits':
      return type.length > 1 ? (v) => expect(v, DuckDBBlobValue, where).bytes : (v) => scalar(v, 'boolean', where);
    default:
      return stagedReader(type, where);
  }
}

/** Readers of what the appender staged (columns.ts StageKind): arrays of any type hold items in this form. */
function stagedReader(type: FieldType, where: string): (value: DuckDBValue) => Value {
  switch (type.kind) {
    case 'boolean':
      return (v) => scalar(v, 'boolean', where);
    case 'bits':
      return type.length > 1 ? (v) => base64(v, where) : (v) => scalar(v, 'boolean', where);
    case 'int8':
    case 'int16':
    case 'int32':
    case 'date':
    case 'year':
    case 'float32':
    case 'float64':
      return (v) => scalar(v, 'number', where);
    case 'int64':
    case 'interval':
    case 'time':
    case 'timestamp':
      return (v) => scalar(v, 'bigint', where);
    case 'bytes':
      return (v) => base64(v, where);
    case 'array': {
      const read = stagedReader(type.items, where);
      return (v) => listOf(v, where).map((item) => (item === null ? null : read(item)));
    }
    default:
      // Text of every other kind, exactly as the source wrote it (decimals, JSON, enums, ZonedTimestamp...).
      return (v) => scalar(v, 'string', where);
  }
}

/** The DuckDB type of a staged value of `type`. */
function stagedSql(type: FieldType): string {
  switch (type.kind) {
    case 'boolean':
      return 'BOOLEAN';
    case 'bits':
      return type.length > 1 ? 'VARCHAR' : 'BOOLEAN';
    case 'int8':
    case 'int16':
    case 'int32':
    case 'date':
    case 'year':
      return 'INTEGER';
    case 'int64':
    case 'interval':
    case 'time':
    case 'timestamp':
      return 'BIGINT';
    case 'float32':
      return 'FLOAT';
    case 'float64':
      return 'DOUBLE';
    case 'array':
      return `${stagedSql(type.items)}[]`;
    default:
      return 'VARCHAR';
  }
}

function expect<T>(value: DuckDBValue, kind: abstract new (...args: never[]) => T, where: string): T {
  if (value instanceof kind) return value;
  throw mismatch(value, kind.name, where);
}

function scalar<K extends 'boolean' | 'number' | 'bigint' | 'string'>(value: DuckDBValue, kind: K, where: string): Value {
  if (typeof value === kind) return value as Value;
  throw mismatch(value, kind, where);
}

function listOf(value: DuckDBValue, where: string): readonly DuckDBValue[] {
  return expect(value, DuckDBListValue, where).items;
}

function base64(value: DuckDBValue, where: string): Uint8Array {
  return new Uint8Array(Buffer.from(scalar(value, 'string', where) as string, 'base64'));
}

function mismatch(value: DuckDBValue, expected: string, where: string): LakeReplayError {
  const found = value === null ? 'null' : typeof value === 'object' ? value.constructor.name : typeof value;
  return new LakeReplayError(`lake column ${where} holds a ${found} where its type needs a ${expected}`, {
    fix: 'the data files do not match the lake metadata: rebuild the table with tributary compact, or replay with --from database',
  });
}
