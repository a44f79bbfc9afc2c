/**
 * Values a change event does not carry. PostgreSQL leaves an unchanged TOASTed value (long text, jsonb, bytea,
 * arrays) out of an update, and Debezium writes `__debezium_unavailable_value` in its place: as the text, as its
 * UTF-8 bytes, or as a one-element list, by column type (src/avro/values.ts). The row still holds the old value,
 * so the lake must too: staging marks such columns of an update instead of storing the placeholder, and the
 * merge takes the value from the key's latest earlier change in the batch, else from its row in the current file.
 */
import { UNAVAILABLE_PLACEHOLDER } from '../avro/index.js';
import { quoteIdent } from './columns.js';

const PLACEHOLDER_BYTES = Buffer.from(UNAVAILABLE_PLACEHOLDER, 'utf8');

/** Staging column: the indexes of an update's unavailable columns as `,3,7,` (null when all were sent). */
export const UNAVAILABLE_COLUMN = '__unavailable';

/**
 * Whether a decoded `after` value is Debezium's placeholder for a value the source did not send. (uuid[] columns,
 * whose placeholder is a name-based UUID of the placeholder bytes, are not recognized.)
 */
export function isUnavailable(value: unknown): boolean {
  if (typeof value === 'string') return value === UNAVAILABLE_PLACEHOLDER;
  if (value instanceof Uint8Array) return PLACEHOLDER_BYTES.equals(value);
  if (!Array.isArray(value)) return false;
  if (value.length === 1) {
    const only: unknown = value[0];
    return only === UNAVAILABLE_PLACEHOLDER || (only instanceof Uint8Array && PLACEHOLDER_BYTES.equals(only));
  }
  // int2[]/int4[]/int8[] carry the placeholder's bytes as numbers.
  return value.length === PLACEHOLDER_BYTES.length && value.every((v, i) => (typeof v === 'number' || typeof v === 'bigint') && Number(v) === PLACEHOLDER_BYTES[i]);
}

/** The marker for staging columns `indexes`. */
export function unavailableMarker(indexes: readonly number[]): string {
  return `,${indexes.join(',')},`;
}

/**
 * SQL for the latest value the changes of a key carried for staging column `name` (index `index`), as a
 * one-element list ([NULL] for a null), or NULL when every change of the key in the batch left it out.
 */
export function latestSentSql(name: string, index: number, partition: string): string {
  return `last_value(CASE WHEN contains(coalesce(${UNAVAILABLE_COLUMN}, ''), ',${index},') THEN NULL ELSE [${quoteIdent(name)}] END IGNORE NULLS)
    OVER (PARTITION BY ${partition} ORDER BY __seq)`;
}

/** The `latest` column saying that column `index`'s value must come from the current file. */
export function fromFileFlag(index: number): string {
  return quoteIdent(`__from_file_${index}`);
}
