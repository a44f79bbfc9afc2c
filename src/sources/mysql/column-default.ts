/**
 * Column defaults: information_schema.COLUMNS.COLUMN_DEFAULT → the neutral value of the default, as Debezium's
 * MySqlDefaultValueConverter does it. Constants become the value they read as; expressions and functions
 * (uuid(), (1 + 2)) have no default in the schema, except CURRENT_TIMESTAMP on a NOT NULL TIMESTAMP, which
 * Debezium shows as the epoch.
 *
 * MariaDB quotes string and temporal literals ('abc', with '' and backslash escapes), leaves numbers and
 * functions bare, writes b'101' for bits and the bare word NULL for DEFAULT NULL. MySQL 8 leaves literals bare
 * and marks expressions with DEFAULT_GENERATED in EXTRA.
 */
import type { Value } from '../../model/change.js';
import type { FieldType } from '../../model/schema.js';
import { toValue } from './types.js';

const ESCAPES: Readonly<Record<string, string>> = { '0': '\0', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a' };

/** The default's neutral value, or undefined when the column has none Debezium would show. */
export function parseColumnDefault(columnDefault: string | null, extra: string, type: FieldType, nullable: boolean): Value | undefined {
  if (columnDefault === null) return undefined;
  const text = columnDefault.trim();
  const raw = rawValue(text, /DEFAULT_GENERATED/i.test(extra), type, nullable);
  if (raw === undefined) return undefined;
  try {
    const value = toValue(type, raw, nullable);
    // toValue trusts the server's types (Number('abc') is NaN); MySQL has no NaN defaults, so NaN means unreadable.
    return value === null || Number.isNaN(value) ? undefined : value;
  } catch {
    return undefined; // a literal the converter cannot take: Debezium drops those as well
  }
}

function rawValue(text: string, generated: boolean, type: FieldType, nullable: boolean): string | Uint8Array | undefined {
  if (text.length >= 2 && text.startsWith("'") && text.endsWith("'")) return unquote(text.slice(1, -1));
  const bits = /^b'([01]*)'$/i.exec(text);
  if (bits !== null) return bitBytes(bits[1]!);
  if (/^current_timestamp\b/i.test(text)) {
    // MySqlDefaultValueConverter: CURRENT_TIMESTAMP on a TIMESTAMP is the epoch when the column is NOT NULL.
    return type.kind === 'timestamptz' && !nullable ? '1970-01-01 00:00:00' : undefined;
  }
  if (text === 'NULL' || generated || /[()]/.test(text)) return undefined;
  return text;
}

function unquote(body: string): string {
  return body.replace(/''|\\(.)/g, (match, escaped: string | undefined) => {
    if (escaped === undefined) return "'";
    return ESCAPES[escaped] ?? (escaped === '%' || escaped === '_' ? match : escaped);
  });
}

/** b'101' → big-endian bytes, as both drivers deliver BIT values. */
function bitBytes(digits: string): Uint8Array {
  const width = Math.max(1, Math.ceil(digits.length / 8));
  let value = digits === '' ? 0n : BigInt(`0b${digits}`);
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}
