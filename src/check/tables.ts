/**
 * Judges the configured tables against what the database says exists. Shared by the PostgreSQL and MySQL
 * checks: both probes reduce their catalogs to TableFacts, so the rules (and their messages) are written once.
 */
import type { SourceConfig } from '../config/index.js';
import type { CheckProblem } from './report.js';

export interface TableFacts {
  /** Qualified as in the config: schema.table or database.table. */
  readonly name: string;
  /** `table` for anything whose rows can be captured; otherwise the catalog's word, e.g. `view`. */
  readonly kind: string;
  /** In table order. */
  readonly columns: readonly string[];
  /** In key order; empty without a primary key. */
  readonly primaryKey: readonly string[];
  readonly canSelect: boolean;
}

export interface TableRules {
  readonly service: string;
  /** Where the tables should be, for messages: `in database test` or `on this server`. */
  readonly where: string;
  /** The statement that lets the configured user read the table. */
  readonly grantSelect: (table: string) => string;
}

export function judgeTables(
  source: SourceConfig,
  sourceIndex: number,
  found: ReadonlyMap<string, TableFacts>,
  rules: TableRules,
): CheckProblem[] {
  const problems: CheckProblem[] = [];
  const add = (severity: CheckProblem['severity'], problem: string, fix: string): void => {
    problems.push({ service: rules.service, severity, problem, fix });
  };
  source.tables.forEach((table, tableIndex) => {
    const keyPath = `sources[${sourceIndex}].tables[${tableIndex}]`;
    const facts = found.get(table.name);
    if (facts === undefined) {
      const similar = [...found.keys()].find((name) => name.toLowerCase() === table.name.toLowerCase());
      add(
        'error',
        `${keyPath}.name: table ${table.name} does not exist ${rules.where}`,
        similar === undefined
          ? `create ${table.name}, or correct ${keyPath}.name (the name is ${source.kind === 'postgres' ? 'schema.table' : 'database.table'})`
          : `names are case-sensitive: set ${keyPath}.name to ${similar}`,
      );
      return;
    }
    if (facts.kind !== 'table') {
      add('error', `${keyPath}.name: ${table.name} is a ${facts.kind}, whose changes are not replicated`, `capture the underlying table instead of ${table.name}`);
      return;
    }
    const columnLists = [
      ['columns.include', table.columns?.include],
      ['columns.exclude', table.columns?.exclude],
      ['key', table.key],
    ] as const;
    for (const [field, names] of columnLists) {
      for (const column of names ?? []) {
        if (facts.columns.includes(column)) continue;
        add(
          'error',
          `${keyPath}.${field}: column "${column}" does not exist in ${table.name} (it has ${facts.columns.join(', ')})`,
          `remove "${column}" from ${keyPath}.${field} or correct its spelling`,
        );
      }
    }
    if (facts.primaryKey.length === 0 && table.key === undefined) {
      add(
        'warning',
        `${keyPath}: ${table.name} has no primary key and no key is configured, so its events get null Kafka keys (no per-row ordering or compaction)`,
        `set ${keyPath}.key to the columns that identify a row, or add a primary key to ${table.name}`,
      );
    }
    if (!facts.canSelect) {
      add('error', `${keyPath}: the user ${source.connection.user} cannot SELECT from ${table.name}, which the snapshot needs`, rules.grantSelect(table.name));
    }
  });
  return problems;
}
