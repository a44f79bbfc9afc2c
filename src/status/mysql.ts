/**
 * The server side of a MySQL/MariaDB source's status: where the binlog is now, and how many bytes of binlog lie
 * between the stored checkpoint and it, including whether the checkpoint's file was already purged (then a
 * restart cannot resume and needs a new snapshot).
 */
import type { RowDataPacket } from 'mysql2/promise';
import type { MysqlSourceConfig } from '../config/index.js';
import { inspectionConnection } from '../check/mysql-probe.js';
import { currentGtids, readBinlogEnd, readBinlogFiles } from '../sources/mysql/connection.js';
import { flavorOf } from '../sources/mysql/errors.js';
import { binlogDistance, parseCheckpoint, type BinlogDistance } from '../sources/mysql/position.js';

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

export async function mysqlStatus(
  source: MysqlSourceConfig,
  sourceIndex: number,
  storedPosition: string | undefined,
  timeoutMs: number,
): Promise<MysqlServerStatus> {
  const connection = await inspectionConnection(source, sourceIndex, timeoutMs);
  try {
    const [versionRows] = await connection.query<RowDataPacket[]>('SELECT VERSION() AS version');
    const version = String(versionRows[0]?.version ?? '');
    const current = await readBinlogEnd(connection, version);
    const logs = await readBinlogFiles(connection);
    const gtids = await currentGtids(connection, flavorOf(version));
    const status = { kind: 'mysql' as const, currentFile: current.file, currentPos: current.pos, gtids: gtids === '' ? null : gtids };
    if (storedPosition === undefined) return status;
    const stored = parseCheckpoint(storedPosition);
    return { ...status, storedFile: stored.file, storedPos: stored.pos, distance: binlogDistance(logs, current, stored) };
  } finally {
    await connection.end().catch(() => undefined);
  }
}
