/**
 * Catalog lookups: the configured tables and their columns, keys and types, and the TableSchema (with the
 * per-column readers) of a table as the snapshot or a RELATION message describes it.
 */
import type pg from 'pg';
import type { Column, TableSchema } from '../../model/schema.js';
import { sameSchema } from '../../model/schema.js';
import type { Value } from '../../model/change.js';
import { columnCodec, type PgType } from './types.js';
import { parseColumnDefault } from './column-default.js';
import { columnNotFoundError, tableNotFoundError, unsupportedTypeError } from './errors.js';

export interface TableConfig {
  /** `schema.table`; a bare name means schema `public`. */
  readonly name: string;
  readonly columns?: { readonly include?: readonly string[]; readonly exclude?: readonly string[] };
  readonly key?: readonly string[];
}

export interface CatalogColumn {
  readonly name: string;
  readonly typeOid: number;
  readonly typeMod: number;
  readonly nullable: boolean;
  /** format_type(), e.g. `numeric(10,2)`. */
  readonly sourceType: string;
  /** pg_get_expr() of the column default (not of a generated column's expression); absent when there is none. */
  readonly defaultExpr?: string;
}

/** A configured table as found in the catalog. */
export interface ResolvedTable {
  readonly oid: number;
  readonly schema: string;
  readonly table: string;
  readonly config: TableConfig;
  /** Selected columns, in table order. */
  readonly columns: readonly CatalogColumn[];
  /** The configured key, else the primary key; empty when neither exists. */
  readonly key: readonly string[];
  /** Key columns (possibly not selected), for ordering the snapshot. */
  readonly keyColumns: readonly CatalogColumn[];
  /** All column names, selected or not. */
  readonly allColumns: readonly string[];
  /** Columns UPDATE and DELETE log as the old row's identity (REPLICA IDENTITY); all of them when FULL. */
  readonly identityColumns: readonly string[];
}

/** A TableSchema with the text reader of each column, in column order. */
export interface TableCodec {
  readonly schema: TableSchema;
  readonly readers: readonly ((text: string) => Value)[];
}

export function splitName(name: string): { schema: string; table: string } {
  const dot = name.indexOf('.');
  return dot < 0 ? { schema: 'public', table: name } : { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}

/** Whether the table's column selection keeps `column`. */
export function columnSelected(config: TableConfig, column: string): boolean {
  const { include, exclude } = config.columns ?? {};
  if (include !== undefined) return include.includes(column);
  return exclude === undefined || !exclude.includes(column);
}

export class PgCatalog {
  private readonly types = new Map<number, PgType>();
  private readonly schemas = new Map<string, TableSchema>();

  constructor(
    private readonly client: pg.Client,
    private readonly database: string,
  ) {}

  async resolveTable(config: TableConfig): Promise<ResolvedTable> {
    const { schema, table } = splitName(config.name);
    const found = await this.client.query<{ oid: number }>(
      `SELECT c.oid::int8 AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [schema, table],
    );
    const oid = found.rows[0]?.oid;
    if (oid === undefined) throw tableNotFoundError(`${schema}.${table}`);
    const all = await this.columns(Number(oid));
    const names = new Set(all.map((column) => column.name));
    for (const [setting, list] of [
      ['columns.include', config.columns?.include],
      ['columns.exclude', config.columns?.exclude],
      ['key', config.key],
    ] as const) {
      for (const column of list ?? []) if (!names.has(column)) throw columnNotFoundError(`${schema}.${table}`, column, setting);
    }
    const key = config.key ?? (await this.primaryKey(Number(oid)));
    return {
      oid: Number(oid),
      schema,
      table,
      config,
      columns: all.filter((column) => columnSelected(config, column.name)),
      key,
      keyColumns: key.map((name) => all.find((column) => column.name === name)!),
      allColumns: all.map((column) => column.name),
      identityColumns: await this.identityColumns(Number(oid), all),
    };
  }

  private async identityColumns(oid: number, all: readonly CatalogColumn[]): Promise<string[]> {
    const identity = await this.client.query<{ relreplident: string }>('SELECT relreplident FROM pg_class WHERE oid = $1', [oid]);
    switch (identity.rows[0]?.relreplident) {
      case 'f':
        return all.map((column) => column.name);
      case 'n':
        return [];
      case 'i': {
        const result = await this.client.query<{ name: string }>(
          `SELECT a.attname AS name FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) AS k(attnum)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = $1 AND i.indisreplident`,
          [oid],
        );
        return result.rows.map((row) => row.name);
      }
      default:
        return this.primaryKey(oid);
    }
  }

  /** Live columns of a relation, in attribute order. */
  async columns(oid: number): Promise<CatalogColumn[]> {
    const result = await this.client.query<{
      name: string;
      type_oid: string;
      type_mod: number;
      not_null: boolean;
      source_type: string;
      default_expr: string | null;
    }>(
      `SELECT a.attname AS name, a.atttypid::int8 AS type_oid, a.atttypmod AS type_mod, a.attnotnull AS not_null,
              format_type(a.atttypid, a.atttypmod) AS source_type,
              CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS default_expr
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [oid],
    );
    return result.rows.map((row) => ({
      name: row.name,
      typeOid: Number(row.type_oid),
      typeMod: row.type_mod,
      nullable: !row.not_null,
      sourceType: row.source_type,
      ...(row.default_expr === null ? {} : { defaultExpr: row.default_expr }),
    }));
  }

  async primaryKey(oid: number): Promise<string[]> {
    const result = await this.client.query<{ name: string }>(
      `SELECT a.attname AS name FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`,
      [oid],
    );
    return result.rows.map((row) => row.name);
  }

  /**
   * The schema of `schema.table` with `columns` (already filtered to the selection). Equal schemas come back
   * as the same object, so consumers can cache by identity.
   */
  async tableCodec(schemaName: string, table: string, columns: readonly CatalogColumn[], key: readonly string[]): Promise<TableCodec> {
    await this.loadTypes(columns.map((column) => column.typeOid));
    const modelColumns: Column[] = [];
    const readers: ((text: string) => Value)[] = [];
    for (const column of columns) {
      const codec = columnCodec(column.typeOid, column.typeMod, this.types);
      if (codec === undefined) throw unsupportedTypeError(`${schemaName}.${table}`, column.name, column.sourceType);
      const defaultValue = parseColumnDefault(column.defaultExpr, codec.type, codec.read);
      modelColumns.push({
        name: column.name,
        type: codec.type,
        nullable: column.nullable,
        sourceType: column.sourceType,
        ...(defaultValue === undefined ? {} : { defaultValue }),
      });
      readers.push(codec.read);
    }
    const presentKey = key.filter((name) => columns.some((column) => column.name === name));
    const schema: TableSchema = { id: { database: this.database, schema: schemaName, table }, columns: modelColumns, key: presentKey };
    const qualified = `${schemaName}.${table}`;
    const previous = this.schemas.get(qualified);
    if (previous !== undefined && sameSchema(previous, schema)) return { schema: previous, readers };
    this.schemas.set(qualified, schema);
    return { schema, readers };
  }

  async formatType(oid: number, typeMod: number): Promise<string> {
    const result = await this.client.query<{ name: string }>('SELECT format_type($1, $2) AS name', [oid, typeMod]);
    return result.rows[0]?.name ?? String(oid);
  }

  /** Loads pg_type rows for `oids` and, transitively, the element and base types they refer to. */
  private async loadTypes(oids: readonly number[]): Promise<void> {
    let missing = [...new Set(oids)].filter((oid) => !this.types.has(oid));
    while (missing.length > 0) {
      const result = await this.client.query<{
        oid: string;
        schema: string;
        name: string;
        kind: string;
        element: string;
        base_type: string;
        base_type_mod: number;
        labels: string[] | null;
      }>(
        `SELECT t.oid::int8 AS oid, n.nspname AS schema, t.typname AS name, t.typtype AS kind, t.typelem::int8 AS element,
                t.typbasetype::int8 AS base_type, t.typtypmod AS base_type_mod,
                (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels
           FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = ANY($1::oid[])`,
        [missing],
      );
      const next: number[] = [];
      for (const row of result.rows) {
        const type: PgType = {
          oid: Number(row.oid),
          schema: row.schema,
          name: row.name,
          kind: row.kind,
          element: Number(row.element),
          baseType: Number(row.base_type),
          baseTypeMod: row.base_type_mod,
          enumLabels: row.labels,
        };
        this.types.set(type.oid, type);
        for (const related of [type.element, type.baseType]) if (related !== 0 && !this.types.has(related)) next.push(related);
      }
      missing = next;
    }
  }
}
