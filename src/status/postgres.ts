/**
 * The server side of a PostgreSQL source's status: its replication slot, how much WAL the slot holds back on
 * the server (restart_lsn), and how far the server is ahead of what was confirmed (confirmed_flush_lsn).
 */
import type { PostgresSourceConfig } from '../config/index.js';
import { inspectionClient } from '../check/postgres-probe.js';
import { decodePosition, Lsn } from '../sources/postgres/position.js';
import { SERVER_WAL_LSN } from '../sources/postgres/setup.js';

export interface PostgresServerStatus {
  readonly kind: 'postgres';
  readonly slot: string;
  readonly exists: boolean;
  /** Whether a walsender is attached to the slot (the daemon is streaming). */
  readonly active?: boolean;
  readonly currentLsn?: string;
  readonly confirmedFlushLsn?: string | null;
  readonly restartLsn?: string | null;
  /** WAL the server keeps for the slot: current LSN minus restart_lsn. */
  readonly retainedWalBytes?: number | null;
  /** Current LSN minus confirmed_flush_lsn: changes not yet confirmed by Tributary. */
  readonly lagBytes?: number | null;
  /** Current LSN minus the LSN of the checkpoint in the store. */
  readonly storedLagBytes?: number | null;
  /** reserved, extended, unreserved or lost (PostgreSQL 13+). */
  readonly walStatus?: string | null;
}

interface SlotRow {
  active: boolean;
  current_lsn: string;
  confirmed_flush_lsn: string | null;
  restart_lsn: string | null;
  retained_bytes: string | null;
  lag_bytes: string | null;
  wal_status: string | null;
}

export async function postgresStatus(
  source: PostgresSourceConfig,
  sourceIndex: number,
  storedPosition: string | undefined,
  timeoutMs: number,
): Promise<PostgresServerStatus> {
  const client = await inspectionClient(source, sourceIndex, timeoutMs, 'status');
  try {
    const current = SERVER_WAL_LSN;
    const { rows } = await client.query<SlotRow>(
      `SELECT active, (${current})::text AS current_lsn,
              confirmed_flush_lsn::text, restart_lsn::text, wal_status,
              pg_wal_lsn_diff(${current}, restart_lsn)::text AS retained_bytes,
              pg_wal_lsn_diff(${current}, confirmed_flush_lsn)::text AS lag_bytes
         FROM pg_replication_slots WHERE slot_name = $1`,
      [source.slot],
    );
    const row = rows[0];
    if (row === undefined) return { kind: 'postgres', slot: source.slot, exists: false };
    return {
      kind: 'postgres',
      slot: source.slot,
      exists: true,
      active: row.active,
      currentLsn: row.current_lsn,
      confirmedFlushLsn: row.confirmed_flush_lsn,
      restartLsn: row.restart_lsn,
      retainedWalBytes: toNumber(row.retained_bytes),
      lagBytes: toNumber(row.lag_bytes),
      storedLagBytes: storedLag(row.current_lsn, storedPosition),
      walStatus: row.wal_status,
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function toNumber(text: string | null): number | null {
  return text === null ? null : Number(text);
}

function storedLag(currentLsn: string, storedPosition: string | undefined): number | null {
  if (storedPosition === undefined) return null;
  try {
    return Number(Lsn.parse(currentLsn).toBigInt() - decodePosition(storedPosition).lsn.toBigInt());
  } catch {
    return null;
  }
}
