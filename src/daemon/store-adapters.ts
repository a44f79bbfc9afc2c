/**
 * The SQLite checkpoint store seen through the narrower interfaces that the registry and the sources declare
 * for themselves, so that neither of them depends on the store.
 */
import type { CheckpointStore, SubjectVersion } from '../checkpoint/store.js';
import type { SchemaStore, StoredSubjectVersion } from '../registry/store.js';
import type { SnapshotProgressStore, SnapshotState, TableSnapshotProgress } from '../sources/source.js';

/** The snapshot as a whole is kept as one more progress row under a name no table can have. */
const WHOLE_SNAPSHOT = '*';

export function snapshotProgressStore(store: CheckpointStore): SnapshotProgressStore {
  return {
    async getSnapshot(source: string): Promise<SnapshotState | undefined> {
      const row = store.getSnapshot(source, WHOLE_SNAPSHOT);
      if (row?.position == null) return undefined;
      return { consistentPoint: row.position, completed: row.status === 'done' };
    },
    async saveSnapshot(source: string, state: SnapshotState): Promise<void> {
      const update = { lastKey: null, rows: 0, position: state.consistentPoint };
      if (state.completed) store.completeSnapshot(source, WHOLE_SNAPSHOT, update);
      else store.saveSnapshotProgress(source, WHOLE_SNAPSHOT, update);
    },
    async getTable(source: string, table: string): Promise<TableSnapshotProgress | undefined> {
      const row = store.getSnapshot(source, table);
      return row === undefined ? undefined : { lastKey: row.lastKey, rows: row.rows, done: row.status === 'done' };
    },
    async saveTable(source: string, table: string, progress: TableSnapshotProgress): Promise<void> {
      const update = { lastKey: progress.lastKey, rows: progress.rows, position: null };
      if (progress.done) store.completeSnapshot(source, table, update);
      else store.saveSnapshotProgress(source, table, update);
    },
    async clear(source: string): Promise<void> {
      store.resetSnapshot(source);
    },
  };
}

function toStored(row: SubjectVersion | undefined): StoredSubjectVersion | undefined {
  return row === undefined
    ? undefined
    : { id: row.id, schemaText: row.schema, schemaType: row.schemaType, subject: row.subject, version: row.version };
}

export function registrySchemaStore(store: CheckpointStore): SchemaStore {
  return {
    registerSchema: (subject, text, type) => store.registerSchema(subject, text, (type ?? 'AVRO') as 'AVRO'),
    getSchemaById: (id) => {
      const row = store.getSchemaById(id);
      return row === undefined ? undefined : { id: row.id, schemaText: row.schema, schemaType: row.schemaType };
    },
    getSubjectVersion: (subject, version) => toStored(store.getSubjectVersion(subject, version)),
    listSubjects: () => store.listSubjects(),
    listVersions: (subject) => store.listVersions(subject),
    findSchemaInSubject: (subject, text) => toStored(store.findSchemaInSubject(subject, text)),
    deleteSubject: (subject) => store.deleteSubject(subject),
    getCompatibility: (subject) => (subject === undefined ? store.getCompatibility() : store.getSubjectCompatibility(subject)),
    setCompatibility: (level, subject) => void store.setCompatibility(level, subject),
  };
}
