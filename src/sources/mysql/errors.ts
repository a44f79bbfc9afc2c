/**
 * Judging a server's replication settings, and turning MySQL/MariaDB error codes into errors that say what to do.
 * Pure functions, so the judging is unit-tested without a server.
 */
import { ConnectionError, SourceError } from '../../model/errors.js';

export type Flavor = 'mariadb' | 'mysql';

export function flavorOf(version: string): Flavor {
  return /mariadb/i.test(version) ? 'mariadb' : 'mysql';
}

/** Server variables the binlog reader depends on, as `SHOW GLOBAL VARIABLES` spells them (lower-case names). */
export type ServerVariables = Readonly<Record<string, string | undefined>>;

interface Requirement {
  readonly variable: string;
  readonly expected: string;
  readonly only?: Flavor;
  /** log_bin cannot be set at runtime. */
  readonly restartOnly?: boolean;
  /** Servers older than the variable do not have it, and behave as the expected value. */
  readonly absentIsExpected?: boolean;
  readonly why: string;
}

const REQUIREMENTS: readonly Requirement[] = [
  { variable: 'log_bin', expected: 'ON', restartOnly: true, why: 'without a binary log there is nothing to stream' },
  { variable: 'binlog_format', expected: 'ROW', why: 'statement-based events carry no row images' },
  { variable: 'binlog_row_image', expected: 'FULL', why: 'updates and deletes must carry every column of the old row' },
  { variable: 'binlog_row_metadata', expected: 'FULL', why: 'table map events must carry column names, signedness and ENUM/SET values' },
  {
    variable: 'binlog_transaction_compression',
    expected: 'OFF',
    only: 'mysql',
    absentIsExpected: true, // before MySQL 8.0.20
    why: 'compressed transaction payloads cannot be decoded',
  },
  {
    variable: 'binlog_row_value_options',
    expected: '',
    only: 'mysql',
    absentIsExpected: true, // before MySQL 8.0.3
    why: 'PARTIAL_JSON logs a JSON update as a diff against a before image the binlog reader does not rebuild',
  },
];

/** One SourceError per unmet requirement, naming the variable and the fix; empty when the server is fit. */
export function judgeServerVariables(variables: ServerVariables, flavor: Flavor): SourceError[] {
  const problems: SourceError[] = [];
  for (const req of REQUIREMENTS) {
    if (req.only !== undefined && req.only !== flavor) continue;
    const actual = variables[req.variable];
    if (actual === undefined && req.absentIsExpected === true) continue;
    if (actual?.toUpperCase() === req.expected) continue;
    const setting = req.variable === 'log_bin' ? 'log_bin' : `${req.variable} = ${req.expected}`;
    const fix = req.restartOnly
      ? `add "${setting}" under [mysqld] in my.cnf and restart the server`
      : `run SET GLOBAL ${req.variable} = '${req.expected}' and add "${setting}" under [mysqld] in my.cnf so it survives a restart`;
    problems.push(
      new SourceError(`server variable ${req.variable} is ${shown(actual)}, must be ${shown(req.expected)}: ${req.why}`, { fix }),
    );
  }
  return problems;
}

function shown(value: string | undefined): string {
  return value === undefined ? 'not set' : value === '' ? "'' (empty)" : value;
}

const DELETE_CHECKPOINT = 'delete this source\'s checkpoint so that it starts over with a new snapshot';

/**
 * Maps a binlog-dump or query failure onto a TributaryError. Unknown errors pass through as retriable
 * ConnectionErrors when they are network failures, and unchanged otherwise.
 */
export function classifyMysqlError(error: unknown, context: string): Error {
  const e = error as { errno?: unknown; code?: unknown; message?: unknown; fatal?: unknown } | null;
  const errno = typeof e?.errno === 'number' ? e.errno : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  // 1236 ER_MASTER_FATAL_ERROR_READING_BINLOG: the requested binlog (or GTID) is gone or never existed.
  if (errno === 1236) {
    return new SourceError(`${context}: the server cannot send the binlog from the saved position (${message}); the binlogs it needs were probably purged`, {
      cause: error,
      fix: DELETE_CHECKPOINT,
    });
  }
  // 1945/1955 (MariaDB): the GTID position is ahead of or unknown to this server's binlog.
  if (errno === 1945 || errno === 1955 || errno === 1950) {
    return new SourceError(`${context}: the server does not know the saved GTID position (${message})`, {
      cause: error,
      fix: `check that the source points at the right server; otherwise ${DELETE_CHECKPOINT}`,
    });
  }
  if (errno === 1045) {
    // ER_ACCESS_DENIED_ERROR: the login itself failed (wrong user, password or client host), not a missing grant.
    return new SourceError(`${context}: login refused (${message})`, {
      cause: error,
      fix: 'check connection.user and connection.password of the source, and that the user may connect from this host',
    });
  }
  if (errno === 1044 || errno === 1227 || errno === 1142) {
    return new SourceError(`${context}: access denied (${message})`, {
      cause: error,
      fix: 'grant the source user SELECT, RELOAD, REPLICATION SLAVE and REPLICATION CLIENT (BINLOG MONITOR on MariaDB)',
    });
  }
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code !== undefined && (NETWORK_CODES.has(code) || e?.fatal === true)) {
    return new ConnectionError(`${context}: ${message}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(message);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);

/** The error for resuming from a binlog file the server no longer has (purged), or null when it has it. */
export function missingBinlogError(available: readonly string[], file: string): SourceError | null {
  if (available.includes(file)) return null;
  const oldest = available[0] ?? 'none';
  return new SourceError(`binlog ${file} of the saved checkpoint is no longer on the server (oldest kept: ${oldest}); changes since then are lost to the stream`, {
    fix: `${DELETE_CHECKPOINT}, and raise binlog_expire_logs_seconds so binlogs outlive downtime`,
  });
}
