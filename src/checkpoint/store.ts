/**
 * The SQLite checkpoint store: source positions, snapshot progress, schema registry storage and table schema
 * history in one file, so that one transaction can move several of them together.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { TributaryError } from '../model/errors.js';
import { applyMigrations, defaultMigrationsDir, loadMigrations } from './migrations.js';
import type {
  CheckpointStoreOptions,
  Clock,
  SnapshotCompletion,
  SnapshotProgress,
  SnapshotProgressUpdate,
  SourcePositions,
  StoredPosition,
  TableSchemaVersion,
  TableSnapshotProgress,
} from './types.js';
import {
  RegistryStorage,
  type CompatibilityLevel,
  type DeleteOptions,
  type IncludeDeleted,
  type RegisteredSchema,
  type RegisterResult,
  type SchemaType,
  type SubjectVersion,
} from './registry-storage.js';

export type {
  CompatibilityLevel,
  DeleteOptions,
  IncludeDeleted,
  RegisteredSchema,
  RegisterResult,
  SchemaType,
  SubjectVersion,
} from './registry-storage.js';
export type * from './types.js';

// Column aliases match the interfaces in types.ts.
type SnapshotRow = TableSnapshotProgress;
type PositionRow = { source: string; position: string; updatedAt: number; confirmedPosition: string | null; confirmedAt: number | null };

const SNAPSHOT_COLUMNS = `table_name AS "table", status, last_key AS lastKey, rows, position,
  started_at AS startedAt, finished_at AS finishedAt, updated_at AS updatedAt`;
const POSITION_COLUMNS = `source, position, updated_at AS updatedAt, confirmed_position AS confirmedPosition,
  confirmed_at AS confirmedAt`;
const TABLE_SCHEMA_COLUMNS = 'version, schema_json AS schemaJson, position, recorded_at AS recordedAt';

const BUSY_TIMEOUT_MS = 5_000;

/**
 * Durable state of a Tributary daemon, in one SQLite file (`checkpoint.path`).
 *
 * All methods are synchronous (better-sqlite3) and each write is its own transaction unless wrapped in
 * {@link CheckpointStore.transaction}. Timestamps are ms since epoch from the `clock` option.
 *
 * **Durability.** The file is in WAL mode with `synchronous = NORMAL`: a commit is appended to the WAL with
 * write(2) before the call returns, so once a method returns, its write survives a crash or `kill -9` of the
 * process (the data is in the OS page cache, and the WAL is replayed on the next open). `FULL` would also fsync
 * the WAL on every commit, which only matters if the machine itself loses power; then at most the last commits
 * are lost (never a torn or corrupt file), and Tributary resumes from an older position and re-sends some
 * events, which its at-least-once delivery allows. A writer waits up to 5 s for another connection's lock.
 *
 * **Sections.**
 * - Source positions: {@link getPosition}, {@link savePosition}, {@link markConfirmed},
 *   {@link getConfirmedPosition}, {@link listPositions}.
 * - Snapshot progress per (source, table): {@link getSnapshot}, {@link listSnapshots},
 *   {@link saveSnapshotProgress}, {@link completeSnapshot}, {@link resetSnapshot}.
 * - Schema registry storage (for the embedded Confluent-compatible registry): {@link registerSchema},
 *   {@link getSchemaById}, {@link getSubjectVersion}, {@link findSchemaInSubject}, {@link listSubjects},
 *   {@link listVersions}, {@link listSubjectVersionsForSchema}, {@link deleteSubject},
 *   {@link deleteSubjectVersion}, {@link getCompatibility}, {@link getSubjectCompatibility},
 *   {@link setCompatibility}, {@link deleteCompatibility}.
 * - Table schema history per (source, table): {@link saveTableSchema}, {@link getLatestTableSchema},
 *   {@link listTableSchemas}.
 *
 * **Migrations.** {@link CheckpointStore.open} applies `migrations/NNN_*.sql` in order, each in its own
 * transaction, recorded in `schema_migrations`; a file migrated by a newer Tributary is refused.
 */
export class CheckpointStore {
  private readonly statements = new Map<string, Database.Statement>();
  private registryStorage: RegistryStorage | undefined;

  private constructor(
    private readonly db: Database.Database,
    /** The database file path, as given to {@link CheckpointStore.open}. */
    readonly path: string,
    /** The highest migration applied to the file. */
    readonly schemaVersion: number,
    private readonly clock: Clock,
  ) {}

  /**
   * Opens (creating file and parent directories if needed) and migrates the store at `path` (`':memory:'` for
   * a throwaway store). Throws a TributaryError if the file cannot be opened, is not a SQLite database, or was
   * migrated by a newer Tributary than this one (the message names the file and both versions).
   */
  static open(path: string, options: CheckpointStoreOptions = {}): CheckpointStore {
    const clock = options.clock ?? Date.now;
    const migrations = loadMigrations(options.migrationsDir ?? defaultMigrationsDir());
    let db: Database.Database | undefined;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      // NORMAL, not FULL: see the class comment. Process crashes never lose a returned commit in WAL mode.
      db.pragma('synchronous = NORMAL');
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('foreign_keys = ON');
      const version = applyMigrations(db, migrations, path, clock);
      return new CheckpointStore(db, path, version, clock);
    } catch (error) {
      db?.close();
      if (error instanceof TributaryError) throw error;
      const code = (error as { code?: unknown }).code;
      throw new TributaryError(`cannot open the checkpoint database ${path}: ${(error as Error).message}`, {
        cause: error,
        retriable: code === 'SQLITE_BUSY',
        fix: 'set checkpoint.path to a writable location; if the file is not a Tributary checkpoint database, point checkpoint.path elsewhere',
      });
    }
  }

  /** Closes the database. The store must not be used afterwards. */
  close(): void {
    this.db.close();
  }

  /**
   * Runs `fn` in one transaction: all its writes commit together or, if it throws, none do (the error is
   * rethrown). `fn` must be synchronous. Nested calls become savepoints.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---- source positions ----

  /** The position to resume `source` from, or undefined if none was stored. */
  getPosition(source: string): StoredPosition | undefined {
    return this.statement<[string], StoredPosition>(
      'SELECT position, updated_at AS updatedAt FROM source_positions WHERE source = ?',
    ).get(source);
  }

  /** Stores the position of `source` (replacing the previous one); durable once this returns. */
  savePosition(source: string, position: string): void {
    this.statement<[string, string, number]>(
      `INSERT INTO source_positions (source, position, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (source) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
    ).run(source, position, this.clock());
  }

  /**
   * Records the position last acknowledged to the source database, in the same row as the stored position.
   * If `source` has no stored position yet, `position` becomes that too.
   */
  markConfirmed(source: string, position: string): void {
    const now = this.clock();
    this.statement<[string, string, number, string, number]>(
      `INSERT INTO source_positions (source, position, updated_at, confirmed_position, confirmed_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (source) DO UPDATE SET confirmed_position = excluded.confirmed_position, confirmed_at = excluded.confirmed_at`,
    ).run(source, position, now, position, now);
  }

  /** The position last passed to {@link markConfirmed}, or undefined. */
  getConfirmedPosition(source: string): StoredPosition | undefined {
    const row = this.positionRow(source);
    return row ? confirmedOf(row) : undefined;
  }

  /** Stored and confirmed positions of every source, by source name (for `tributary status`). */
  listPositions(): SourcePositions[] {
    return this.statement<[], PositionRow>(`SELECT ${POSITION_COLUMNS} FROM source_positions ORDER BY source`)
      .all()
      .map((row) => ({
        source: row.source,
        stored: { position: row.position, updatedAt: row.updatedAt },
        confirmed: confirmedOf(row),
      }));
  }

  // ---- snapshot progress ----

  /** Progress of the snapshot of `table` (however the source names it, e.g. `public.orders`), or undefined. */
  getSnapshot(source: string, table: string): SnapshotProgress | undefined {
    const row = this.statement<[string, string], SnapshotRow>(
      `SELECT ${SNAPSHOT_COLUMNS} FROM snapshot_progress WHERE source = ? AND table_name = ?`,
    ).get(source, table);
    if (!row) return undefined;
    const { table: _table, ...progress } = row;
    return progress;
  }

  /** Snapshot progress of every table of `source`, by table name. */
  listSnapshots(source: string): TableSnapshotProgress[] {
    return this.statement<[string], SnapshotRow>(
      `SELECT ${SNAPSHOT_COLUMNS} FROM snapshot_progress WHERE source = ? ORDER BY table_name`,
    ).all(source);
  }

  /**
   * Records that the snapshot of `table` emitted `rows` rows so far, the last with key `lastKey`. The first
   * call starts the snapshot (status `running`, `startedAt` now); a call after {@link completeSnapshot} starts
   * a new run.
   */
  saveSnapshotProgress(source: string, table: string, progress: SnapshotProgressUpdate): void {
    const now = this.clock();
    this.statement<[string, string, string | null, number, string | null, number, number]>(
      `INSERT INTO snapshot_progress (source, table_name, status, last_key, rows, position, started_at, updated_at)
       VALUES (?, ?, 'running', ?, ?, ?, ?, ?)
       ON CONFLICT (source, table_name) DO UPDATE SET
         started_at = CASE WHEN status = 'done' THEN excluded.started_at ELSE started_at END,
         status = 'running', finished_at = NULL, last_key = excluded.last_key, rows = excluded.rows,
         position = excluded.position, updated_at = excluded.updated_at`,
    ).run(source, table, progress.lastKey, progress.rows, progress.position, now, now);
  }

  /** Marks the snapshot of `table` done (creating the record if the table had no progress saved, e.g. empty). */
  completeSnapshot(source: string, table: string, completion: SnapshotCompletion): void {
    this.transaction(() => {
      const now = this.clock();
      const current = this.getSnapshot(source, table);
      this.statement<[string, string, string | null, number, string | null, number, number, number]>(
        `INSERT OR REPLACE INTO snapshot_progress
           (source, table_name, status, last_key, rows, position, started_at, finished_at, updated_at)
         VALUES (?, ?, 'done', ?, ?, ?, ?, ?, ?)`,
      ).run(
        source,
        table,
        completion.lastKey !== undefined ? completion.lastKey : (current?.lastKey ?? null),
        completion.rows,
        completion.position !== undefined ? completion.position : (current?.position ?? null),
        current?.startedAt ?? now,
        now,
        now,
      );
    });
  }

  /** Forgets snapshot progress of `table`, or of every table of `source`; returns how many records went. */
  resetSnapshot(source: string, table?: string): number {
    const result =
      table === undefined
        ? this.statement<[string]>('DELETE FROM snapshot_progress WHERE source = ?').run(source)
        : this.statement<[string, string]>('DELETE FROM snapshot_progress WHERE source = ? AND table_name = ?').run(
            source,
            table,
          );
    return result.changes;
  }

  // ---- schema registry storage ----

  /**
   * Registers `schemaText` under `subject`. Schemas are deduplicated by canonical text (compact JSON for AVRO
   * and JSON, trimmed text for PROTOBUF) into global ids starting at 1 that never change or get reused. If the
   * subject already has a live version with this schema, returns it with `created: false`; otherwise appends
   * version max+1 (numbers of deleted versions are not reused). Throws a TributaryError for an empty subject,
   * an unknown schema type or JSON that does not parse.
   */
  registerSchema(subject: string, schemaText: string, schemaType: SchemaType = 'AVRO'): RegisterResult {
    return this.registry.registerSchema(subject, schemaText, schemaType);
  }

  /** The schema with global id `id`, even if every subject version using it was deleted. */
  getSchemaById(id: number): RegisteredSchema | undefined {
    return this.registry.getSchemaById(id);
  }

  /** One version of `subject` (or its highest live version); soft-deleted ones only with `includeDeleted`. */
  getSubjectVersion(subject: string, version: number | 'latest', options?: IncludeDeleted): SubjectVersion | undefined {
    return this.registry.getSubjectVersion(subject, version, options);
  }

  /** The earliest live version of `subject` whose schema has the same canonical text, or undefined. */
  findSchemaInSubject(subject: string, schemaText: string, schemaType: SchemaType = 'AVRO'): SubjectVersion | undefined {
    return this.registry.findSchemaInSubject(subject, schemaText, schemaType);
  }

  /** Subjects with at least one live version (with `includeDeleted`: any version), sorted. */
  listSubjects(options?: IncludeDeleted): string[] {
    return this.registry.listSubjects(options);
  }

  /** Version numbers of `subject`, ascending; empty if the subject is unknown. */
  listVersions(subject: string, options?: IncludeDeleted): number[] {
    return this.registry.listVersions(subject, options);
  }

  /** Every (subject, version) using schema `id`. */
  listSubjectVersionsForSchema(id: number, options?: IncludeDeleted): SubjectVersion[] {
    return this.registry.listSubjectVersionsForSchema(id, options);
  }

  /**
   * Deletes `subject`: soft by default (versions hidden but kept, numbers not reused), or `permanent` (rows
   * removed). Schemas and their ids are always kept. Returns the versions deleted (soft: the live ones;
   * permanent: all). The subject's compatibility setting is left alone.
   */
  deleteSubject(subject: string, options?: DeleteOptions): number[] {
    return this.registry.deleteSubject(subject, options);
  }

  /** Deletes one version, soft or `permanent`; returns whether it existed. */
  deleteSubjectVersion(subject: string, version: number, options?: DeleteOptions): boolean {
    return this.registry.deleteSubjectVersion(subject, version, options);
  }

  /** The effective level: the subject's own, else the global one, else BACKWARD. */
  getCompatibility(subject?: string): CompatibilityLevel {
    return this.registry.getCompatibility(subject);
  }

  /** The subject's own level, or undefined if it follows the global one. */
  getSubjectCompatibility(subject: string): CompatibilityLevel | undefined {
    return this.registry.getSubjectCompatibility(subject);
  }

  /** Sets the global level, or the subject's; throws a TributaryError naming the valid levels if `level` is not one. */
  setCompatibility(level: string, subject?: string): CompatibilityLevel {
    return this.registry.setCompatibility(level, subject);
  }

  /** Makes `subject` follow the global level again; returns whether it had its own. */
  deleteCompatibility(subject: string): boolean {
    return this.registry.deleteCompatibility(subject);
  }

  // ---- table schema history ----

  /**
   * Appends `schemaJson` as the next version of the schema of `table`, applying from `position`, and returns
   * its version (from 1). If it equals the latest version's text exactly, stores nothing and returns that
   * version: callers must serialize deterministically.
   */
  saveTableSchema(source: string, table: string, schemaJson: string, position: string): number {
    return this.transaction(() => {
      const latest = this.getLatestTableSchema(source, table);
      if (latest?.schemaJson === schemaJson) return latest.version;
      const version = (latest?.version ?? 0) + 1;
      this.statement<[string, string, number, string, string, number]>(
        `INSERT INTO table_schema_history (source, table_name, version, schema_json, position, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ).run(source, table, version, schemaJson, position, this.clock());
      return version;
    });
  }

  /** The newest schema version of `table`, or undefined if none was saved. */
  getLatestTableSchema(source: string, table: string): TableSchemaVersion | undefined {
    return this.statement<[string, string], TableSchemaVersion>(
      `SELECT ${TABLE_SCHEMA_COLUMNS} FROM table_schema_history WHERE source = ? AND table_name = ?
       ORDER BY version DESC LIMIT 1`,
    ).get(source, table);
  }

  /** Every schema version of `table`, oldest first. */
  listTableSchemas(source: string, table: string): TableSchemaVersion[] {
    return this.statement<[string, string], TableSchemaVersion>(
      `SELECT ${TABLE_SCHEMA_COLUMNS} FROM table_schema_history WHERE source = ? AND table_name = ? ORDER BY version`,
    ).all(source, table);
  }

  // ---- internals ----

  /** Registry statements are prepared on first use, so a file at an older version (in tests) still opens. */
  private get registry(): RegistryStorage {
    this.registryStorage ??= new RegistryStorage(this.db, this.clock);
    return this.registryStorage;
  }

  private positionRow(source: string): PositionRow | undefined {
    return this.statement<[string], PositionRow>(`SELECT ${POSITION_COLUMNS} FROM source_positions WHERE source = ?`).get(
      source,
    );
  }

  /** Prepares each SQL text once; statements are prepared lazily for the same reason as {@link registry}. */
  private statement<P extends unknown[] = [], R = unknown>(sql: string): Database.Statement<P, R> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement as unknown as Database.Statement<P, R>;
  }
}

function confirmedOf(row: PositionRow): StoredPosition | undefined {
  return row.confirmedPosition === null || row.confirmedAt === null
    ? undefined
    : { position: row.confirmedPosition, updatedAt: row.confirmedAt };
}
