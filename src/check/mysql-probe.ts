/**
 * Reads what the MySQL/MariaDB check needs, read-only: version, binlog variables, the user's grants and the
 * configured tables from information_schema.
 */
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { tlsOptions, type MysqlSourceConfig } from '../config/index.js';
import { catalogError } from './connect-errors.js';
import type { MysqlFacts } from './mysql-judge.js';
import type { TableFacts } from './tables.js';

const VARIABLES = ['log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata', 'server_id', 'gtid_mode'];

/** A short-lived, time-bounded connection for reading server state (check and status). */
export async function inspectionConnection(source: MysqlSourceConfig, sourceIndex: number, timeoutMs: number): Promise<mysql.Connection> {
  const { host, port, user, password, database, tls } = source.connection;
  const ssl = tlsOptions(tls, `sources[${sourceIndex}].connection.tls`);
  const connection = await mysql.createConnection({
    host,
    port,
    user,
    password,
    database,
    connectTimeout: timeoutMs,
    ...(ssl === undefined ? {} : { ssl: ssl as mysql.SslOptions }),
  });
  // A dropped connection emits 'error' outside any query; the callers report failures through their queries.
  connection.on('error', () => undefined);
  return connection;
}

export async function probeMysql(source: MysqlSourceConfig, sourceIndex: number, timeoutMs: number): Promise<MysqlFacts> {
  const connection = await inspectionConnection(source, sourceIndex, timeoutMs);
  try {
    const [versionRows] = await connection.query<RowDataPacket[]>('SELECT VERSION() AS version');
    const [variableRows] = await connection.query<RowDataPacket[]>('SHOW GLOBAL VARIABLES WHERE Variable_name IN (?)', [VARIABLES]);
    const [grantRows] = await connection.query<RowDataPacket[]>('SHOW GRANTS FOR CURRENT_USER()');
    const names = source.tables.map((table) => table.name.toLowerCase());
    // Lower-case comparison so a wrongly cased name still finds the table and the message can suggest it.
    const [tableRows] = await connection.query<RowDataPacket[]>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES
        WHERE LOWER(CONCAT(TABLE_SCHEMA, '.', TABLE_NAME)) IN (?)`,
      [names],
    );
    const [columnRows] = await connection.query<RowDataPacket[]>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, COLUMN_NAME AS col FROM information_schema.COLUMNS
        WHERE LOWER(CONCAT(TABLE_SCHEMA, '.', TABLE_NAME)) IN (?) ORDER BY ORDINAL_POSITION`,
      [names],
    );
    const [keyRows] = await connection.query<RowDataPacket[]>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, COLUMN_NAME AS col FROM information_schema.STATISTICS
        WHERE INDEX_NAME = 'PRIMARY' AND LOWER(CONCAT(TABLE_SCHEMA, '.', TABLE_NAME)) IN (?) ORDER BY SEQ_IN_INDEX`,
      [names],
    );
    const columnsOf = (rows: RowDataPacket[], table: string): string[] =>
      rows.filter((row) => `${row.db}.${row.name}` === table).map((row) => String(row.col));
    return {
      version: String(versionRows[0]?.version ?? ''),
      variables: Object.fromEntries(variableRows.map((row) => [String(row.Variable_name), String(row.Value)])),
      grants: grantRows.map((row) => String(Object.values(row)[0])),
      tables: tableRows.map((row): TableFacts => {
        const name = `${row.db}.${row.name}`;
        return {
          name,
          kind: row.type === 'BASE TABLE' || row.type === 'SYSTEM VERSIONED' ? 'table' : String(row.type).toLowerCase(),
          columns: columnsOf(columnRows, name),
          primaryKey: columnsOf(keyRows, name),
          // information_schema lists only tables the user holds some privilege on; SELECT itself comes from the grants.
          canSelect: true,
        };
      }),
    };
  } catch (error) {
    throw catalogError(error);
  } finally {
    await connection.end().catch(() => undefined);
  }
}
