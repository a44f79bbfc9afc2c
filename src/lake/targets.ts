/**
 * Where each configured table lives in the lake, and its change topic. Kept apart from the compactor so that
 * what only needs paths (status, replay's choice of reader) does not load DuckDB.
 */
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../model/errors.js';
import type { TableTarget } from './compactor.js';

/** The tables a compaction covers, with their topics and lake directories. */
export function lakeTargets(config: Config, table?: string): TableTarget[] {
  const lake = requireLake(config);
  const targets = config.sources.flatMap((source) =>
    source.tables.map((t): TableTarget => {
      const [namespace = '', name = ''] = t.name.split('.');
      return {
        sourceName: source.name,
        namespace,
        table: name,
        topic: `${source.topicPrefix}.${namespace}.${name}`,
        root: join(lake.path, source.name, namespace, name),
      };
    }),
  );
  if (table === undefined) return targets;
  const matching = targets.filter((t) => table === `${t.namespace}.${t.table}` || table === `${t.sourceName}.${t.namespace}.${t.table}`);
  if (matching.length === 0) {
    throw new ConfigError(`--table ${table} is not a table of any source in the config`, {
      fix: `use one of: ${targets.map((t) => `${t.namespace}.${t.table}`).join(', ')}`,
    });
  }
  if (matching.length > 1) {
    throw new ConfigError(`--table ${table} names a table in several sources`, {
      fix: `prefix it with the source name: ${matching.map((t) => `${t.sourceName}.${t.namespace}.${t.table}`).join(' or ')}`,
    });
  }
  return matching;
}

export function requireLake(config: Config): NonNullable<Config['lake']> {
  if (config.lake === undefined) {
    throw new ConfigError('the config has no lake section', { fix: 'add lake: { path: ./lake } to the config' });
  }
  return config.lake;
}
