/**
 * Compacts one table: reads the changes after the current snapshot's Kafka offsets, merges them into the
 * buckets they touch, and publishes the next snapshot atomically (table-dir.ts). Runs under the table's lock and
 * cleans up what a crashed run left behind before starting.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { RegistryAvroDecoder, type SchemaSource } from '../avro/decoder.js';
import { unframe } from '../avro/index.js';
import { topicExists } from '../kafka/admin.js';
import type { KafkaSettings } from '../kafka/settings.js';
import { TributaryError } from '../model/errors.js';
import type { Logger } from '../ops/logger.js';
import { bucketOf, partitionSpecFor, type BucketOptions } from './buckets.js';
import { readTopic } from './change-reader.js';
import { envelopeColumns, envelopeConnector, keyColumns, LakeSchemaError, timeMeaning, wrappedTimeColumns, wrappedTimesProblem, type ColumnCodec, type LakeColumn, type TimeMeaning } from './columns.js';
import { envelopeReader, type EnvelopeReader } from './envelope-reader.js';
import { rewriteBucket, reduceChanges } from './merge.js';
import {
  currentSchema,
  evolveSchema,
  LakeMetadataError,
  nextMetadata,
  type DataFile,
  type LakeSchema,
  type NewTable,
  type PartitionSpec,
  type SourcePosition,
  type TableMetadata,
} from './metadata.js';
import { planMerge } from './plan.js';
import { ChangeStaging, type RowWriter } from './staging.js';
import { TableDirectory } from './table-dir.js';

export interface TableTarget {
  /** The source's config name: the first level of the lake layout. */
  readonly sourceName: string;
  /** PostgreSQL schema or MySQL database. */
  readonly namespace: string;
  readonly table: string;
  readonly topic: string;
  /** `<lake>/<source>/<namespace>/<table>`. */
  readonly root: string;
}

export interface CompactorDeps {
  readonly kafka: KafkaSettings;
  /** Consumer group for committed offsets (lag monitoring). */
  readonly groupId: string;
  readonly registry: SchemaSource;
  readonly logger: Logger;
  /** DuckDB memory_limit, e.g. '128MB'. */
  readonly memoryLimit: string;
  readonly threads: number;
  /** Changes read into one snapshot at most; more are compacted into further snapshots. */
  readonly maxChangesPerSnapshot: number;
  readonly buckets?: BucketOptions;
  readonly clock?: () => Date;
  /** How often to log progress while reading changes. */
  readonly progressIntervalMs?: number;
}

export interface SnapshotResult {
  readonly table: string;
  readonly snapshotId: number | null;
  readonly changes: number;
  readonly rows: number;
  readonly filesWritten: number;
  readonly filesKept: number;
  readonly durationMs: number;
}

interface SchemaVersion {
  readonly times: TimeMeaning;
  readonly valueColumns: readonly ColumnCodec[];
  readonly reader: EnvelopeReader;
  keyCodecs?: readonly ColumnCodec[];
  writer?: RowWriter;
}

/** Compacts everything in the topic now, publishing one snapshot per `maxChangesPerSnapshot` changes. */
export async function compactTable(target: TableTarget, deps: CompactorDeps): Promise<SnapshotResult[]> {
  const dir = new TableDirectory(target.root, deps.logger);
  await dir.prepare();
  if (!(await topicExists(deps.kafka, target.topic))) {
    // Before the daemon first ran (or created the table's topic) there is nothing to compact; the continuous
    // mode picks the table up in a later round, once the topic exists.
    const table = `${target.namespace}.${target.table}`;
    deps.logger.warn({ table, topic: target.topic }, `lake: no change topic ${target.topic} yet for ${table}: nothing to compact (run \`tributary run\` first)`);
    return [];
  }
  const unlock = await dir.lock();
  const results: SnapshotResult[] = [];
  try {
    await dir.collectGarbage();
    while (true) {
      const result = await compactOnce(target, dir, deps);
      if (result.snapshotId !== null) results.push(result);
      if (result.changes < deps.maxChangesPerSnapshot) break;
    }
    return results;
  } finally {
    await unlock();
  }
}

async function compactOnce(target: TableTarget, dir: TableDirectory, deps: CompactorDeps): Promise<SnapshotResult> {
  const started = Date.now();
  const logger = deps.logger.child({ component: 'lake-compactor', table: `${target.sourceName}/${target.namespace}/${target.table}` });
  const current = await dir.current();
  const metadata = current?.metadata;
  if (metadata !== undefined) refuseWrappedTimes(metadata, target);
  const from = new Map<number, bigint>(Object.entries(metadata?.snapshots.at(-1)?.kafka.offsets ?? {}).map(([p, o]) => [Number(p), BigInt(o)]));
  const read = await readTopic({ kafka: deps.kafka, groupId: deps.groupId, topic: target.topic, from, maxRecords: deps.maxChangesPerSnapshot });
  const spill = join(target.root, `.spill-${process.pid}`);
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: deps.memoryLimit,
    temp_directory: spill,
    threads: String(deps.threads),
    preserve_insertion_order: 'false',
  });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  try {
    const staging = await ChangeStaging.create(connection);
    const decoder = new RegistryAvroDecoder(deps.registry);
    const versions = new Map<number, SchemaVersion>();
    let spec = metadata?.partitionSpec;
    let latestValueSchema: SchemaVersion | undefined;
    let latestKey: readonly ColumnCodec[] | undefined;
    let truncatedAt = -1;
    let records = 0;
    let source: SourcePosition | null = null;
    let lastProgress = Date.now();

    for await (const batch of read.batches) for (const record of batch) {
      records++;
      if (record.value === null) continue;
      const where = (): string => `${target.topic}[${record.partition}]@${record.offset}`;
      const { schemaId, payload } = unframe(record.value);
      let version = versions.get(schemaId);
      if (version === undefined) {
        const writer = await decoder.schemaFor(schemaId, `value of ${where()}`);
        const times = timeMeaning(envelopeConnector(writer.schema));
        version = { times, valueColumns: envelopeColumns(writer.schema, target.topic, times), reader: envelopeReader(writer.schema, writer.type) };
        versions.set(schemaId, version);
      }
      const envelope = version.reader.read(payload) as Envelope;
      source = laterPosition(source, positionOf(envelope.source));
      latestValueSchema = version;
      if (envelope.op === 't') {
        truncatedAt = records;
        continue;
      }
      if (record.key === null) {
        throw new LakeSchemaError(`${where()}: change without a key; the lake merges rows by key`, {
          fix: `give ${target.namespace}.${target.table} a primary key, or configure its key columns (sources[].tables[].key)`,
        });
      }
      const key = decoder.decodeKnown(record.key) ?? (await decoder.decode(record.key, `key of ${where()}`));
      version.keyCodecs ??= keyColumns(key.schema, target.topic, version.times);
      version.writer ??= await staging.writer(version.valueColumns, version.keyCodecs);
      latestKey = version.keyCodecs;
      spec ??= partitionSpecFor(version.keyCodecs.map((c) => c.column), deps.buckets);
      const keyRecord = key.value as Record<string, unknown>;
      const keyValues = version.keyCodecs.map((c) => keyRecord[c.column.name]);
      staging.append(version.writer, records, envelope.op, bucketOf(spec, keyValues), envelope.after, keyValues);
      if (Date.now() - lastProgress >= (deps.progressIntervalMs ?? 5000)) {
        lastProgress = Date.now();
        logger.info({ changes: staging.rows, offsets: offsetsJson(read.next) }, 'lake: reading changes');
      }
    }
    await staging.finish();
    const readMs = Date.now() - started;
    if (records === 0) return emptyResult(target, metadata, started);

    const keyNames = (latestKey ?? []).map((c) => c.column.name);
    const previousSchema = metadata === undefined ? undefined : currentSchema(metadata);
    const evolved = latestValueSchema === undefined ? undefined : evolveSchema(
      { schemas: metadata?.schemas ?? [], lastColumnId: metadata?.lastColumnId ?? 0, current: previousSchema },
      await describeColumns(staging, latestValueSchema.valueColumns, previousSchema),
      keyNames.length > 0 ? keyNames : (previousSchema?.key ?? []),
    );
    const schema = evolved?.schema ?? (metadata === undefined ? undefined : currentSchema(metadata));
    if (schema === undefined || spec === undefined) {
      // Only tombstones and truncates on a table never compacted: nothing to publish yet.
      return emptyResult(target, metadata, started);
    }
    const codecs = staging.codecs();
    const touched = staging.rows > 0 ? await reduceChanges(connection, codecs, schema.key, truncatedAt, staging.unavailable()) : new Set<number>();
    // A new schema rewrites every file, so that each snapshot's files share its columns and a reader that
    // ignores the metadata (read_parquet over the listed files) sees dropped columns gone.
    if (evolved?.rewrite === true) for (const file of metadata?.files ?? []) touched.add(file.bucket);
    const plan = planMerge(metadata?.files ?? [], touched, truncatedAt >= 0);
    const snapshotId = (metadata?.currentSnapshotId ?? 0) + 1;
    const schemas = new Map<number, LakeSchema>([...(metadata?.schemas ?? []), schema].map((s) => [s.schemaId, s]));
    const written: DataFile[] = [];
    let bucketsDone = 0;
    for (const [bucket, inputs] of plan.rewrite) {
      const file = dir.newDataFile(bucket, snapshotId);
      const { rows, bytes } = await rewriteBucket(
        connection,
        { bucket, inputs, target: file.absolute },
        schema,
        schemas,
        new Set(codecs.keys()),
        target.root,
        staging.unavailable(),
      );
      if (rows > 0) written.push({ path: file.relative, bucket, rows, bytes, schemaId: schema.schemaId });
      else await rm(file.absolute, { force: true });
      if (Date.now() - lastProgress >= (deps.progressIntervalMs ?? 5000)) {
        lastProgress = Date.now();
        logger.info({ buckets: ++bucketsDone, of: plan.rewrite.size }, 'lake: rewriting buckets');
      } else bucketsDone++;
    }
    await dir.syncDataFiles(written.map((f) => f.path));
    const base: TableMetadata | NewTable = metadata ?? {
      tableUuid: crypto.randomUUID(),
      source: { name: target.sourceName, connector: source?.connector ?? 'unknown' },
      namespace: target.namespace,
      table: target.table,
      topic: target.topic,
      partitionSpec: spec as PartitionSpec,
    };
    const next = nextMetadata(base, {
      schema,
      lastColumnId: evolved?.lastColumnId ?? metadata?.lastColumnId ?? 0,
      files: [...plan.keep, ...written].sort((a, b) => a.bucket - b.bucket),
      filesAdded: written.length,
      filesRemoved: plan.drop.length,
      changesApplied: staging.rows,
      source,
      kafka: { topic: target.topic, offsets: offsetsJson(read.next) },
      madeAt: (deps.clock ?? (() => new Date()))(),
    });
    await dir.publish((current?.version ?? 0) + 1, next);
    await read.commit().catch((error: unknown) => logger.warn({ err: error }, 'lake: committing consumer-group offsets failed (the lake metadata keeps the position)'));
    await dir.collectGarbage();
    const result: SnapshotResult = {
      table: `${target.namespace}.${target.table}`,
      snapshotId,
      changes: records,
      rows: next.snapshots.at(-1)?.rows ?? 0,
      filesWritten: written.length,
      filesKept: plan.keep.length,
      durationMs: Date.now() - started,
    };
    logger.info({ ...result, readMs }, 'lake: snapshot published');
    return result;
  } finally {
    connection.closeSync();
    instance.closeSync();
    await read.close();
    await rm(spill, { recursive: true, force: true });
  }
}

/**
 * A lake written before MySQL/MariaDB TIME was kept as a duration holds it as a time of day: values outside
 * 00:00:00–24:00:00 wrapped, and no conversion can tell which did. The table is rebuilt from its topic instead.
 */
function refuseWrappedTimes(metadata: TableMetadata, target: TableTarget): void {
  const wrapped = wrappedTimeColumns(currentSchema(metadata).fields, metadata.source.connector);
  if (wrapped.length === 0) return;
  const table = `${target.namespace}.${target.table}`;
  throw new LakeMetadataError(wrappedTimesProblem(table, metadata.source.connector, wrapped), {
    fix:
      `re-compact the table: delete ${target.root} and run tributary compact -c FILE --table ${table} --once ` +
      `(if the topic ${target.topic} no longer holds every change, re-emit the table first with tributary replay -c FILE --table ${table} --from database)`,
  });
}

const ZONED_TIMESTAMP = 'io.debezium.time.ZonedTimestamp';

/**
 * The lake columns of the latest value schema, ZonedTimestamp columns with the fractional digits of their latest
 * staged value (or what the lake knew, when this compaction saw none), so a replay writes the instants back as
 * the source did.
 */
async function describeColumns(staging: ChangeStaging, codecs: readonly ColumnCodec[], previous: LakeSchema | undefined): Promise<LakeColumn[]> {
  const zoned = codecs.filter((c) => c.column.semantic === ZONED_TIMESTAMP).map((c) => c.column.name);
  const seen = zoned.length === 0 ? new Map<string, number>() : await staging.latestFractionDigits(zoned);
  return codecs.map(({ column }) => {
    if (column.semantic !== ZONED_TIMESTAMP) return column;
    const digits = seen.get(column.name) ?? previous?.fields.find((f) => f.name === column.name)?.fractionDigits;
    return digits === undefined ? column : { ...column, fractionDigits: digits };
  });
}

interface Envelope {
  readonly op: 'c' | 'u' | 'd' | 'r' | 't';
  readonly after: Record<string, unknown> | null;
  readonly source: Record<string, unknown>;
}

function emptyResult(target: TableTarget, metadata: TableMetadata | undefined, started: number): SnapshotResult {
  return {
    table: `${target.namespace}.${target.table}`,
    snapshotId: null,
    changes: 0,
    rows: metadata?.snapshots.at(-1)?.rows ?? 0,
    filesWritten: 0,
    filesKept: metadata?.files.length ?? 0,
    durationMs: Date.now() - started,
  };
}

function offsetsJson(next: ReadonlyMap<number, bigint>): Record<string, string> {
  return Object.fromEntries([...next].sort(([a], [b]) => a - b).map(([p, o]) => [String(p), o.toString()]));
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function positionOf(source: Record<string, unknown>): SourcePosition {
  const tsMs = Number(source['ts_ms']);
  if (source['connector'] === 'postgresql') return { connector: 'postgresql', lsn: str(source['lsn']), txId: str(source['txId']), tsMs };
  return {
    connector: source['connector'] === 'mariadb' ? 'mariadb' : 'mysql',
    file: String(source['file']),
    pos: String(source['pos']),
    row: Number(source['row'] ?? 0),
    gtid: str(source['gtid']),
    serverId: String(source['server_id']),
    tsMs,
  };
}

/** The later of two positions (partitions interleave, so the last one read is not always the latest). */
export function laterPosition(a: SourcePosition | null, b: SourcePosition): SourcePosition {
  if (a === null) return b;
  if (a.connector === 'postgresql' && b.connector === 'postgresql') {
    return b.lsn === null || (a.lsn !== null && compareUnsigned(b.lsn, a.lsn) < 0) ? a : b;
  }
  if (a.connector !== 'postgresql' && b.connector !== 'postgresql') {
    const order = compareBinlog(a.file, b.file) || compareUnsigned(b.pos, a.pos) || b.row - a.row;
    return order >= 0 ? b : a;
  }
  throw new TributaryError('one topic carries changes of both PostgreSQL and MySQL sources', {
    fix: 'give each source its own topicPrefix',
  });
}

/** Compares non-negative decimal integers as text (LSNs, binlog offsets): called per record, so no BigInt. */
function compareUnsigned(a: string, b: string): number {
  return a.length - b.length || (a === b ? 0 : a < b ? -1 : 1);
}

/** Binlog files compare by their numeric suffix (mysql-bin.000009 < mysql-bin.000010). */
function compareBinlog(a: string, b: string): number {
  const n = (f: string): number => Number(/\.(\d+)$/.exec(f)?.[1] ?? 0);
  return Math.sign(n(b) - n(a)) || (a === b ? 0 : a < b ? 1 : -1);
}
