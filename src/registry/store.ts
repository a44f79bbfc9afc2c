/**
 * What the embedded registry needs from storage. The SQLite checkpoint store implements it in production,
 * `MemorySchemaStore` in tests. Methods may answer synchronously (better-sqlite3) or with a promise.
 *
 * Schema texts arrive already normalised by the registry, so a store deduplicates by plain string equality.
 */

export type Awaitable<T> = T | Promise<T>;

/** Absent rows may come back as either; SQLite drivers differ. */
export type Maybe<T> = T | undefined | null;

export interface RegisteredSchema {
  /** Global id, shared by every subject that registered the same text. */
  readonly id: number;
  readonly version: number;
  /** False when the subject already held this exact text and nothing was written. */
  readonly created: boolean;
}

export interface StoredSchema {
  readonly id: number;
  readonly schemaText: string;
  readonly schemaType: string;
}

export interface StoredSubjectVersion extends StoredSchema {
  readonly subject: string;
  readonly version: number;
}

export interface SchemaStore {
  /** Idempotent for a text already in the subject; ids are global and deduplicated by text. */
  registerSchema(subject: string, schemaText: string, schemaType?: string): Awaitable<RegisteredSchema>;
  getSchemaById(id: number): Awaitable<Maybe<StoredSchema>>;
  getSubjectVersion(subject: string, version: number | 'latest'): Awaitable<Maybe<StoredSubjectVersion>>;
  /** Subjects with at least one live version. */
  listSubjects(): Awaitable<string[]>;
  /** Ascending; empty when the subject is unknown or deleted. */
  listVersions(subject: string): Awaitable<number[]>;
  findSchemaInSubject(subject: string, schemaText: string): Awaitable<Maybe<StoredSubjectVersion>>;
  /** Returns the versions removed; schemas stay readable by id, as in Confluent's soft delete. */
  deleteSubject(subject: string): Awaitable<number[]>;
  /** With a subject: its own level only (absent when never set). Without: the global level (absent = BACKWARD). */
  getCompatibility(subject?: string): Awaitable<Maybe<string>>;
  setCompatibility(level: string, subject?: string): Awaitable<void>;
}
