/**
 * Connection failures turned into check problems. One place maps the error codes of pg, mysql2 and the
 * network stack onto the config key that most likely needs changing.
 */
import { SourceError } from '../model/errors.js';
import type { CheckProblem } from './report.js';

interface ErrorLike {
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

/** The error's message with its causes and aggregated errors, which is where the network code usually hides. */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > 4 || value === undefined || value === null) return;
    const item = value as ErrorLike;
    const message = typeof item.message === 'string' ? item.message : String(value);
    if (message !== '' && !parts.includes(message)) parts.push(message);
    if (Array.isArray(item.errors)) for (const inner of item.errors) visit(inner, depth + 1);
    visit(item.cause, depth + 1);
  };
  visit(error, 0);
  return parts.join(': ') || 'unknown error';
}

export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const item = current as ErrorLike;
    if (typeof item.code === 'string' && !item.code.startsWith('PLT_')) return item.code;
    current = Array.isArray(item.errors) && item.errors.length > 0 ? item.errors[0] : item.cause;
  }
  return undefined;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/** A failed connection to a source database; `keyPath` is `sources[i].connection`. */
export function describeSourceConnectError(
  error: unknown,
  service: string,
  keyPath: string,
  target: { kind: 'postgres' | 'mysql'; host: string; port: number; user: string; database?: string },
): CheckProblem {
  const code = errorCode(error);
  const text = errorText(error);
  const server = target.kind === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB';
  const problem = (what: string, fix: string): CheckProblem => ({ service, severity: 'error', problem: `${what} (${text})`, fix });
  if ((code !== undefined && NETWORK_CODES.has(code)) || /timeout/i.test(text)) {
    return problem(
      `cannot reach ${server} at ${target.host}:${target.port}`,
      `check ${keyPath}.host and ${keyPath}.port, and that ${server} is running and accepts TCP connections there`,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return problem(`the host name ${target.host} does not resolve`, `correct ${keyPath}.host`);
  }
  // 3D000: PostgreSQL "database does not exist"; ER_BAD_DB_ERROR: MySQL's.
  if (code === '3D000' || code === 'ER_BAD_DB_ERROR') {
    return problem(
      `the database ${target.database ?? ''} does not exist on ${target.host}:${target.port}`,
      `correct ${keyPath}.database, or create the database`,
    );
  }
  // 28P01 wrong password, 28000 no such role / pg_hba rejects; ER_ACCESS_DENIED_ERROR for MySQL.
  if (code === '28P01' || code === '28000' || code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
    return problem(
      `${server} refused the login of ${target.user}`,
      `check ${keyPath}.user and ${keyPath}.password` +
        (target.kind === 'postgres' ? ', and that pg_hba.conf allows this user from this host' : ', and that the account exists for this host'),
    );
  }
  if (/ssl|tls|certificate/i.test(text)) {
    return problem(`the TLS handshake with ${target.host}:${target.port} failed`, `check ${keyPath}.tls (enabled, ca, rejectUnauthorized) against the server's TLS setup`);
  }
  return problem(`cannot connect to ${server} at ${target.host}:${target.port}`, `check ${keyPath} and the server's log`);
}

/** A query failing after the connection succeeded: not a connectivity problem, so it keeps its own message. */
export function catalogError(error: unknown): SourceError {
  return new SourceError(`reading the server's settings and catalogs failed: ${errorText(error)}`, {
    cause: error,
    fix: "check the server's log; the configured user may lack privileges on the system catalogs",
  });
}
