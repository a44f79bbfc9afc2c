/**
 * `tributary status` for a terminal: one block per source, aligned columns, sizes in binary units and ages as
 * "3m12s ago". Scripts use `--json` (the StatusReport itself) instead.
 */
import type { MysqlServerStatus } from './mysql.js';
import type { PostgresServerStatus } from './postgres.js';
import type { AgedPosition, ServerStatus, SourceStatus, StatusReport } from './report.js';

export function formatStatus(report: StatusReport): string {
  const header = `checkpoint ${report.checkpoint.path}${report.checkpoint.exists ? '' : ' (not created yet: the daemon has not run)'}`;
  return [header, ...report.sources.map(formatSource)].join('\n\n');
}

export function formatStatusJson(report: StatusReport): string {
  return JSON.stringify(report, null, 2);
}

function formatSource(source: SourceStatus): string {
  const lines = [`${source.name}  ${source.kind}  ${source.endpoint}`];
  const fields: [string, string][] = [
    ['stored', position(source.stored)],
    ['confirmed', position(source.confirmed)],
    ...serverFields(source.server),
    ['snapshot', snapshotLine(source)],
  ];
  lines.push(...columns(fields.map(([name, value]) => [`  ${name}`, value])));
  if (source.snapshot.tables.length > 0) {
    lines.push(
      ...columns([
        ['    table', 'status', 'rows', 'updated'],
        ...source.snapshot.tables.map((t) => [`    ${t.table}`, t.status, String(t.rows), ago(t.ageSeconds)]),
      ]),
    );
  }
  if (source.lakeError !== undefined) lines.push(`  lake  unreadable: ${source.lakeError}`);
  if (source.lake !== undefined) {
    lines.push('  lake');
    lines.push(
      ...columns([
        ['    table', 'rows', 'age', 'position'],
        ...source.lake.map((t) => [`    ${t.table}`, t.rows === undefined ? '-' : String(t.rows), formatAge(t.ageSeconds), t.position ?? '-']),
      ]),
    );
  }
  return lines.join('\n');
}

function position(p: AgedPosition | null): string {
  return p === null ? '-' : `${p.position}  (${ago(p.ageSeconds)})`;
}

function snapshotLine(source: SourceStatus): string {
  const { status, consistentPoint } = source.snapshot;
  if (status === 'none') return 'none recorded';
  return consistentPoint === null ? status : `${status}, consistent at ${consistentPoint}`;
}

function serverFields(server: ServerStatus): [string, string][] {
  switch (server.kind) {
    case 'unreachable':
      return [['server', `unreachable: ${server.error}`]];
    case 'postgres':
      return postgresFields(server);
    case 'mysql':
      return mysqlFields(server);
  }
}

function postgresFields(s: PostgresServerStatus): [string, string][] {
  if (!s.exists) return [['slot', `${s.slot} does not exist (the daemon creates it on its first run)`]];
  return [
    ['slot', `${s.slot}  ${s.active === true ? 'active' : 'inactive'}${s.walStatus == null ? '' : `  wal_status=${s.walStatus}`}`],
    ['server lsn', s.currentLsn ?? '-'],
    ['slot lsns', `confirmed_flush ${s.confirmedFlushLsn ?? '-'}  restart ${s.restartLsn ?? '-'}`],
    ['lag', `${bytes(s.lagBytes)} not confirmed; checkpoint ${bytes(s.storedLagBytes)} behind the server`],
    ['retained wal', bytes(s.retainedWalBytes)],
  ];
}

function mysqlFields(s: MysqlServerStatus): [string, string][] {
  const fields: [string, string][] = [['server binlog', `${s.currentFile}:${s.currentPos}${s.gtids === null ? '' : `  gtids ${s.gtids}`}`]];
  const d = s.distance;
  if (d === undefined) return fields;
  const distance = d.purged
    ? `the checkpoint's binlog ${s.storedFile} was purged: a restart needs a new snapshot`
    : `${bytes(d.bytes)} behind${d.files === 0 ? '' : ` (${d.files} file${d.files === 1 ? '' : 's'} later)`}`;
  return [...fields, ['binlog distance', distance]];
}

function columns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

function ago(seconds: number): string {
  return `${formatAge(seconds)} ago`;
}

/** 42s, 3m12s, 5h03m, 2d04h. */
export function formatAge(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}

/** Binary units: 512 B, 4.0 KiB, 1.2 MiB. */
export function formatBytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = value;
  let unit = 0;
  while (Math.abs(n) >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${n.toFixed(1)} ${units[unit]}`;
}

function bytes(value: number | null | undefined): string {
  return value == null ? '-' : formatBytes(value);
}
