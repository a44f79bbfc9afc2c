/**
 * The table metadata of the lake: one immutable JSON file per version (`metadata/v<N>.metadata.json`) and a
 * pointer naming the current one (`metadata/version-hint.text`), as Iceberg's file-system tables have. Fields
 * follow Iceberg's table metadata where they exist (format-version, table-uuid, schemas with field ids,
 * current-schema-id, partition spec, snapshots with parent ids and summaries), so that converting a table to
 * Iceberg means writing Avro manifests for `files`, not re-reading data.
 */
import { TributaryError } from '../model/errors.js';
import type { LakeColumn } from './columns.js';

/** Bumped when a reader of the previous format would misread the files. */
export const LAKE_FORMAT_VERSION = 1;

export interface SchemaField extends LakeColumn {
  /** Stable across schema versions: a column keeps its id while it exists, a new column gets a new one. */
  readonly id: number;
}

export interface LakeSchema {
  readonly schemaId: number;
  readonly fields: readonly SchemaField[];
  /** Key column names, in key order. */
  readonly key: readonly string[];
}

/** How rows are spread over data files: by key range (Iceberg truncate[W]) or by key hash (bucket[N]). */
export type PartitionSpec =
  | { readonly transform: 'truncate'; readonly column: string; readonly width: number }
  | { readonly transform: 'bucket'; readonly columns: readonly string[]; readonly buckets: number };

export interface DataFile {
  /** Relative to the table directory, e.g. `data/b00012-s5-<uuid>.parquet`. */
  readonly path: string;
  readonly bucket: number;
  readonly rows: number;
  readonly bytes: number;
  /** The schema the file was written with: columns added later read as null. */
  readonly schemaId: number;
}

/** The source position a snapshot reflects, from the `source` block of the last change applied. */
export type SourcePosition =
  | { readonly connector: 'postgresql'; readonly lsn: string | null; readonly txId: string | null; readonly tsMs: number }
  | {
      readonly connector: 'mysql' | 'mariadb';
      readonly file: string;
      readonly pos: string;
      readonly row: number;
      readonly gtid: string | null;
      readonly serverId: string;
      readonly tsMs: number;
    };

export interface KafkaPosition {
  readonly topic: string;
  /** Partition → the next offset to read (everything before it is in the snapshot). */
  readonly offsets: Readonly<Record<string, string>>;
}

export interface SnapshotSummary {
  readonly snapshotId: number;
  readonly parentSnapshotId: number | null;
  readonly madeAt: string;
  readonly schemaId: number;
  readonly rows: number;
  readonly changesApplied: number;
  readonly filesAdded: number;
  readonly filesRemoved: number;
  readonly source: SourcePosition | null;
  readonly kafka: KafkaPosition;
}

export interface TableMetadata {
  readonly formatVersion: number;
  readonly tableUuid: string;
  readonly source: { readonly name: string; readonly connector: string };
  readonly namespace: string;
  readonly table: string;
  readonly topic: string;
  readonly lastColumnId: number;
  readonly schemas: readonly LakeSchema[];
  readonly currentSchemaId: number;
  readonly partitionSpec: PartitionSpec;
  /** Oldest first; the last one is current. Capped, as Iceberg expires snapshots. */
  readonly snapshots: readonly SnapshotSummary[];
  readonly currentSnapshotId: number;
  /** The current snapshot's data files. */
  readonly files: readonly DataFile[];
}

/** The metadata cannot be read by this version, or is damaged. */
export class LakeMetadataError extends TributaryError {}

const SNAPSHOT_HISTORY = 100;

export function currentSchema(metadata: TableMetadata): LakeSchema {
  const schema = metadata.schemas.find((s) => s.schemaId === metadata.currentSchemaId);
  if (schema === undefined) throw new LakeMetadataError(`table ${metadata.namespace}.${metadata.table}: metadata names schema ${metadata.currentSchemaId}, which it does not contain`);
  return schema;
}

export function currentSnapshot(metadata: TableMetadata): SnapshotSummary {
  const snapshot = metadata.snapshots.at(-1);
  if (snapshot === undefined || snapshot.snapshotId !== metadata.currentSnapshotId) {
    throw new LakeMetadataError(`table ${metadata.namespace}.${metadata.table}: current snapshot ${metadata.currentSnapshotId} is not the last in the history`);
  }
  return snapshot;
}

/**
 * The schema for columns seen now: the current schema when nothing changed, else a new version in which kept
 * columns keep their ids and new ones get fresh ids. `rewrite` says whether the data files must be rewritten:
 * only when what they hold changes (columns, Parquet types, key), not for a new default or enum symbol.
 */
export function evolveSchema(
  previous: { readonly schemas: readonly LakeSchema[]; readonly lastColumnId: number; readonly current: LakeSchema | undefined },
  columns: readonly LakeColumn[],
  key: readonly string[],
): { schema: LakeSchema; lastColumnId: number; isNew: boolean; rewrite: boolean } {
  let lastColumnId = previous.lastColumnId;
  // A column that comes back after being dropped gets its old id back, as its old files still hold it.
  const known = new Map<string, number>();
  for (const s of previous.schemas) for (const f of s.fields) known.set(f.name, f.id);
  const fields = columns.map((c): SchemaField => ({ ...c, id: known.get(c.name) ?? ++lastColumnId }));
  const current = previous.current;
  const sameKey = current !== undefined && JSON.stringify(current.key) === JSON.stringify(key);
  if (sameKey && JSON.stringify(current.fields) === JSON.stringify(fields)) {
    return { schema: current, lastColumnId, isNew: false, rewrite: false };
  }
  const schemaId = previous.schemas.reduce((max, s) => Math.max(max, s.schemaId), -1) + 1;
  const rewrite = current === undefined || !sameKey || physicalFields(current.fields) !== physicalFields(fields);
  return { schema: { schemaId, fields, key: [...key] }, lastColumnId, isNew: true, rewrite };
}

/** What of the fields the Parquet files hold: leaves out how the source described them. */
function physicalFields(fields: readonly SchemaField[]): string {
  return JSON.stringify(fields.map((f) => [f.id, f.name, f.type, f.nullable, f.semantic ?? null]));
}

export interface NextSnapshot {
  readonly schema: LakeSchema;
  readonly lastColumnId: number;
  readonly files: readonly DataFile[];
  readonly filesAdded: number;
  readonly filesRemoved: number;
  readonly changesApplied: number;
  readonly source: SourcePosition | null;
  readonly kafka: KafkaPosition;
  readonly madeAt: Date;
}

export interface NewTable {
  readonly tableUuid: string;
  readonly source: { readonly name: string; readonly connector: string };
  readonly namespace: string;
  readonly table: string;
  readonly topic: string;
  readonly partitionSpec: PartitionSpec;
}

/** The metadata after publishing `next` on top of `previous` (or on a new table). */
export function nextMetadata(previous: TableMetadata | NewTable, next: NextSnapshot): TableMetadata {
  const old = 'formatVersion' in previous ? previous : undefined;
  const parent = old?.snapshots.at(-1);
  const snapshotId = (parent?.snapshotId ?? 0) + 1;
  const schemas = old?.schemas ?? [];
  const summary: SnapshotSummary = {
    snapshotId,
    parentSnapshotId: parent?.snapshotId ?? null,
    madeAt: next.madeAt.toISOString(),
    schemaId: next.schema.schemaId,
    rows: next.files.reduce((sum, f) => sum + f.rows, 0),
    changesApplied: next.changesApplied,
    filesAdded: next.filesAdded,
    filesRemoved: next.filesRemoved,
    source: next.source ?? parent?.source ?? null,
    kafka: next.kafka,
  };
  return {
    formatVersion: LAKE_FORMAT_VERSION,
    tableUuid: previous.tableUuid,
    source: previous.source,
    namespace: previous.namespace,
    table: previous.table,
    topic: previous.topic,
    lastColumnId: next.lastColumnId,
    schemas: schemas.some((s) => s.schemaId === next.schema.schemaId) ? schemas : [...schemas, next.schema],
    currentSchemaId: next.schema.schemaId,
    partitionSpec: previous.partitionSpec,
    snapshots: [...(old?.snapshots ?? []), summary].slice(-SNAPSHOT_HISTORY),
    currentSnapshotId: snapshotId,
    files: next.files,
  };
}

/** Parses a metadata file, refusing formats newer than this version understands. */
export function parseMetadata(text: string, where: string): TableMetadata {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new LakeMetadataError(`${where} is not valid JSON`, {
      cause: error,
      fix: 'the file is damaged: restore it from backup, or delete the table directory to rebuild the table from the topic',
    });
  }
  const version = (json as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version !== 'number') {
    throw new LakeMetadataError(`${where} has no formatVersion: it is not Tributary lake metadata`, {
      fix: 'point lake.path at a directory that only Tributary writes to',
    });
  }
  if (version > LAKE_FORMAT_VERSION) {
    throw new LakeMetadataError(
      `${where} was written by a newer Tributary (lake format ${version}); this version reads up to format ${LAKE_FORMAT_VERSION}`,
      { fix: 'upgrade Tributary to the version that wrote this lake (never downgrade a compactor over a lake)' },
    );
  }
  return json as TableMetadata;
}
