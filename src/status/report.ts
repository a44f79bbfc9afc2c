/**
 * `tributary status`: what the checkpoint store says about each source (stored and confirmed positions with
 * their ages, snapshot progress), what its server says (slot and retained WAL, or binlog distance), and the age
 * of each lake snapshot. Gathering is separate from formatting so `--json` and the terminal table show the same
 * facts. Nothing here reads or prints a password.
 */
import type { Config, SourceConfig } from '../config/index.js';
import type { TableSnapshotProgress } from '../checkpoint/store.js';
import { readCheckpoint } from './checkpoint.js';
import { readLakeSnapshots } from './lake.js';
import { mysqlStatus, type MysqlServerStatus } from './mysql.js';
import { postgresStatus, type PostgresServerStatus } from './postgres.js';

/** The snapshot as a whole is stored as a progress row under this name (see daemon/store-adapters.ts). */
const WHOLE_SNAPSHOT = '*';

export interface AgedPosition {
  readonly position: string;
  /** ms since epoch */
  readonly updatedAt: number;
  readonly ageSeconds: number;
}

export interface TableSnapshotStatus {
  readonly table: string;
  readonly status: 'running' | 'done';
  readonly rows: number;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  /** Seconds since the table's progress was last written. */
  readonly ageSeconds: number;
}

export interface SnapshotSummary {
  /** none: no snapshot recorded (never run, or snapshot: never). */
  readonly status: 'none' | 'running' | 'done';
  readonly consistentPoint: string | null;
  readonly tables: readonly TableSnapshotStatus[];
}

export interface UnreachableServer {
  readonly kind: 'unreachable';
  readonly error: string;
}

export type ServerStatus = PostgresServerStatus | MysqlServerStatus | UnreachableServer;

/** One table's lake snapshot, as the lake's metadata describes it. */
export interface LakeTableSnapshot {
  readonly table: string;
  /** When the snapshot was published, ms since epoch. */
  readonly madeAt: number;
  readonly rows?: number;
  /** The source position the snapshot is as of. */
  readonly position?: string;
}

export interface LakeTableStatus extends LakeTableSnapshot {
  readonly ageSeconds: number;
}

export interface SourceStatus {
  readonly name: string;
  readonly kind: SourceConfig['kind'];
  /** user@host:port[/database]: which server this is, never with a password. */
  readonly endpoint: string;
  readonly stored: AgedPosition | null;
  readonly confirmed: AgedPosition | null;
  readonly snapshot: SnapshotSummary;
  readonly server: ServerStatus;
  /** Absent when the config has no lake section or the lake has no metadata for this source. */
  readonly lake?: readonly LakeTableStatus[];
  /** Why the lake metadata could not be read (damaged or unreadable files). */
  readonly lakeError?: string;
}

export interface StatusReport {
  readonly generatedAt: string;
  readonly checkpoint: { readonly path: string; readonly exists: boolean };
  readonly sources: readonly SourceStatus[];
  /** False when a server could not be queried. */
  readonly ok: boolean;
}

/** Lists the published lake snapshots of one source's tables. */
export type LakeSnapshotReader = (config: Config, source: string) => Promise<readonly LakeTableSnapshot[]>;

export interface StatusOptions {
  /** Per connection and query. Default 5000. */
  readonly timeoutMs?: number;
  readonly clock?: () => number;
  /** Defaults to reading the lake's table metadata. */
  readonly lake?: LakeSnapshotReader;
}

export async function collectStatus(config: Config, options: StatusOptions = {}): Promise<StatusReport> {
  const now = (options.clock ?? Date.now)();
  const timeoutMs = options.timeoutMs ?? 5000;
  const contents = readCheckpoint(config.checkpoint.path);
  const positions = new Map(contents?.positions.map((p) => [p.source, p]));
  const age = (at: number): number => Math.max(0, (now - at) / 1000);
  const aged = (p: { position: string; updatedAt: number } | undefined): AgedPosition | null =>
    p === undefined ? null : { position: p.position, updatedAt: p.updatedAt, ageSeconds: age(p.updatedAt) };

  const sources = await Promise.all(
    config.sources.map(async (source, index): Promise<SourceStatus> => {
      const position = positions.get(source.name);
      // PostgreSQL sources key snapshot progress by topic prefix, MySQL sources by name.
      const progress = contents?.snapshots.get(source.name) ?? contents?.snapshots.get(source.topicPrefix) ?? [];
      const lake = await lakeStatus(config, source.name, options.lake ?? readLakeSnapshots, age);
      return {
        name: source.name,
        kind: source.kind,
        endpoint: endpointOf(source),
        stored: aged(position?.stored),
        confirmed: aged(position?.confirmed),
        snapshot: summarizeSnapshot(progress, age),
        server: await serverStatus(source, index, position?.stored.position, timeoutMs),
        ...lake,
      };
    }),
  );
  return {
    generatedAt: new Date(now).toISOString(),
    checkpoint: { path: config.checkpoint.path, exists: contents !== undefined },
    sources,
    ok: sources.every((s) => s.server.kind !== 'unreachable'),
  };
}

async function lakeStatus(
  config: Config,
  source: string,
  read: LakeSnapshotReader,
  age: (at: number) => number,
): Promise<Pick<SourceStatus, 'lake' | 'lakeError'>> {
  if (config.lake === undefined) return {};
  try {
    const tables = await read(config, source);
    return tables.length === 0 ? {} : { lake: tables.map((t) => ({ ...t, ageSeconds: age(t.madeAt) })) };
  } catch (error) {
    return { lakeError: error instanceof Error ? error.message : String(error) };
  }
}

function summarizeSnapshot(rows: readonly TableSnapshotProgress[], age: (at: number) => number): SnapshotSummary {
  const whole = rows.find((row) => row.table === WHOLE_SNAPSHOT);
  const tables = rows
    .filter((row) => row.table !== WHOLE_SNAPSHOT)
    .map((row) => ({
      table: row.table,
      status: row.status,
      rows: row.rows,
      startedAt: row.startedAt,
      finishedAt: row.finishedAt,
      ageSeconds: age(row.updatedAt),
    }));
  const status = whole !== undefined ? whole.status : tables.length === 0 ? 'none' : tables.every((t) => t.status === 'done') ? 'done' : 'running';
  return { status, consistentPoint: whole?.position ?? null, tables };
}

async function serverStatus(source: SourceConfig, index: number, stored: string | undefined, timeoutMs: number): Promise<ServerStatus> {
  try {
    return source.kind === 'postgres'
      ? await postgresStatus(source, index, stored, timeoutMs)
      : await mysqlStatus(source, index, stored, timeoutMs);
  } catch (error) {
    return { kind: 'unreachable', error: scrubbed(error, source.connection.password) };
  }
}

/** The error's message, with the password cut out in case a driver ever echoes it. */
function scrubbed(error: unknown, password: string): string {
  // A refused connection to a name with several addresses is an AggregateError with an empty message.
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error instanceof Error && error.message !== '' ? error.message : typeof code === 'string' ? code : String(error));
  return password === '' ? message : message.split(password).join('***');
}

function endpointOf(source: SourceConfig): string {
  const { user, host, port } = source.connection;
  const database = source.connection.database;
  return `${user}@${host.includes(':') ? `[${host}]` : host}:${port}${database === undefined ? '' : `/${database}`}`;
}
