/**
 * Pure rules for a PostgreSQL source: given what the server reports (settings, role, slots, tables), list what
 * stops logical replication. Kept apart from the probe so every bad setting can be tested without a server
 * that has it.
 */
import type { PostgresSourceConfig } from '../config/index.js';
import type { CheckProblem } from './report.js';
import { judgeTables, type TableFacts } from './tables.js';

export interface PostgresTableFacts extends TableFacts {
  /** pg_class.relreplident: d = default (primary key), n = nothing, f = full, i = index. */
  readonly replicaIdentity: string;
}

export interface PostgresFacts {
  /** From pg_settings: wal_level, max_replication_slots, max_wal_senders. */
  readonly settings: Readonly<Record<string, string>>;
  readonly role: { readonly name: string; readonly superuser: boolean; readonly replication: boolean };
  readonly slots: readonly { readonly name: string; readonly plugin: string | null; readonly database: string | null; readonly active: boolean }[];
  /** Connections currently using a WAL sender (pg_stat_replication rows). */
  readonly walSendersInUse: number;
  readonly tables: readonly PostgresTableFacts[];
}

export function postgresService(source: PostgresSourceConfig): string {
  const { host, port, database } = source.connection;
  return `source ${source.name} (postgres ${host}:${port}/${database})`;
}

export function judgePostgres(source: PostgresSourceConfig, sourceIndex: number, facts: PostgresFacts): CheckProblem[] {
  const service = postgresService(source);
  const problems: CheckProblem[] = [];
  const add = (severity: CheckProblem['severity'], problem: string, fix: string): void => {
    problems.push({ service, severity, problem, fix });
  };

  const walLevel = facts.settings.wal_level;
  if (walLevel !== 'logical') {
    add(
      'error',
      `wal_level is ${walLevel ?? 'unknown'}; logical replication needs wal_level = logical`,
      `run ALTER SYSTEM SET wal_level = logical; (or set it in postgresql.conf) and restart PostgreSQL`,
    );
  }

  if (!facts.role.superuser && !facts.role.replication) {
    add(
      'error',
      `the role ${facts.role.name} (sources[${sourceIndex}].connection.user) has no REPLICATION attribute`,
      `run ALTER ROLE ${quoteIdent(facts.role.name)} REPLICATION; as a superuser`,
    );
  }

  problems.push(...judgeSlots(source, sourceIndex, facts, service));
  const maxSenders = Number(facts.settings.max_wal_senders ?? '0');
  if (facts.walSendersInUse >= maxSenders) {
    add(
      'error',
      `max_wal_senders is ${maxSenders} and all are in use, so no replication connection can start`,
      `raise max_wal_senders (ALTER SYSTEM SET max_wal_senders = ${facts.walSendersInUse + 1};) and restart PostgreSQL`,
    );
  }

  const tables = new Map(facts.tables.map((table) => [table.name, table]));
  problems.push(
    ...judgeTables(source, sourceIndex, tables, {
      service,
      where: `in database ${source.connection.database}`,
      grantSelect: (table) => `run GRANT SELECT ON ${quoteQualified(table)} TO ${quoteIdent(facts.role.name)};`,
    }),
  );
  source.tables.forEach((table, tableIndex) => {
    const found = tables.get(table.name);
    if (found === undefined || found.kind !== 'table' || found.primaryKey.length > 0) return;
    if (found.replicaIdentity === 'd' || found.replicaIdentity === 'n') {
      add(
        'error',
        `sources[${sourceIndex}].tables[${tableIndex}]: ${table.name} has no primary key and REPLICA IDENTITY ${found.replicaIdentity === 'd' ? 'DEFAULT' : 'NOTHING'}; ` +
          'once it is in the publication, UPDATE and DELETE on it fail in the database',
        `run ALTER TABLE ${quoteQualified(table.name)} REPLICA IDENTITY FULL; (or add a primary key)`,
      );
    }
  });
  return problems;
}

function judgeSlots(source: PostgresSourceConfig, sourceIndex: number, facts: PostgresFacts, service: string): CheckProblem[] {
  const problems: CheckProblem[] = [];
  const ours = facts.slots.find((slot) => slot.name === source.slot);
  const slotKey = `sources[${sourceIndex}].slot`;
  if (ours !== undefined) {
    if (ours.plugin !== 'pgoutput' || ours.database !== source.connection.database) {
      problems.push({
        service,
        severity: 'error',
        problem: `${slotKey}: the replication slot ${source.slot} exists but belongs to ${ours.plugin ?? 'a physical replica'} on database ${ours.database ?? '(none)'}, not pgoutput on ${source.connection.database}`,
        fix: `choose another ${slotKey}, or drop the old slot: SELECT pg_drop_replication_slot('${source.slot}');`,
      });
    } else if (ours.active) {
      problems.push({
        service,
        severity: 'warning',
        problem: `${slotKey}: the replication slot ${source.slot} is in use by another connection (another Tributary running?)`,
        fix: `stop the other consumer of ${source.slot}, or give this source its own ${slotKey}`,
      });
    }
    return problems;
  }
  const maxSlots = Number(facts.settings.max_replication_slots ?? '0');
  if (facts.slots.length >= maxSlots) {
    const idle = facts.slots.filter((slot) => !slot.active).map((slot) => slot.name);
    problems.push({
      service,
      severity: 'error',
      problem: `max_replication_slots is ${maxSlots} and all are taken (${facts.slots.length} slots exist), so slot ${source.slot} cannot be created`,
      fix:
        `raise max_replication_slots (ALTER SYSTEM SET max_replication_slots = ${facts.slots.length + 1};) and restart PostgreSQL` +
        (idle.length > 0 ? `, or drop an unused slot: ${idle.map((name) => `SELECT pg_drop_replication_slot('${name}');`).join(' ')}` : ''),
    });
  }
  return problems;
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

function quoteQualified(name: string): string {
  const dot = name.indexOf('.');
  return `${quoteIdent(name.slice(0, dot))}.${quoteIdent(name.slice(dot + 1))}`;
}
