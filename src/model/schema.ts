/**
 * The neutral description of a table that both sources produce and every encoder consumes. A source maps its
 * database types onto these semantic kinds; the Avro layer maps the kinds onto Debezium's schemas. Neither side
 * needs to know the other.
 */
import type { Value } from './change.js';

export type FieldType =
  | { kind: 'boolean' }
  | { kind: 'int8' | 'int16' | 'int32' | 'int64' }
  | { kind: 'float32' | 'float64' }
  /** precision/scale absent: a numeric whose scale varies per value (PostgreSQL `numeric` without a typmod). */
  | { kind: 'decimal'; precision?: number; scale?: number }
  | { kind: 'string' }
  | { kind: 'bytes' }
  | { kind: 'uuid' }
  | { kind: 'json' }
  | { kind: 'xml' }
  | { kind: 'enum'; symbols: string[] }
  /** MySQL SET: a comma-separated subset of `symbols`. */
  | { kind: 'set'; symbols: string[] }
  /** Fixed-width bit string; `length` 1 is a boolean to Debezium. */
  | { kind: 'bits'; length: number }
  | { kind: 'date' }
  /** Time of day without zone; `precision` is the fractional-second digits (0–6). */
  | { kind: 'time'; precision: number }
  /** Wall-clock timestamp without zone; `precision` is the fractional-second digits (0–6). */
  | { kind: 'timestamp'; precision: number }
  /** An instant (PostgreSQL timestamptz, MySQL TIMESTAMP). */
  | { kind: 'timestamptz'; precision: number }
  | { kind: 'timetz' }
  | { kind: 'interval' }
  | { kind: 'year' }
  | { kind: 'array'; items: FieldType };

export type FieldKind = FieldType['kind'];

export interface Column {
  readonly name: string;
  readonly type: FieldType;
  readonly nullable: boolean;
  /** The database's own type name (e.g. `varchar(20)`, `int unsigned`), for messages and metadata. */
  readonly sourceType: string;
  /**
   * The column's database default as a neutral value (the representation of row values), when it is a constant:
   * Debezium puts defaults into the schema, and a column added NOT NULL needs one to stay backward compatible.
   */
  readonly defaultValue?: Value;
}

export interface TableId {
  /** PostgreSQL database or MySQL database name. */
  readonly database: string;
  /** PostgreSQL schema; absent for MySQL, where the database is the namespace. */
  readonly schema?: string;
  readonly table: string;
}

export interface TableSchema {
  readonly id: TableId;
  readonly columns: readonly Column[];
  /** Names of the key columns in key order; empty when the table has neither a primary key nor a configured key. */
  readonly key: readonly string[];
}

/** `schema.table` for PostgreSQL, `database.table` for MySQL: the name users write in the config. */
export function qualifiedName(id: TableId): string {
  return id.schema === undefined ? `${id.database}.${id.table}` : `${id.schema}.${id.table}`;
}

/** Structural equality of two table schemas: a difference means a new schema version. */
export function sameSchema(a: TableSchema, b: TableSchema): boolean {
  return JSON.stringify(a, jsonSafe) === JSON.stringify(b, jsonSafe);
}

/** Defaults may be bigints, which JSON.stringify rejects; `n` keeps 5n apart from 5. */
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}
