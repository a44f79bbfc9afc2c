/**
 * Table schemas: read from information_schema (column order, types, nullability, primary key, MariaDB's JSON
 * check constraints), or from a binlog table map when the catalog no longer describes the rows being read
 * (an ALTER TABLE committed after them). The configured column filter and key apply to both.
 */
import type mysql from 'mysql2/promise';
import type { Column, TableId, TableSchema } from '../../model/schema.js';
import { ConfigError, SourceError } from '../../model/errors.js';
import { fieldTypeOf, type ColumnDescription } from './types.js';
import type { QueryConnection } from './connection.js';
import type { Value } from '../../model/change.js';
import { parseColumnDefault } from './column-default.js';

export interface MysqlTableConfig {
  /** `database.table`. */
  readonly name: string;
  readonly columns?: { readonly include?: readonly string[]; readonly exclude?: readonly string[] };
  /** Key columns for a table without a primary key (or to override it). */
  readonly key?: readonly string[];
}

export interface CatalogColumn extends ColumnDescription {
  readonly nullable: boolean;
  /** The constant default as a neutral value; absent when there is none (see column-default.ts). */
  readonly defaultValue?: Value;
}

/** A table as the server describes it, before the configured filters. */
export interface CatalogTable {
  readonly id: TableId;
  readonly columns: readonly CatalogColumn[];
  readonly primaryKey: readonly string[];
}

export function parseTableName(name: string): TableId {
  const parts = name.split('.');
  if (parts.length !== 2 || parts.some((p) => p === '')) {
    throw new ConfigError(`table "${name}" must be written database.table`, { fix: `write the table as <database>.${parts.at(-1) ?? name}` });
  }
  return { database: parts[0]!, table: parts[1]! };
}

export async function readCatalogTable(connection: QueryConnection, id: TableId): Promise<CatalogTable> {
  const [columns] = await connection.query<mysql.RowDataPacket[]>(
    `SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [id.database, id.table],
  );
  if (columns.length === 0) {
    throw new SourceError(`table ${id.database}.${id.table} does not exist or the source user cannot see it`, {
      fix: `create the table, grant SELECT on it to the source user, or remove it from the source's tables`,
    });
  }
  const [keys] = await connection.query<mysql.RowDataPacket[]>(
    `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
     WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`,
    [id.database, id.table],
  );
  const jsonColumns = await mariadbJsonColumns(connection, id);
  return {
    id,
    primaryKey: keys.map((k) => String(k.COLUMN_NAME)),
    columns: columns.map((c) => {
      const column = {
        name: String(c.COLUMN_NAME),
        columnType: String(c.COLUMN_TYPE),
        nullable: c.IS_NULLABLE === 'YES',
        json: String(c.DATA_TYPE).toLowerCase() === 'json' || jsonColumns.has(String(c.COLUMN_NAME)),
      };
      const defaultValue = catalogDefault(`${id.database}.${id.table}`, column, (c.COLUMN_DEFAULT ?? null) as string | null, String(c.EXTRA ?? ''));
      return defaultValue === undefined ? column : { ...column, defaultValue };
    }),
  };
}

function catalogDefault(table: string, column: CatalogColumn, columnDefault: string | null, extra: string): Value | undefined {
  let type;
  try {
    type = fieldTypeOf(table, column);
  } catch {
    return undefined; // an unsupported type is reported where the schema is built, if the column is captured
  }
  return parseColumnDefault(columnDefault, extra, type, column.nullable);
}

/** MariaDB writes a JSON column as LONGTEXT CHECK (json_valid(`col`)); that constraint is the only trace. */
async function mariadbJsonColumns(connection: QueryConnection, id: TableId): Promise<Set<string>> {
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      `SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`,
      [id.database, id.table],
    );
    const names = new Set<string>();
    for (const row of rows) {
      const match = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(row.CHECK_CLAUSE).trim());
      if (match !== null) names.add(match[1]!.replace(/``/g, '`'));
    }
    return names;
  } catch {
    return new Set(); // MySQL before 8.0.16 has no CHECK_CONSTRAINTS; its JSON has a type of its own anyway
  }
}

/**
 * Applies the configured column filter and key to a catalog table. `strict` (the catalog, at start) rejects
 * configured columns the table lacks; a binlog-era version of the table may simply not have them yet.
 */
export function buildTableSchema(table: CatalogTable, config: MysqlTableConfig, strict = true): TableSchema {
  const name = `${table.id.database}.${table.id.table}`;
  const known = new Set(table.columns.map((c) => c.name));
  const include = config.columns?.include;
  const exclude = new Set(config.columns?.exclude ?? []);
  for (const listed of [...(include ?? []), ...exclude]) {
    if (strict && !known.has(listed)) {
      throw new ConfigError(`column ${listed} listed for table ${name} does not exist`, {
        fix: `use one of: ${[...known].join(', ')}`,
      });
    }
  }
  const kept = table.columns.filter((c) => (include === undefined || include.includes(c.name)) && !exclude.has(c.name));
  const columns: Column[] = kept.map((c) => ({
    name: c.name,
    type: fieldTypeOf(name, c),
    nullable: c.nullable,
    sourceType: c.columnType,
    ...(c.defaultValue === undefined ? {} : { defaultValue: c.defaultValue }),
  }));
  const key = (config.key ?? table.primaryKey).filter((k) => strict || columns.some((c) => c.name === k));
  for (const k of key) {
    if (!columns.some((c) => c.name === k)) {
      throw new ConfigError(`key column ${k} of table ${name} is not among the captured columns`, {
        fix: `capture ${k} (columns.include/exclude) or set key: to other columns of ${name}`,
      });
    }
  }
  return { id: table.id, columns, key: [...key] };
}

/**
 * The description that fits rows read from the binlog: the catalog when it agrees column for column with the
 * table map (same names, same neutral types), else the table map itself, which is what the rows were written
 * with. The table map carries no nullability that zongji exposes, so a column keeps it from the table's previous
 * version, else from a same-named catalog column of the same type; primary key columns are NOT NULL; only a
 * column known to neither is taken as nullable. Guessing "nullable" for known columns would flip them between
 * optional and required from version to version, which the registry rejects as incompatible (and a key column
 * would turn optional). JSON-ness of MariaDB text columns comes the same way.
 */
export function reconcileWithBinlog(
  catalog: CatalogTable,
  binlog: readonly ColumnDescription[],
  primaryKey: readonly string[] | undefined,
  previous: readonly Column[] = [],
): CatalogTable {
  const name = `${catalog.id.database}.${catalog.id.table}`;
  const sameType = (c: ColumnDescription, b: ColumnDescription): boolean =>
    JSON.stringify(fieldTypeOf(name, { ...c, json: false })) === JSON.stringify(fieldTypeOf(name, b));
  const agrees =
    catalog.columns.length === binlog.length && catalog.columns.every((c, i) => binlog[i]!.name === c.name && sameType(c, binlog[i]!));
  if (agrees) return catalog;
  const byName = new Map(catalog.columns.map((c) => [c.name, c]));
  const priorByName = new Map(previous.map((c) => [c.name, c]));
  const key = primaryKey ?? catalog.primaryKey.filter((k) => binlog.some((b) => b.name === k));
  return {
    id: catalog.id,
    primaryKey: key,
    columns: binlog.map((b) => {
      const prior = priorByName.get(b.name);
      const json = /text$/i.test(b.columnType) && (prior === undefined ? byName.get(b.name)?.json === true : prior.type.kind === 'json');
      const priorFits = prior !== undefined && JSON.stringify(prior.type) === JSON.stringify(fieldTypeOf(name, { ...b, json }));
      const fromCatalog = byName.get(b.name);
      const nullable = key.includes(b.name)
        ? false
        : priorFits
          ? prior.nullable
          : fromCatalog !== undefined && sameType(fromCatalog, b)
            ? fromCatalog.nullable
            : true;
      const defaultValue = priorFits ? prior.defaultValue : fromCatalog !== undefined && sameType(fromCatalog, b) ? fromCatalog.defaultValue : undefined;
      return { name: b.name, columnType: b.columnType, nullable, json, ...(defaultValue === undefined ? {} : { defaultValue }) };
    }),
  };
}
