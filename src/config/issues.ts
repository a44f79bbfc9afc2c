/**
 * Turns zod's validation issues into problems a user can act on: the key path as written in YAML, what was
 * found, what was expected, and how to fix it. All problems of one file travel together in one ConfigError.
 */
import type { z } from 'zod';
import { ConfigError } from '../model/errors.js';
import type { IssueHint } from './schema.js';

export interface ConfigIssue {
  /** The key path, e.g. `sources[0].tables[2].columns.include`; empty for the whole document. */
  readonly path: string;
  readonly found: string;
  readonly expected: string;
  readonly fix: string;
}

/** A configuration file with one or more problems; `issues` lists every one of them. */
export class ConfigIssuesError extends ConfigError {
  readonly issues: readonly ConfigIssue[];
  readonly origin: string;

  constructor(origin: string, issues: readonly ConfigIssue[]) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const lines = issues.map((issue) => `  - ${formatIssue(issue)}`);
    const only = issues.length === 1 ? issues[0] : undefined;
    super(`${origin}: ${count} in the configuration:\n${lines.join('\n')}`, {
      fix: only?.fix ?? `correct the ${issues.length} problems listed in ${origin}`,
    });
    this.issues = issues;
    this.origin = origin;
  }

  /** The message already carries each problem's fix; repeating the summary fix would only add noise. */
  override describe(): string {
    return this.message;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.path === '' ? '(document)' : issue.path;
  return `${where}: expected ${issue.expected}, found ${issue.found}\n    fix: ${issue.fix}`;
}

/** `['sources', 0, 'tables', 2, 'name']` → `sources[0].tables[2].name`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`))
    .join('');
}

export function describeValue(value: unknown, path: readonly PropertyKey[] = []): string {
  if (value === undefined) return 'nothing (the key is missing)';
  if (/password/i.test(String(path.at(-1) ?? ''))) return 'a value (hidden)';
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

export function describeIssues(issues: readonly z.core.$ZodIssue[], root: z.ZodType, data: unknown): ConfigIssue[] {
  return issues.flatMap((issue) => describeIssue(issue, root, data));
}

function describeIssue(issue: z.core.$ZodIssue, root: z.ZodType, data: unknown): ConfigIssue[] {
  const path = issue.path;
  const where = formatPath(path);
  const input = valueAt(data, path);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      if (path.length === 0) {
        return [{ path: where, found: describeValue(input), expected, fix: 'start from config/tributary.example.yaml: the file needs at least sources and kafka' }];
      }
      const fix = input === undefined ? `add ${where}: ${expected}` : `set ${where} to ${expected}`;
      return [{ path: where, found: describeValue(input, path), expected, fix }];
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const word = issue.code === 'too_small' ? 'at least' : 'at most';
      const expected =
        issue.origin === 'array'
          ? `${word} ${bound} ${bound === 1 ? 'entry' : 'entries'}`
          : issue.origin === 'string'
            ? issue.code === 'too_small' && bound === 1
              ? 'a non-empty string'
              : `${word} ${bound} characters`
            : `a number ${word} ${bound}`;
      return [{ path: where, found: describeValue(input, path), expected, fix: `change ${where} to ${expected}` }];
    }
    case 'invalid_value': {
      const options = issue.values.map((value) => String(value)).join(' | ');
      return [{ path: where, found: describeValue(input, path), expected: `one of ${options}`, fix: `set ${where} to one of ${options}` }];
    }
    case 'invalid_format':
      return [{ path: where, found: describeValue(input, path), expected: issue.message, fix: `change ${where} to ${issue.message}` }];
    case 'invalid_union': {
      const discriminator = (issue as { discriminator?: string }).discriminator;
      if (discriminator === undefined) break;
      // zod reports the failure at the discriminator key itself; the union sits one level up.
      const unionPath = path.at(-1) === discriminator ? path.slice(0, -1) : path;
      const keyPath = [...unionPath, discriminator];
      const options = (describeKeysAt(root, unionPath, data)?.alternatives ?? []).map((alternative) => alternative.value).join(' | ');
      return [
        {
          path: formatPath(keyPath),
          found: describeValue(valueAt(data, keyPath), keyPath),
          expected: `one of ${options}`,
          fix: `set ${formatPath(keyPath)} to one of ${options}`,
        },
      ];
    }
    case 'unrecognized_keys':
      return issue.keys.map((key) => describeUnknownKey(root, path, key, data));
    case 'custom': {
      const hint = issue.params as IssueHint | undefined;
      return [{ path: where, found: hint?.found ?? describeValue(input, path), expected: issue.message, fix: hint?.fix ?? `change ${where}` }];
    }
    default:
      break;
  }
  return [{ path: where, found: describeValue(input, path), expected: issue.message, fix: `change ${where}` }];
}

function describeUnknownKey(root: z.ZodType, path: readonly PropertyKey[], key: string, data: unknown): ConfigIssue {
  const where = formatPath([...path, key]);
  const keys = describeKeysAt(root, path, data);
  const allowed = keys?.allowed ?? [];
  const expected = allowed.length > 0 ? `one of the keys ${allowed.join(', ')}` : 'no such key';
  const owner = keys?.alternatives.find((alternative) => alternative.keys.includes(key));
  const suggestion = closest(key, allowed);
  const fix =
    owner !== undefined && keys?.discriminator !== undefined
      ? `remove ${key}: it applies only to ${keys.discriminator}: ${owner.value}`
      : suggestion !== undefined
        ? `rename ${key} to ${suggestion}`
        : `remove ${key}`;
  return { path: where, found: `the unknown key "${key}"`, expected, fix };
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current = data;
  for (const part of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

interface KeysAt {
  readonly allowed: string[];
  /** For a discriminated union: the discriminator key and every option's keys, so we can say whose key it is. */
  readonly discriminator?: string;
  readonly alternatives: { value: string; keys: string[] }[];
}

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  values?: unknown[];
}

function defOf(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** The keys an object schema at `path` allows, found by walking the schema alongside the data. */
function describeKeysAt(root: z.ZodType, path: readonly PropertyKey[], data: unknown): KeysAt | undefined {
  let schema: z.ZodType | undefined = root;
  let value: unknown = data;
  for (let index = 0; ; ) {
    if (schema === undefined) return undefined;
    const def = defOf(schema);
    if (def.innerType !== undefined) schema = def.innerType;
    else if (def.type === 'pipe') schema = defOf(def.in as z.ZodType).type === 'transform' ? def.out : def.in;
    else if (def.type === 'union' && def.discriminator !== undefined) {
      const discriminator = def.discriminator;
      const alternatives = (def.options ?? []).map((option) => ({
        value: String(defOf(defOf(option).shape?.[discriminator] as z.ZodType).values?.[0]),
        keys: Object.keys(defOf(option).shape ?? {}),
        option,
      }));
      const chosen = alternatives.find((alternative) => alternative.value === String(valueAt(value, [discriminator])));
      if (index === path.length) return { allowed: chosen?.keys ?? [], discriminator, alternatives };
      schema = chosen?.option;
    } else if (index === path.length) {
      return def.shape === undefined ? undefined : { allowed: Object.keys(def.shape), alternatives: [] };
    } else if (def.type === 'object') {
      const key = path[index++] as string;
      schema = def.shape?.[key];
      value = valueAt(value, [key]);
    } else if (def.type === 'array') {
      value = valueAt(value, [path[index++] as number]);
      schema = def.element;
    } else return undefined;
  }
}

/** The allowed key a typo most likely meant: case-insensitive equal, or within two edits. */
function closest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const distance = candidate.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
