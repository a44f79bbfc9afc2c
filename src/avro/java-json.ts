/**
 * JSON text as Jackson writes it inside Avro Java's Schema.toString(), for the few places where that differs
 * from JSON.stringify: longs beyond 2^53 (kept as bigint here) and floating-point defaults, which Java prints
 * with Float/Double.toString ("1.0", "1.0E10") and Jackson quotes when not finite ("NaN").
 */

/** A float or double default, printed as Java would print it. */
export class JsonFloat {
  constructor(
    readonly value: number,
    readonly single: boolean,
  ) {}
}

export type JsonTree =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonFloat
  | JsonTree[]
  | { [key: string]: JsonTree | undefined };

export function printJavaJson(tree: JsonTree): string {
  if (tree === null) return 'null';
  if (typeof tree === 'bigint') return tree.toString();
  if (tree instanceof JsonFloat) {
    return Number.isFinite(tree.value) ? javaFloatText(tree.value, tree.single) : JSON.stringify(String(tree.value));
  }
  if (Array.isArray(tree)) return `[${tree.map(printJavaJson).join(',')}]`;
  if (typeof tree === 'object') {
    const members = Object.entries(tree).filter(([, v]) => v !== undefined) as [string, JsonTree][];
    return `{${members.map(([k, v]) => `${javaString(k)}:${printJavaJson(v)}`).join(',')}}`;
  }
  return typeof tree === 'string' ? javaString(tree) : JSON.stringify(tree);
}

/** JSON.stringify escapes like Jackson except that Jackson writes \u00XX with upper-case hex digits. */
function javaString(text: string): string {
  return JSON.stringify(text).replace(/\\(\\|u[0-9a-f]{4})/g, (match: string, escape: string) =>
    escape === '\\' ? match : `\\u${escape.slice(1).toUpperCase()}`,
  );
}

/** The same tree with JsonFloats as plain numbers: what avsc parses. */
export function plainJson(tree: JsonTree): unknown {
  if (tree instanceof JsonFloat) return tree.value;
  if (Array.isArray(tree)) return tree.map(plainJson);
  if (tree !== null && typeof tree === 'object') {
    return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, v === undefined ? undefined : plainJson(v)]));
  }
  return tree;
}

/** Java's Float.toString / Double.toString (shortest round-trip digits, JDK 19+). */
export function javaFloatText(value: number, single: boolean): string {
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const shortest = single ? Number(shortestFloat32(value)) : value;
  const abs = Math.abs(value);
  // JS prints 1e-3 ≤ |x| < 1e7 without an exponent, as Java does, but drops the ".0" of whole numbers.
  if (abs >= 1e-3 && abs < 1e7) {
    const text = shortest.toString();
    return text.includes('.') ? text : `${text}.0`;
  }
  const [mantissa = '0', exponent = '0'] = shortest.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

function shortestFloat32(value: number): string {
  for (let precision = 1; precision <= 9; precision++) {
    const text = value.toPrecision(precision);
    if (Math.fround(Number(text)) === value) return text;
  }
  return String(value);
}
