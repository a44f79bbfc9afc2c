/**
 * The Connect schemas of a table's key and change-event envelope, as Debezium's TableSchemaBuilder and
 * Envelope build them: `<topic>.Key` (key columns), `<topic>.Value` (all columns, an optional struct used for
 * both `before` and `after`), and `<topic>.Envelope` (version 2) with the fields
 * before, after, source, transaction, op, ts_ms, ts_us, ts_ns.
 */
import type { Column, TableSchema } from '../model/schema.js';
import { qualifiedName } from '../model/schema.js';
import { field, optional, primitive, struct, type ConnectField, type ConnectSchema } from './connect-schema.js';
import { columnSchema, temporalModeFor, type SourceKind, type TemporalMode } from './connect-types.js';
import { AvroSchemaError } from './errors.js';
import { sourceSchema } from './source-block.js';
import { columnDefaultToAvro, type ColumnWithDefault } from './values.js';

const ENVELOPE_VERSION = 2;

/** SchemaFactory.transactionBlockSchema: the optional `event.block` struct. */
export function transactionBlockSchema(): ConnectSchema {
  return optional(
    struct(
      'event.block',
      [
        field('id', primitive('string')),
        field('total_order', primitive('int64')),
        field('data_collection_order', primitive('int64')),
      ],
      { version: 1 },
    ),
  );
}

/** The key columns in key order; an error names the table and the missing column. */
export function keyColumns(table: TableSchema): Column[] {
  return table.key.map((name) => {
    const column = table.columns.find((c) => c.name === name);
    if (column === undefined) {
      throw new AvroSchemaError(`key column "${name}" is not a column of table ${qualifiedName(table.id)}`, {
        fix: 'check the key columns configured for this table',
      });
    }
    return column;
  });
}

/** TableSchemaBuilder.addField: the column's schema, with the column default when it has one. */
function columnField(column: ColumnWithDefault, table: TableSchema, mode: TemporalMode): ConnectField {
  const schema = columnSchema(column, mode);
  const defaultValue = columnDefaultToAvro(column, { mode, table: qualifiedName(table.id) });
  return field(column.name, defaultValue === null ? schema : { ...schema, defaultValue });
}

export function keyConnectSchema(topic: string, table: TableSchema, mode: TemporalMode): ConnectSchema | null {
  const columns = keyColumns(table);
  if (columns.length === 0) return null;
  return struct(
    `${topic}.Key`,
    columns.map((c) => columnField(c, table, mode)),
  );
}

export function valueConnectSchema(topic: string, table: TableSchema, mode: TemporalMode): ConnectSchema {
  return optional(
    struct(
      `${topic}.Value`,
      table.columns.map((c) => columnField(c, table, mode)),
    ),
  );
}

export function envelopeConnectSchema(topic: string, table: TableSchema, kind: SourceKind): ConnectSchema {
  const value = valueConnectSchema(topic, table, temporalModeFor(kind));
  const optionalInt64 = primitive('int64', true);
  return struct(
    `${topic}.Envelope`,
    [
      field('before', value),
      field('after', value),
      field('source', sourceSchema(kind)),
      field('transaction', transactionBlockSchema()),
      field('op', primitive('string')),
      field('ts_ms', optionalInt64),
      field('ts_us', optionalInt64),
      field('ts_ns', optionalInt64),
    ],
    { version: ENVELOPE_VERSION },
  );
}
