/**
 * Schema migrations for the checkpoint database: numbered `NNN_description.sql` files applied in order, each in
 * its own transaction, recorded in `schema_migrations`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import { TributaryError } from '../model/errors.js';

export interface Migration {
  readonly version: number;
  /** The file name without `.sql`, e.g. `001_initial`. */
  readonly name: string;
  readonly sql: string;
}

/**
 * The `migrations/` directory shipped with the package. This file sits at src/checkpoint/ (tsx) or
 * dist/checkpoint/ (built), both two levels below the package root.
 */
export function defaultMigrationsDir(): string {
  return fileURLToPath(new URL('../../migrations/', import.meta.url));
}

const FILE_NAME = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/** Reads and validates the migration files: versions 1..N with no gaps or duplicates. */
export function loadMigrations(dir: string): Migration[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    throw new TributaryError(`cannot read the checkpoint migrations directory ${dir}`, {
      cause: error,
      fix: 'reinstall tributary: the package must contain its migrations/ directory next to dist/',
    });
  }
  const migrations = entries
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) {
        throw new TributaryError(`checkpoint migration file ${join(dir, file)} is not named NNN_description.sql`, {
          fix: 'rename it, e.g. 003_add_offsets.sql (lower-case letters, digits and underscores)',
        });
      }
      return { version: Number(match[1]), name: file.slice(0, -'.sql'.length), sql: readFileSync(join(dir, file), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new TributaryError(
        `checkpoint migrations in ${dir} must be numbered 1, 2, 3… without gaps or duplicates; found ${migration.name} at position ${index + 1}`,
        { fix: 'renumber the migration files so that versions are consecutive' },
      );
    }
  });
  return migrations;
}

interface AppliedRow {
  version: number;
  name: string;
}

/**
 * Brings the database up to the newest migration. Refuses a database that a newer tributary already migrated
 * past what `migrations` knows: running old code against a newer layout could silently corrupt checkpoints.
 * Each migration runs in a BEGIN IMMEDIATE transaction that re-checks the applied version, so two processes
 * opening the same fresh file cannot apply a migration twice.
 */
export function applyMigrations(
  db: Database.Database,
  migrations: readonly Migration[],
  dbPath: string,
  now: () => number,
): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);
  const newest = db.prepare<[], AppliedRow>('SELECT version, name FROM schema_migrations ORDER BY version DESC LIMIT 1');
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const known = migrations.at(-1);
  const knownVersion = known?.version ?? 0;

  const applyNext = db.transaction((): boolean => {
    const applied = newest.get();
    const appliedVersion = applied?.version ?? 0;
    if (applied && appliedVersion > knownVersion) throw newerThanKnown(dbPath, applied, known);
    const next = migrations[appliedVersion];
    if (!next) return false;
    db.exec(next.sql);
    record.run(next.version, next.name, now());
    return true;
  });
  while (applyNext.immediate()) {
    // one migration per transaction, until none is left
  }
  return newest.get()?.version ?? 0;
}

function newerThanKnown(dbPath: string, applied: AppliedRow, known: Migration | undefined): TributaryError {
  const knownText = known ? `version ${known.version} (${known.name})` : 'no migrations at all';
  return new TributaryError(
    `checkpoint database ${dbPath} is at schema version ${applied.version} (${applied.name}), newer than this tributary knows: ${knownText}`,
    {
      fix: `upgrade tributary to a release that includes migration ${applied.version}, or set checkpoint.path to a different file`,
    },
  );
}
