/**
 * Tables behind the embedded Confluent-compatible schema registry: schemas deduplicated by canonical text under
 * global integer ids, subjects with numbered versions, and compatibility levels. The REST semantics live in the
 * registry module; this is only its storage, exposed through CheckpointStore.
 */
import type Database from 'better-sqlite3';
import { TributaryError } from '../model/errors.js';

export const SCHEMA_TYPES = ['AVRO', 'JSON', 'PROTOBUF'] as const;

export type SchemaType = (typeof SCHEMA_TYPES)[number];

import { COMPATIBILITY_LEVELS, DEFAULT_COMPATIBILITY, type CompatibilityLevel } from '../registry/compatibility.js';

export { COMPATIBILITY_LEVELS, DEFAULT_COMPATIBILITY, type CompatibilityLevel };

export interface RegisteredSchema {
  /** Global id, from 1, never reused; the id in the Confluent wire format. */
  readonly id: number;
  /** Canonical text (compact JSON for AVRO and JSON). */
  readonly schema: string;
  readonly schemaType: SchemaType;
}

export interface SubjectVersion extends RegisteredSchema {
  readonly subject: string;
  readonly version: number;
  readonly deleted: boolean;
}

export interface RegisterResult {
  readonly id: number;
  readonly version: number;
  /** False when the subject already had this schema (an idempotent re-register). */
  readonly created: boolean;
}

export interface IncludeDeleted {
  /** Also return soft-deleted versions/subjects (Confluent's `?deleted=true`). */
  readonly includeDeleted?: boolean;
}

export interface DeleteOptions {
  /** Remove the rows instead of marking them deleted (Confluent's `?permanent=true`). */
  readonly permanent?: boolean;
}

/** The global compatibility level is stored under this subject, which Confluent does not allow as a name. */
const GLOBAL = '';

/**
 * The deduplication key of a schema: JSON schemas (AVRO, JSON) compacted so that whitespace does not matter;
 * PROTOBUF text trimmed. Key order is kept: callers wanting stronger normalization pass normalized text.
 */
export function canonicalSchemaText(schemaText: string, schemaType: SchemaType, subject: string): string {
  if (schemaType === 'PROTOBUF') return schemaText.trim();
  try {
    return JSON.stringify(JSON.parse(schemaText));
  } catch (error) {
    throw new TributaryError(`schema for subject ${subject} is not valid JSON (${(error as Error).message})`, {
      cause: error,
      fix: `send a ${schemaType} schema as a JSON document`,
    });
  }
}

export function isCompatibilityLevel(level: string): level is CompatibilityLevel {
  return (COMPATIBILITY_LEVELS as readonly string[]).includes(level);
}

interface VersionRow {
  subject: string;
  version: number;
  id: number;
  schema: string;
  schemaType: SchemaType;
  deleted: number;
}

const VERSION_COLUMNS = `v.subject AS subject, v.version AS version, s.id AS id, s.schema_text AS schema,
  s.schema_type AS schemaType, v.deleted AS deleted
  FROM registry_subject_versions v JOIN registry_schemas s ON s.id = v.schema_id`;

/** Rejects input the REST layer passes through unchecked; '' would collide with the global config row. */
function checkSubject(subject: string): void {
  if (subject.length === 0) {
    throw new TributaryError('schema registry subject name is empty', { fix: 'name the subject, e.g. <topic>-value' });
  }
}

function checkSchemaType(schemaType: string): asserts schemaType is SchemaType {
  if (!(SCHEMA_TYPES as readonly string[]).includes(schemaType)) {
    throw new TributaryError(`schema type ${JSON.stringify(schemaType)} is not supported`, {
      fix: `use one of ${SCHEMA_TYPES.join(', ')}`,
    });
  }
}

function toSubjectVersion(row: VersionRow | undefined): SubjectVersion | undefined {
  return row && { ...row, deleted: row.deleted === 1 };
}

export class RegistryStorage {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
  ) {
    this.statements = {
      schemaById: db.prepare<[number], RegisteredSchema>(
        'SELECT id, schema_text AS schema, schema_type AS schemaType FROM registry_schemas WHERE id = ?',
      ),
      schemaIdByText: db.prepare<[SchemaType, string], { id: number }>(
        'SELECT id FROM registry_schemas WHERE schema_type = ? AND schema_text = ?',
      ),
      insertSchema: db.prepare<[SchemaType, string, number]>(
        'INSERT INTO registry_schemas (schema_type, schema_text, created_at) VALUES (?, ?, ?)',
      ),
      liveVersionOfSchema: db.prepare<[string, number], VersionRow>(
        `SELECT ${VERSION_COLUMNS} WHERE v.subject = ? AND v.schema_id = ? AND v.deleted = 0 ORDER BY v.version LIMIT 1`,
      ),
      maxVersion: db.prepare<[string], { max: number | null }>(
        'SELECT max(version) AS max FROM registry_subject_versions WHERE subject = ?',
      ),
      insertVersion: db.prepare<[string, number, number, number]>(
        'INSERT INTO registry_subject_versions (subject, version, schema_id, created_at) VALUES (?, ?, ?, ?)',
      ),
      version: db.prepare<[string, number, number], VersionRow>(
        `SELECT ${VERSION_COLUMNS} WHERE v.subject = ? AND v.version = ? AND v.deleted <= ?`,
      ),
      latestVersion: db.prepare<[string, number], VersionRow>(
        `SELECT ${VERSION_COLUMNS} WHERE v.subject = ? AND v.deleted <= ? ORDER BY v.version DESC LIMIT 1`,
      ),
      subjects: db.prepare<[number], { subject: string }>(
        'SELECT DISTINCT subject FROM registry_subject_versions WHERE deleted <= ? ORDER BY subject',
      ),
      versions: db.prepare<[string, number], { version: number }>(
        'SELECT version FROM registry_subject_versions WHERE subject = ? AND deleted <= ? ORDER BY version',
      ),
      versionsOfSchema: db.prepare<[number, number], VersionRow>(
        `SELECT ${VERSION_COLUMNS} WHERE v.schema_id = ? AND v.deleted <= ? ORDER BY v.subject, v.version`,
      ),
      softDeleteSubject: db.prepare<[string]>('UPDATE registry_subject_versions SET deleted = 1 WHERE subject = ?'),
      hardDeleteSubject: db.prepare<[string]>('DELETE FROM registry_subject_versions WHERE subject = ?'),
      softDeleteVersion: db.prepare<[string, number]>(
        'UPDATE registry_subject_versions SET deleted = 1 WHERE subject = ? AND version = ?',
      ),
      hardDeleteVersion: db.prepare<[string, number]>(
        'DELETE FROM registry_subject_versions WHERE subject = ? AND version = ?',
      ),
      compatibility: db.prepare<[string], { compatibility: CompatibilityLevel }>(
        'SELECT compatibility FROM registry_config WHERE subject = ?',
      ),
      setCompatibility: db.prepare<[string, CompatibilityLevel]>(
        `INSERT INTO registry_config (subject, compatibility) VALUES (?, ?)
         ON CONFLICT (subject) DO UPDATE SET compatibility = excluded.compatibility`,
      ),
      deleteCompatibility: db.prepare<[string]>('DELETE FROM registry_config WHERE subject = ?'),
    };
  }

  registerSchema(subject: string, schemaText: string, schemaType: SchemaType): RegisterResult {
    checkSubject(subject);
    checkSchemaType(schemaType);
    const canonical = canonicalSchemaText(schemaText, schemaType, subject);
    return this.db.transaction((): RegisterResult => {
      const s = this.statements;
      const existingId = s.schemaIdByText.get(schemaType, canonical)?.id;
      if (existingId !== undefined) {
        const existing = s.liveVersionOfSchema.get(subject, existingId);
        if (existing) return { id: existingId, version: existing.version, created: false };
      }
      const id = existingId ?? Number(s.insertSchema.run(schemaType, canonical, this.now()).lastInsertRowid);
      // Numbers of deleted versions are not reused, so a version number always names one schema.
      const version = (s.maxVersion.get(subject)?.max ?? 0) + 1;
      s.insertVersion.run(subject, version, id, this.now());
      return { id, version, created: true };
    })();
  }

  getSchemaById(id: number): RegisteredSchema | undefined {
    return this.statements.schemaById.get(id);
  }

  getSubjectVersion(subject: string, version: number | 'latest', options: IncludeDeleted = {}): SubjectVersion | undefined {
    const deleted = options.includeDeleted ? 1 : 0;
    const row =
      version === 'latest'
        ? this.statements.latestVersion.get(subject, deleted)
        : this.statements.version.get(subject, version, deleted);
    return toSubjectVersion(row);
  }

  findSchemaInSubject(subject: string, schemaText: string, schemaType: SchemaType): SubjectVersion | undefined {
    checkSchemaType(schemaType);
    const canonical = canonicalSchemaText(schemaText, schemaType, subject);
    const id = this.statements.schemaIdByText.get(schemaType, canonical)?.id;
    return id === undefined ? undefined : toSubjectVersion(this.statements.liveVersionOfSchema.get(subject, id));
  }

  listSubjects(options: IncludeDeleted = {}): string[] {
    return this.statements.subjects.all(options.includeDeleted ? 1 : 0).map((row) => row.subject);
  }

  listVersions(subject: string, options: IncludeDeleted = {}): number[] {
    return this.statements.versions.all(subject, options.includeDeleted ? 1 : 0).map((row) => row.version);
  }

  listSubjectVersionsForSchema(id: number, options: IncludeDeleted = {}): SubjectVersion[] {
    return this.statements.versionsOfSchema
      .all(id, options.includeDeleted ? 1 : 0)
      .map((row) => ({ ...row, deleted: row.deleted === 1 }));
  }

  deleteSubject(subject: string, options: DeleteOptions = {}): number[] {
    return this.db.transaction((): number[] => {
      const versions = this.listVersions(subject, { includeDeleted: options.permanent });
      if (options.permanent) this.statements.hardDeleteSubject.run(subject);
      else this.statements.softDeleteSubject.run(subject);
      return versions;
    })();
  }

  deleteSubjectVersion(subject: string, version: number, options: DeleteOptions = {}): boolean {
    const result = options.permanent
      ? this.statements.hardDeleteVersion.run(subject, version)
      : this.statements.softDeleteVersion.run(subject, version);
    return result.changes > 0;
  }

  getCompatibility(subject?: string): CompatibilityLevel {
    const own = subject === undefined ? undefined : this.getSubjectCompatibility(subject);
    return own ?? this.statements.compatibility.get(GLOBAL)?.compatibility ?? DEFAULT_COMPATIBILITY;
  }

  getSubjectCompatibility(subject: string): CompatibilityLevel | undefined {
    return this.statements.compatibility.get(subject)?.compatibility;
  }

  setCompatibility(level: string, subject?: string): CompatibilityLevel {
    if (subject !== undefined) checkSubject(subject);
    if (!isCompatibilityLevel(level)) {
      throw new TributaryError(
        `compatibility level ${JSON.stringify(level)}${subject === undefined ? '' : ` for subject ${subject}`} is not valid`,
        { fix: `use one of ${COMPATIBILITY_LEVELS.join(', ')}` },
      );
    }
    this.statements.setCompatibility.run(subject ?? GLOBAL, level);
    return level;
  }

  deleteCompatibility(subject: string): boolean {
    return this.statements.deleteCompatibility.run(subject).changes > 0;
  }
}
