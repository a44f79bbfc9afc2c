/** An in-memory `SchemaStore` for tests and throwaway runs; forgets everything when the process ends. */
import { invariant } from '../model/errors.js';
import type { RegisteredSchema, SchemaStore, StoredSchema, StoredSubjectVersion } from './store.js';

interface VersionEntry {
  readonly version: number;
  readonly id: number;
  deleted: boolean;
}

export class MemorySchemaStore implements SchemaStore {
  private readonly schemas = new Map<number, StoredSchema>();
  private readonly idsByText = new Map<string, number>();
  private readonly subjects = new Map<string, VersionEntry[]>();
  private readonly compatibility = new Map<string, string>();
  private globalCompatibility: string | undefined;

  registerSchema(subject: string, schemaText: string, schemaType = 'AVRO'): RegisteredSchema {
    const existing = this.findSchemaInSubject(subject, schemaText);
    if (existing) return { id: existing.id, version: existing.version, created: false };
    const key = `${schemaType}\u0000${schemaText}`;
    let id = this.idsByText.get(key);
    if (id === undefined) {
      id = this.schemas.size + 1;
      this.schemas.set(id, { id, schemaText, schemaType });
      this.idsByText.set(key, id);
    }
    const entries = this.subjects.get(subject) ?? [];
    // Versions keep counting after a delete, as Confluent's soft delete does.
    const version = (entries.at(-1)?.version ?? 0) + 1;
    entries.push({ version, id, deleted: false });
    this.subjects.set(subject, entries);
    return { id, version, created: true };
  }

  getSchemaById(id: number): StoredSchema | undefined {
    return this.schemas.get(id);
  }

  getSubjectVersion(subject: string, version: number | 'latest'): StoredSubjectVersion | undefined {
    const live = this.live(subject);
    const entry = version === 'latest' ? live.at(-1) : live.find((e) => e.version === version);
    return entry && this.toSubjectVersion(subject, entry);
  }

  listSubjects(): string[] {
    return [...this.subjects.keys()].filter((subject) => this.live(subject).length > 0).sort();
  }

  listVersions(subject: string): number[] {
    return this.live(subject).map((e) => e.version);
  }

  findSchemaInSubject(subject: string, schemaText: string): StoredSubjectVersion | undefined {
    const entry = this.live(subject).find((e) => this.schemas.get(e.id)?.schemaText === schemaText);
    return entry && this.toSubjectVersion(subject, entry);
  }

  deleteSubject(subject: string): number[] {
    const live = this.live(subject);
    for (const entry of live) entry.deleted = true;
    return live.map((e) => e.version);
  }

  getCompatibility(subject?: string): string | undefined {
    return subject === undefined ? this.globalCompatibility : this.compatibility.get(subject);
  }

  setCompatibility(level: string, subject?: string): void {
    if (subject === undefined) this.globalCompatibility = level;
    else this.compatibility.set(subject, level);
  }

  private live(subject: string): VersionEntry[] {
    return (this.subjects.get(subject) ?? []).filter((e) => !e.deleted);
  }

  private toSubjectVersion(subject: string, entry: VersionEntry): StoredSubjectVersion {
    const schema = this.schemas.get(entry.id);
    invariant(schema, `memory schema store lost schema ${entry.id} of subject ${subject}`);
    return { ...schema, subject, version: entry.version };
  }
}
