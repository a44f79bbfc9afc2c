/**
 * The PostgreSQL source's errors, each naming what is wrong and how to fix it, and the translation of driver
 * errors into them.
 */
import { ConnectionError, SourceError, TributaryError } from '../../model/errors.js';

export function walLevelError(level: string): SourceError {
  return new SourceError(`PostgreSQL wal_level is "${level}", logical replication needs "logical"`, {
    fix: 'set wal_level = logical in postgresql.conf (or ALTER SYSTEM SET wal_level = logical) and restart PostgreSQL',
  });
}

export function replicationPrivilegeError(user: string): SourceError {
  return new SourceError(`role "${user}" may not use logical replication: it lacks the REPLICATION attribute`, {
    fix: `ALTER ROLE "${user}" WITH REPLICATION (or connect as a role that has it)`,
  });
}

export function tableNotFoundError(table: string): SourceError {
  return new SourceError(`table "${table}" does not exist in PostgreSQL`, {
    fix: `create the table or remove "${table}" from the source's tables`,
  });
}

export function columnNotFoundError(table: string, column: string, setting: string): SourceError {
  return new SourceError(`column "${column}" named in ${setting} of table "${table}" does not exist`, {
    fix: `correct ${setting} for table "${table}"`,
  });
}

export function slotActiveError(slot: string, pid: number | null): SourceError {
  return new SourceError(`replication slot "${slot}" is in use by another process${pid === null ? '' : ` (pid ${pid})`}`, {
    retriable: true,
    fix: `stop the other consumer of slot "${slot}"${pid === null ? '' : ` (SELECT pg_terminate_backend(${pid}))`} or configure a different slot`,
  });
}

export function publicationOwnerError(publication: string, owner: string, user: string): SourceError {
  return new SourceError(`publication "${publication}" is owned by "${owner}", not by "${user}", so it cannot be altered to match the configured tables`, {
    fix: `ALTER PUBLICATION "${publication}" OWNER TO "${user}", or configure a publication name of your own`,
  });
}

export function unsupportedTypeError(table: string, column: string, type: string): SourceError {
  return new SourceError(`column "${column}" of table "${table}" has type ${type}, which has no mapping`, {
    fix: `exclude the column (tables[].columns.exclude: ["${column}"]) or change its type`,
  });
}

export function slotLostError(slot: string): SourceError {
  return new SourceError(`replication slot "${slot}" disappeared after its snapshot was taken; changes since then are lost`, {
    fix: 'reset this source\'s checkpoint so that a new snapshot is taken',
  });
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', '57P01', '57P02', '57P03', '08006', '08001', '08003']);

/** Turns a driver error into a TributaryError; `what` says what we were doing. */
export function translatePgError(error: unknown, what: string, context: { user?: string; slot?: string } = {}): TributaryError {
  if (error instanceof TributaryError) return error;
  const pgError = error as { code?: unknown; message?: unknown } | null;
  const code = typeof pgError?.code === 'string' ? pgError.code : undefined;
  const message = typeof pgError?.message === 'string' ? pgError.message : String(error);
  if (code === '42501' && /replication/i.test(message) && context.user !== undefined) {
    return replicationPrivilegeError(context.user);
  }
  if (code === '55006' && context.slot !== undefined) {
    const pid = /PID (\d+)/i.exec(message);
    return slotActiveError(context.slot, pid === null ? null : Number(pid[1]));
  }
  if (code === '55000' && /wal_level/.test(message)) return walLevelError('replica');
  if (code === '28P01' || code === '28000') {
    return new SourceError(`PostgreSQL refused the login while ${what}: ${message}`, { cause: error, fix: 'check connection.user and connection.password and pg_hba.conf' });
  }
  if (code === '3D000') {
    return new SourceError(`PostgreSQL database does not exist: ${message}`, { cause: error, fix: 'check connection.database' });
  }
  if ((code !== undefined && CONNECTION_CODES.has(code)) || /Connection terminated/i.test(message)) {
    return new ConnectionError(`PostgreSQL connection failed while ${what}: ${message}`, { cause: error });
  }
  return new SourceError(`PostgreSQL error while ${what}: ${message}${code === undefined ? '' : ` (${code})`}`, { cause: error });
}
