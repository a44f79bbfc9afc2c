/**
 * Preparing the server: settings and privileges, the publication for the configured tables, and the slot.
 */
import type pg from 'pg';
import type { Logger } from '../../ops/logger.js';
import { SourceError } from '../../model/errors.js';
import type { ResolvedTable } from './catalog.js';
import { ident, literal } from './connection.js';
import { publicationOwnerError, replicationPrivilegeError, slotActiveError, translatePgError, walLevelError } from './errors.js';
import { Lsn } from './position.js';

/** The server's current WAL position in SQL; a standby has no insert position, so there what it received. */
export const SERVER_WAL_LSN = 'CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END';

export async function readServerLsn(client: pg.Client): Promise<Lsn> {
  const { rows } = await client.query<{ lsn: string | null }>(`SELECT (${SERVER_WAL_LSN})::text AS lsn`);
  const lsn = rows[0]?.lsn;
  if (lsn === null || lsn === undefined) throw new SourceError('the server reports no current WAL position (a standby that receives no WAL)');
  return Lsn.parse(lsn);
}

export async function checkServer(client: pg.Client, user: string): Promise<void> {
  const walLevel = await client.query<{ wal_level: string }>('SHOW wal_level');
  const level = walLevel.rows[0]?.wal_level ?? 'unknown';
  if (level !== 'logical') throw walLevelError(level);
  const role = await client.query<{ rolreplication: boolean; rolsuper: boolean }>(
    'SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = current_user',
  );
  const row = role.rows[0];
  if (row === undefined || (!row.rolreplication && !row.rolsuper)) throw replicationPrivilegeError(user);
}

/**
 * The columns to publish for `table`, or null to publish the whole table. PostgreSQL rejects UPDATE and DELETE
 * on a table whose publication column list leaves out a replica identity column, so such a selection is
 * applied by the source when reading instead of by the publication.
 */
export function publishedColumns(table: ResolvedTable): string[] | null {
  const selected = table.columns.map((column) => column.name);
  if (selected.length === table.allColumns.length) return null;
  return table.identityColumns.every((name) => selected.includes(name)) ? selected : null;
}

function tableClause(table: ResolvedTable): string {
  const name = `${ident(table.schema)}.${ident(table.table)}`;
  const columns = publishedColumns(table);
  return columns === null ? name : `${name} (${columns.map(ident).join(', ')})`;
}

/** Creates the publication for `tables`, or alters it to publish exactly them (with their column lists). */
export async function ensurePublication(client: pg.Client, publication: string, tables: readonly ResolvedTable[], logger: Logger): Promise<void> {
  const clauses = tables.map(tableClause).join(', ');
  const existing = await client.query<{ owner: string; all_tables: boolean; is_owner: boolean }>(
    `SELECT r.rolname AS owner, p.puballtables AS all_tables, pg_has_role(current_user, p.pubowner, 'USAGE') AS is_owner
       FROM pg_publication p JOIN pg_roles r ON r.oid = p.pubowner WHERE p.pubname = $1`,
    [publication],
  );
  const row = existing.rows[0];
  if (row === undefined) {
    await run(client, `CREATE PUBLICATION ${ident(publication)} FOR TABLE ${clauses}`, `creating publication "${publication}"`);
    logger.info({ publication, tables: tables.map((table) => `${table.schema}.${table.table}`) }, 'created publication');
    return;
  }
  if (row.all_tables) return;
  const published = await client.query<{ schemaname: string; tablename: string; attnames: string[] }>(
    'SELECT schemaname, tablename, attnames::text[] AS attnames FROM pg_publication_tables WHERE pubname = $1',
    [publication],
  );
  const want = new Map(tables.map((table) => [`${table.schema}.${table.table}`, (publishedColumns(table) ?? table.allColumns).join(',')]));
  const have = new Map(published.rows.map((entry) => [`${entry.schemaname}.${entry.tablename}`, entry.attnames.join(',')]));
  const matches = want.size === have.size && [...want].every(([name, columns]) => have.get(name) === columns);
  if (matches) return;
  const superuser = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
  if (!row.is_owner && superuser.rows[0]?.rolsuper !== true) {
    const user = await client.query<{ user: string }>('SELECT current_user AS user');
    throw publicationOwnerError(publication, row.owner, user.rows[0]?.user ?? '?');
  }
  await run(client, `ALTER PUBLICATION ${ident(publication)} SET TABLE ${clauses}`, `altering publication "${publication}"`);
  logger.info({ publication, tables: [...want.keys()] }, 'altered publication to match the configured tables');
}

export interface SlotInfo {
  readonly plugin: string | null;
  readonly database: string | null;
  readonly activePid: number | null;
  readonly confirmedFlush: Lsn | null;
}

export async function findSlot(client: pg.Client, slot: string): Promise<SlotInfo | undefined> {
  const result = await client.query<{ plugin: string | null; database: string | null; active_pid: number | null; confirmed_flush_lsn: string | null }>(
    'SELECT plugin, database, active_pid, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  const row = result.rows[0];
  if (row === undefined) return undefined;
  return {
    plugin: row.plugin,
    database: row.database,
    activePid: row.active_pid,
    confirmedFlush: row.confirmed_flush_lsn === null ? null : Lsn.parse(row.confirmed_flush_lsn),
  };
}

/** Fails unless `info` is a pgoutput slot of `database` that no other process is using. */
export function checkSlot(slot: string, info: SlotInfo, database: string, ownPid: number | null): void {
  if (info.plugin !== 'pgoutput' || info.database !== database) {
    throw new SourceError(`replication slot "${slot}" exists but is a ${info.plugin ?? 'physical'} slot of database "${info.database ?? '-'}"`, {
      fix: `configure another slot name, or drop it: SELECT pg_drop_replication_slot('${slot}')`,
    });
  }
  if (info.activePid !== null && info.activePid !== ownPid) throw slotActiveError(slot, info.activePid);
}

export async function dropSlot(client: pg.Client, slot: string): Promise<void> {
  await run(client, `SELECT pg_drop_replication_slot(${literal(slot)})`, `dropping slot "${slot}"`, slot);
}

export interface CreatedSlot {
  readonly consistentPoint: Lsn;
  /** The exported snapshot, valid while the replication connection runs no other command. */
  readonly snapshotName: string | null;
}

/**
 * CREATE_REPLICATION_SLOT on a replication connection; `exportSnapshot` keeps its snapshot importable. A
 * `temporary` slot is dropped by the server when the connection ends (a replay's one-off consistent point).
 */
export async function createSlot(replication: pg.Client, slot: string, exportSnapshot: boolean, temporary = false): Promise<CreatedSlot> {
  const result = await run<{ consistent_point: string; snapshot_name: string | null }>(
    replication,
    `CREATE_REPLICATION_SLOT ${ident(slot)}${temporary ? ' TEMPORARY' : ''} LOGICAL pgoutput (SNAPSHOT ${exportSnapshot ? "'export'" : "'nothing'"})`,
    `creating replication slot "${slot}"`,
    slot,
  );
  const row = result.rows[0];
  if (row === undefined) throw new SourceError(`CREATE_REPLICATION_SLOT "${slot}" returned no row`);
  return { consistentPoint: Lsn.parse(row.consistent_point), snapshotName: row.snapshot_name };
}

async function run<R extends pg.QueryResultRow = pg.QueryResultRow>(
  client: pg.Client,
  sql: string,
  what: string,
  slot?: string,
): Promise<pg.QueryResult<R>> {
  try {
    return await client.query<R>(sql);
  } catch (error) {
    throw translatePgError(error, what, slot === undefined ? {} : { slot });
  }
}
