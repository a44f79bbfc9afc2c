/**
 * Reads what the PostgreSQL check needs from the catalogs, read-only: settings, the connected role, slots,
 * and the configured tables with their columns and primary keys.
 */
import pg from 'pg';
import { tlsOptions, type PostgresSourceConfig } from '../config/index.js';
import { catalogError } from './connect-errors.js';
import type { PostgresFacts, PostgresTableFacts } from './postgres-judge.js';

/** A short-lived, time-bounded connection for reading catalogs (check and status). */
export async function inspectionClient(source: PostgresSourceConfig, sourceIndex: number, timeoutMs: number, purpose: string): Promise<pg.Client> {
  const { host, port, database, user, password, tls } = source.connection;
  const client = new pg.Client({
    host,
    port,
    database,
    user,
    password,
    ssl: tlsOptions(tls, `sources[${sourceIndex}].connection.tls`) ?? false,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: `tributary ${purpose}`,
  });
  // An idle client that loses its server emits 'error'; without a listener that would crash the process.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export async function probePostgres(source: PostgresSourceConfig, sourceIndex: number, timeoutMs: number): Promise<PostgresFacts> {
  const client = await inspectionClient(source, sourceIndex, timeoutMs, 'check');
  try {
    const settings = await client.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('wal_level', 'max_replication_slots', 'max_wal_senders')`,
    );
    const role = await client.query<{ name: string; superuser: boolean; replication: boolean }>(
      'SELECT rolname AS name, rolsuper AS superuser, rolreplication AS replication FROM pg_roles WHERE rolname = current_user',
    );
    const slots = await client.query<{ name: string; plugin: string | null; database: string | null; active: boolean }>(
      'SELECT slot_name AS name, plugin, database, active FROM pg_replication_slots',
    );
    const senders = await client.query<{ count: number }>('SELECT count(*)::int AS count FROM pg_stat_replication');
    const names = source.tables.map((table) => splitQualified(table.name));
    const tables = await client.query<{
      schema: string;
      table: string;
      relkind: string;
      replident: string;
      can_select: boolean;
      columns: string[];
      primary_key: string[];
    }>(
      `SELECT n.nspname AS schema, c.relname AS table, c.relkind::text AS relkind, c.relreplident::text AS replident,
              has_table_privilege(c.oid, 'SELECT') AS can_select,
              ARRAY(SELECT a.attname::text FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum) AS columns,
              ARRAY(SELECT a.attname::text
                      FROM pg_index i
                      CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                     WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY k.ord) AS primary_key
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))
           OR (lower(n.nspname), lower(c.relname)) IN (SELECT lower(s), lower(t) FROM unnest($1::text[], $2::text[]) AS u(s, t))`,
      [names.map(([schema]) => schema), names.map(([, table]) => table)],
    );
    const [currentRole] = role.rows;
    if (currentRole === undefined) throw new Error('pg_roles has no row for current_user');
    return {
      settings: Object.fromEntries(settings.rows.map((row) => [row.name, row.setting])),
      role: currentRole,
      slots: slots.rows,
      walSendersInUse: senders.rows[0]?.count ?? 0,
      tables: tables.rows.map(
        (row): PostgresTableFacts => ({
          name: `${row.schema}.${row.table}`,
          kind: RELATION_KINDS[row.relkind] ?? 'relation',
          columns: row.columns,
          primaryKey: row.primary_key,
          canSelect: row.can_select,
          replicaIdentity: row.replident,
        }),
      ),
    };
  } catch (error) {
    throw catalogError(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

// Ordinary and partitioned tables carry rows we can capture; the rest are named for the message.
const RELATION_KINDS: Record<string, string> = {
  r: 'table',
  p: 'table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
  S: 'sequence',
  i: 'index',
  c: 'composite type',
};

function splitQualified(name: string): [string, string] {
  const dot = name.indexOf('.');
  return [name.slice(0, dot), name.slice(dot + 1)];
}
