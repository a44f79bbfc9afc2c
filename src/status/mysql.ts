/**
 * The server side of a MySQL/MariaDB source's status: where the binlog is now, and how many bytes of binlog lie
 * between the stored checkpoint and it, including whether the checkpoint's file was already purged (then a
 * restart cannot resume and needs a new snapshot).
 */
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { tlsOptions, type MysqlSourceConfig } from '../config/index.js';
import { compareCoordinates, parseCheckpoint, type BinlogCoordinates } from '../sources/mysql/position.js';

export interface MysqlServerStatus {
  readonly kind: 'mysql';
  readonly currentFile: string;
  readonly currentPos: number;
  /** @@gtid_binlog_pos (MariaDB) or @@gtid_executed (MySQL); null when GTIDs are off. */
  readonly gtids: string | null;
  readonly storedFile?: string;
  readonly storedPos?: number;
  readonly distance?: BinlogDistance;
}

export interface BinlogFile {
  readonly file: string;
  readonly size: number;
}

export interface BinlogDistance {
  /** Binlog bytes from the stored position to the current one; null when the stored file was purged. */
  readonly bytes: number | null;
  /** Binlog files after the stored one, up to and including the current one. */
  readonly files: number;
  readonly purged: boolean;
}

/** Bytes and files from `stored` to `current`, given SHOW BINARY LOGS. */
export function binlogDistance(logs: readonly BinlogFile[], current: BinlogCoordinates, stored: BinlogCoordinates): BinlogDistance {
  const storedIndex = logs.findIndex((log) => log.file === stored.file);
  const currentIndex = logs.findIndex((log) => log.file === current.file);
  if (storedIndex === -1) {
    const files = logs.filter((log) => compareCoordinates({ file: log.file, pos: 0 }, { file: stored.file, pos: 0 }) > 0).length;
    return { bytes: null, files, purged: compareCoordinates(stored, current) < 0 };
  }
  if (compareCoordinates(stored, current) >= 0) return { bytes: 0, files: 0, purged: false };
  if (storedIndex === currentIndex) return { bytes: current.pos - stored.pos, files: 0, purged: false };
  let bytes = logs[storedIndex]!.size - stored.pos;
  const last = currentIndex === -1 ? logs.length - 1 : currentIndex;
  for (let i = storedIndex + 1; i < last; i++) bytes += logs[i]!.size;
  bytes += currentIndex === -1 ? logs[last]!.size : current.pos;
  return { bytes, files: last - storedIndex, purged: false };
}

export async function mysqlStatus(
  source: MysqlSourceConfig,
  sourceIndex: number,
  storedPosition: string | undefined,
  timeoutMs: number,
): Promise<MysqlServerStatus> {
  const { host, port, user, password, tls } = source.connection;
  const ssl = tlsOptions(tls, `sources[${sourceIndex}].connection.tls`);
  const connection = await mysql.createConnection({
    host,
    port,
    user,
    password,
    connectTimeout: timeoutMs,
    ...(ssl === undefined ? {} : { ssl: ssl as mysql.SslOptions }),
  });
  connection.on('error', () => undefined);
  try {
    const [versionRows] = await connection.query<RowDataPacket[]>('SELECT VERSION() AS version');
    const version = String(versionRows[0]?.version ?? '');
    const mariadb = /mariadb/i.test(version);
    const [master] = await connection.query<RowDataPacket[]>(masterStatusStatement(version, mariadb));
    const row = master[0];
    if (row === undefined) throw new Error('SHOW MASTER STATUS returned nothing: binary logging is off (log_bin)');
    const current = { file: String(row.File), pos: Number(row.Position) };
    const [logRows] = await connection.query<RowDataPacket[]>('SHOW BINARY LOGS');
    const logs = logRows.map((log) => ({ file: String(log.Log_name), size: Number(log.File_size) }));
    const [gtidRows] = await connection.query<RowDataPacket[]>(
      `SELECT ${mariadb ? '@@GLOBAL.gtid_binlog_pos' : '@@GLOBAL.gtid_executed'} AS gtids`,
    );
    const gtids = gtidRows[0]?.gtids;
    const status = { kind: 'mysql' as const, currentFile: current.file, currentPos: current.pos, gtids: gtids ? String(gtids) : null };
    if (storedPosition === undefined) return status;
    const stored = parseCheckpoint(storedPosition);
    return { ...status, storedFile: stored.file, storedPos: stored.pos, distance: binlogDistance(logs, current, stored) };
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/** MySQL 8.4 removed SHOW MASTER STATUS in favour of SHOW BINARY LOG STATUS; MariaDB has only the former. */
function masterStatusStatement(version: string, mariadb: boolean): string {
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return !mariadb && (major > 8 || (major === 8 && minor >= 4)) ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS';
}
