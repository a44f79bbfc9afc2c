/**
 * `${NAME}` and `${NAME:-default}` in string values, replaced from the environment after YAML parsing (so a
 * value can never inject YAML structure). `$${` stands for a literal `${`. A reference to an unset variable with
 * no default is an error naming the key path, because silently using an empty password or host hides mistakes.
 */
import { formatPath, type ConfigIssue } from './issues.js';

export type Environment = Readonly<Record<string, string | undefined>>;

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const VARIABLE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export interface Substituted {
  readonly value: unknown;
  readonly issues: ConfigIssue[];
}

export function substituteEnv(value: unknown, env: Environment): Substituted {
  const issues: ConfigIssue[] = [];
  return { value: walk(value, [], env, issues), issues };
}

function walk(value: unknown, path: PropertyKey[], env: Environment, issues: ConfigIssue[]): unknown {
  if (typeof value === 'string') return substituteString(value, path, env, issues);
  if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index], env, issues));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item, [...path, key], env, issues)]));
  }
  return value;
}

function substituteString(text: string, path: PropertyKey[], env: Environment, issues: ConfigIssue[]): string {
  return text.replace(REFERENCE, (match, body: string | undefined) => {
    if (body === undefined) return '${';
    const where = formatPath(path);
    const parsed = VARIABLE.exec(body);
    if (parsed === null) {
      issues.push({
        path: where,
        found: `the reference "${match}"`,
        expected: '${NAME} or ${NAME:-default} with NAME made of letters, digits and "_"',
        fix: `correct the reference in ${where} (write $\${ for a literal "\${")`,
      });
      return match;
    }
    const [, name, fallback] = parsed as unknown as [string, string, string | undefined];
    const set = env[name];
    if (set !== undefined) return set;
    if (fallback !== undefined) return fallback;
    issues.push({
      path: where,
      found: `\${${name}} with the environment variable ${name} unset`,
      expected: `${name} set in the environment, or a default`,
      fix: `export ${name}=..., or write \${${name}:-default} in ${where}`,
    });
    return match;
  });
}
