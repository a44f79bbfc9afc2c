/**
 * Query connections to the source server, and the start-up checks: server flavour, server id and the binlog
 * settings the stream depends on.
 */
import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import type { ConnectionOptions } from 'mysql2';
import { SourceError } from '../../model/errors.js';
import { classifyMysqlError, flavorOf, judgeServerVariables, type Flavor, type ServerVariables } from './errors.js';
import type { BinlogCoordinates, BinlogFile } from './position.js';

export interface MysqlConnectionConfig {
  readonly host: string;
  readonly port?: number;
  readonly user: string;
  readonly password?: string;
  readonly tls?: MysqlTlsConfig;
}

/** As the config file has it: `ca`, `cert` and `key` are PEM text or paths to PEM files. */
export interface MysqlTlsConfig {
  readonly enabled: boolean;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized?: boolean;
}

function pem(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8');
}

function sslOptions(tls: MysqlTlsConfig | undefined): ConnectionOptions['ssl'] | undefined {
  if (tls === undefined || !tls.enabled) return undefined;
  const ca = pem(tls.ca);
  const cert = pem(tls.cert);
  const key = pem(tls.key);
  return {
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
  };
}

/**
 * mysql2 options shared by the query and binlog connections, chosen so that both deliver values the same way:
 * temporals as text in UTC, big integers and DECIMAL as exact strings, JSON as text.
 */
export function mysql2Options(config: MysqlConnectionConfig): ConnectionOptions {
  const ssl = sslOptions(config.tls);
  return {
    host: config.host,
    port: config.port ?? 3306,
    user: config.user,
    password: config.password ?? '',
    ...(ssl === undefined ? {} : { ssl }),
    charset: 'utf8mb4_general_ci',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    jsonStrings: true,
    timezone: 'Z',
    connectTimeout: 10_000,
  };
}

export type QueryConnection = mysql.Connection;

/** A promise connection whose session reads TIMESTAMP values in UTC. */
export async function openQueryConnection(config: MysqlConnectionConfig): Promise<QueryConnection> {
  let connection: QueryConnection;
  try {
    connection = await mysql.createConnection(mysql2Options(config));
  } catch (error) {
    throw classifyMysqlError(error, `connecting to MySQL at ${config.host}:${config.port ?? 3306}`);
  }
  // The connection emits 'error' when the server goes away while idle; queries report it, so just absorb it here.
  connection.on('error', () => undefined);
  await connection.query("SET time_zone = '+00:00'");
  return connection;
}

export interface ServerInfo {
  readonly version: string;
  readonly flavor: Flavor;
  readonly serverId: bigint;
  readonly variables: ServerVariables;
}

const CHECKED_VARIABLES = ['log_bin', 'binlog_format', 'binlog_row_image', 'binlog_row_metadata', 'binlog_transaction_compression', 'binlog_row_value_options', 'binlog_checksum', 'server_id', 'version', 'gtid_mode'];

export async function readServerInfo(connection: QueryConnection): Promise<ServerInfo> {
  const [rows] = await connection.query<mysql.RowDataPacket[]>(
    `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${CHECKED_VARIABLES.map(() => '?').join(',')})`,
    CHECKED_VARIABLES,
  );
  const variables: Record<string, string> = {};
  for (const row of rows) variables[String(row.Variable_name).toLowerCase()] = String(row.Value);
  const version = variables.version ?? '';
  return { version, flavor: flavorOf(version), serverId: BigInt(variables.server_id ?? '0'), variables };
}

/** Throws a SourceError listing every unmet binlog requirement, each with its fix. */
export function assertServerFit(info: ServerInfo, gtid: boolean): void {
  const problems = judgeServerVariables(info.variables, info.flavor);
  if (gtid && info.flavor === 'mysql' && info.variables.gtid_mode?.toUpperCase() !== 'ON') {
    problems.push(
      new SourceError(`gtid is enabled for this source but server variable gtid_mode is ${info.variables.gtid_mode ?? 'not set'}`, {
        fix: 'set gtid_mode = ON and enforce_gtid_consistency = ON in my.cnf, or set gtid: false for this source',
      }),
    );
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) {
    throw new SourceError(`the MySQL server is not set up for change capture:\n  ${problems.map((p) => p.message).join('\n  ')}`, {
      fix: problems.map((p) => p.fix).join('; '),
    });
  }
}

/** The executed-GTID string of the server now (`@@gtid_binlog_pos` on MariaDB, `@@gtid_executed` on MySQL). */
export async function currentGtids(connection: QueryConnection, flavor: Flavor): Promise<string> {
  const sql = flavor === 'mariadb' ? 'SELECT @@GLOBAL.gtid_binlog_pos AS g' : 'SELECT @@GLOBAL.gtid_executed AS g';
  const [rows] = await connection.query<mysql.RowDataPacket[]>(sql);
  return String(rows[0]?.g ?? '').replace(/\s/g, '');
}

/** Where the server is writing its binlog now. `version` is the server's VERSION(). */
export async function readBinlogEnd(connection: mysql.Connection, version: string): Promise<BinlogCoordinates> {
  const [rows] = await connection.query<mysql.RowDataPacket[]>(binlogStatusStatement(version));
  const row = rows[0];
  if (row === undefined) {
    throw new SourceError('SHOW MASTER STATUS returned nothing: the binary log is off', { fix: 'enable log_bin in my.cnf and restart the server' });
  }
  return { file: String(row.File), pos: Number(row.Position) };
}

/** MySQL 8.4 removed SHOW MASTER STATUS in favour of SHOW BINARY LOG STATUS; MariaDB has only the former. */
function binlogStatusStatement(version: string): string {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return flavorOf(version) === 'mysql' && (major > 8 || (major === 8 && minor >= 4)) ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS';
}

/** The binlog files the server keeps, oldest first, with their sizes. */
export async function readBinlogFiles(connection: mysql.Connection): Promise<BinlogFile[]> {
  const [rows] = await connection.query<mysql.RowDataPacket[]>('SHOW BINARY LOGS');
  return rows.map((row) => ({ file: String(row.Log_name), size: Number(row.File_size) }));
}
