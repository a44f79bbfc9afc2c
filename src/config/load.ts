/**
 * Reads the one configuration file: YAML → environment substitution → schema validation → relative paths made
 * absolute against the file's directory (so the daemon behaves the same whatever its working directory).
 * Every problem found on the way is collected and thrown together as one ConfigIssuesError.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument, type YAMLError } from 'yaml';
import { ConfigError } from '../model/errors.js';
import { substituteEnv, type Environment } from './env.js';
import { ConfigIssuesError, describeIssues, type ConfigIssue } from './issues.js';
import { configSchema, schemaForIssues, type Config, type SourceConfig, type TlsConfig } from './schema.js';

export function loadConfig(file: string, env: Environment = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read the configuration file ${file} (${code ?? String(error)})`, {
      cause: error,
      fix: code === 'ENOENT' ? `check the path given with -c, or copy config/tributary.example.yaml to ${file}` : `make ${file} readable`,
    });
  }
  return parseConfig(text, file, env);
}

/** `origin` names the file in messages; relative paths in the config resolve against its directory. */
export function parseConfig(text: string, origin: string, env: Environment = process.env): Config {
  const document = parseDocument(text, { uniqueKeys: true });
  const [syntaxError] = document.errors;
  // Only the first syntax error: the parser's later complaints are mostly echoes of it.
  if (syntaxError !== undefined) throw new ConfigIssuesError(origin, [describeYamlError(syntaxError)]);
  const substituted = substituteEnv(document.toJS(), env);
  const result = configSchema.safeParse(substituted.value, { reportInput: true });
  const issues: ConfigIssue[] = [...substituted.issues];
  if (!result.success) issues.push(...describeIssues(result.error.issues, schemaForIssues, substituted.value));
  if (issues.length > 0 || !result.success) throw new ConfigIssuesError(origin, issues);
  return resolvePaths(result.data, path.dirname(path.resolve(origin)));
}

function describeYamlError(error: YAMLError): ConfigIssue {
  const position = error.linePos?.[0];
  const where = position === undefined ? '' : `line ${position.line}, column ${position.col}`;
  return {
    path: where,
    found: (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, ''),
    expected: 'valid YAML',
    fix: `correct the YAML syntax${where === '' ? '' : ` at ${where}`}`,
  };
}

function resolvePaths(config: Config, baseDir: string): Config {
  const file = (value: string): string => (value === ':memory:' ? value : path.resolve(baseDir, value));
  const tls = (settings: TlsConfig): TlsConfig => {
    const resolved = { ...settings };
    for (const field of ['ca', 'cert', 'key'] as const) {
      if (settings[field] !== undefined) resolved[field] = file(settings[field]);
    }
    return resolved;
  };
  return {
    ...config,
    sources: config.sources.map(<S extends SourceConfig>(source: S): S => ({
      ...source,
      connection: { ...source.connection, tls: tls(source.connection.tls) },
    })),
    kafka: { ...config.kafka, tls: tls(config.kafka.tls) },
    checkpoint: { ...config.checkpoint, path: file(config.checkpoint.path) },
    lake: config.lake === undefined ? undefined : { ...config.lake, path: file(config.lake.path) },
  };
}
