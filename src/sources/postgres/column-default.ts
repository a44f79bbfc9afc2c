/**
 * Column defaults: the text of pg_get_expr(adbin) → the neutral value of the default, as Debezium's
 * PostgresDefaultValueConverter does it: a constant (`5`, `'abc'::text`, `'2024-01-01'::date`, `true`) becomes the
 * value its literal reads as; anything computed (nextval(...), now(), CURRENT_TIMESTAMP, (1 + 2)) has no default
 * in the schema, since no single value stands for it.
 */
import type { Value } from '../../model/change.js';
import type { FieldType } from '../../model/schema.js';

/** `'literal'` (quotes doubled, optionally E'' with backslashes doubled), then an optional cast to one type. */
const QUOTED = /^(E?)'((?:[^']|'')*)'(?:::[A-Za-z0-9_ ."[\]]+)?$/;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * The default's neutral value, or undefined when the column has none Debezium would show: no default, NULL, a
 * non-constant expression, or a literal the column's reader rejects. `read` is the column's text reader; the
 * expression must come from a session with the reader's settings (connection.ts), as pg_get_expr prints
 * constants in their output form.
 */
export function parseColumnDefault(expression: string | null | undefined, type: FieldType, read: (text: string) => Value): Value | undefined {
  if (expression === null || expression === undefined) return undefined;
  const text = literalText(expression.trim(), type);
  if (text === undefined) return undefined;
  try {
    const value = read(text);
    return value === null ? undefined : value;
  } catch {
    return undefined; // a literal the reader cannot take is as good as no default: Debezium drops those too
  }
}

function literalText(expression: string, type: FieldType): string | undefined {
  if (type.kind === 'boolean') {
    if (expression === 'true') return 't';
    if (expression === 'false') return 'f';
  }
  if (NUMBER.test(expression)) return expression;
  const quoted = QUOTED.exec(expression);
  if (quoted === null) return undefined;
  const body = quoted[2]!.replace(/''/g, "'");
  return quoted[1] === 'E' ? body.replace(/\\\\/g, '\\') : body;
}
