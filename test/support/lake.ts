/**
 * Lake test helpers: a change feed that writes Debezium Avro change events to a real topic (through the real
 * encoder, registry and producer) while keeping the rows it expects the table to hold, and an independent
 * snapshot reader that follows the pointer and reads the listed Parquet files with DuckDB.
 *
 * Run as a script (`node --import tsx test/support/lake.ts`), it compacts one table with the settings in the
 * TRIBUTARY_LAKE_CHILD environment variable: the crash test's child process.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ChangeEvent, Op, Row } from '../../src/model/change.js';
import type { Column, TableSchema } from '../../src/model/schema.js';
import { createKafkaProducer, type KafkaProducer } from '../../src/kafka/producer.js';
import { ensureTopics } from '../../src/kafka/admin.js';
import { createLogger, silentLogger } from '../../src/ops/logger.js';
import { retry } from '../../src/ops/retry.js';
import { DebeziumRecordEncoder } from '../../src/pipeline/record-encoder.js';
import { createRegistryClient, type RegistryClient } from '../../src/registry/client.js';
import { MemorySchemaStore } from '../../src/registry/memory-store.js';
import { startEmbeddedRegistry, type EmbeddedRegistry } from '../../src/registry/server.js';
import { compactTable, type CompactorDeps, type TableTarget } from '../../src/lake/compactor.js';
import type { TableMetadata } from '../../src/lake/metadata.js';
import { localKafkaSettings, uniqueTopic } from './kafka.js';

export interface TestRegistry {
  readonly registry: EmbeddedRegistry;
  readonly client: RegistryClient;
}

export async function startTestRegistry(): Promise<TestRegistry> {
  const registry = await startEmbeddedRegistry({ port: 0, store: new MemorySchemaStore(), logger: silentLogger() });
  return { registry, client: createRegistryClient({ url: registry.url, logger: silentLogger() }) };
}

export function column(name: string, type: Column['type'], nullable = true): Column {
  return { name, type, nullable, sourceType: type.kind };
}

export function pgTable(table: string, columns: Column[], key: string[] = ['id']): TableSchema {
  return { id: { database: 'test', schema: 'public', table }, columns, key };
}

/** Writes change events for one table and tracks what the table should then hold. */
export class ChangeFeed {
  readonly rows = new Map<string, Row>();
  readonly topic: string;
  private readonly encoder: DebeziumRecordEncoder;
  private readonly producer: KafkaProducer;
  private pending: ChangeEvent[] = [];
  private lsn = 1000n;
  /** Kafka records written: one per change, plus the tombstone after each delete. */
  records = 0;

  constructor(
    registry: RegistryClient,
    public schema: TableSchema,
    readonly prefix = uniqueTopic('lake').replaceAll('-', '_'),
  ) {
    this.topic = `${prefix}.${schema.id.schema}.${schema.id.table}`;
    this.encoder = new DebeziumRecordEncoder({ topicPrefix: prefix, transactions: false, registry });
    this.producer = createKafkaProducer(localKafkaSettings({ lingerMs: 5, batchBytes: 4_194_304 }), silentLogger());
  }

  async createTopic(partitions = 1): Promise<void> {
    await ensureTopics(localKafkaSettings(), [{ name: this.topic, partitions, replicationFactor: 1 }]);
  }

  get lastLsn(): bigint {
    return this.lsn;
  }

  upsert(row: Row, op: Op = 'c'): void {
    const key = keyOf(this.schema, row);
    const before = this.rows.get(key) ?? null;
    this.rows.set(key, row);
    this.event(before === null ? op : 'u', before, row);
  }

  delete(row: Row): void {
    const key = keyOf(this.schema, row);
    const before = this.rows.get(key);
    if (before === undefined) return;
    this.rows.delete(key);
    this.records++;
    this.event('d', before, null);
  }

  truncate(): void {
    this.rows.clear();
    this.event('t', null, null);
  }

  /** A new table schema from now on (ALTER TABLE); rows already held keep only the columns still present. */
  alter(schema: TableSchema): void {
    this.schema = schema;
    const names = new Set(schema.columns.map((c) => c.name));
    for (const [key, row] of this.rows) this.rows.set(key, Object.fromEntries(Object.entries(row).filter(([n]) => names.has(n))));
  }

  async flush(): Promise<void> {
    const events = this.pending;
    this.pending = [];
    for (let i = 0; i < events.length; i += 5000) {
      await this.producer.send(await this.encoder.encode(events.slice(i, i + 5000)));
    }
  }

  async close(): Promise<void> {
    await this.flush();
    await this.producer.close();
  }

  private event(op: Op, before: Row | null, after: Row | null): void {
    this.records++;
    this.lsn += 8n;
    this.pending.push({
      type: 'change',
      op,
      schema: this.schema,
      before,
      after,
      source: {
        connector: 'postgresql',
        name: this.prefix,
        tsMs: 1_700_000_000_000,
        snapshot: 'false',
        db: this.schema.id.database,
        schema: this.schema.id.schema ?? 'public',
        table: this.schema.id.table,
        sequence: null,
        txId: 7n,
        lsn: this.lsn,
        xmin: null,
      },
      transaction: null,
      position: this.lsn.toString(),
    });
  }
}

export function keyOf(schema: TableSchema, row: Row): string {
  return schema.key.map((k) => String(row[k])).join('\u0000');
}

export function target(root: string, feed: { topic: string; schema: TableSchema }): TableTarget {
  return {
    sourceName: 'pg',
    namespace: feed.schema.id.schema ?? feed.schema.id.database,
    table: feed.schema.id.table,
    topic: feed.topic,
    root: join(root, 'pg', feed.schema.id.schema ?? feed.schema.id.database, feed.schema.id.table),
  };
}

export function deps(registryUrl: string, overrides: Partial<CompactorDeps> = {}): CompactorDeps {
  return {
    kafka: localKafkaSettings(),
    groupId: uniqueTopic('lake-group'),
    registry: createRegistryClient({ url: registryUrl, logger: silentLogger() }),
    logger: silentLogger(),
    memoryLimit: '128MB',
    threads: 1,
    maxChangesPerSnapshot: 1_000_000,
    ...overrides,
  };
}

export interface SnapshotOnDisk {
  readonly version: number;
  readonly metadata: TableMetadata;
  /** Rows as DuckDB renders each value as text, keyed like ChangeFeed.rows. */
  readonly rows: Map<string, Record<string, string | null>>;
  readonly types: Map<string, string>;
}

/** Reads the current snapshot the way an outside reader would: pointer → metadata → listed Parquet files. */
export async function readSnapshot(tableRoot: string, key: readonly string[] = ['id']): Promise<SnapshotOnDisk> {
  const version = Number((await readFile(join(tableRoot, 'metadata', 'version-hint.text'), 'utf8')).trim());
  const metadata = JSON.parse(await readFile(join(tableRoot, 'metadata', `v${version}.metadata.json`), 'utf8')) as TableMetadata;
  const rows = new Map<string, Record<string, string | null>>();
  const types = new Map<string, string>();
  if (metadata.files.length === 0) return { version, metadata, rows, types };
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  try {
    const files = metadata.files.map((f) => `'${join(tableRoot, f.path).replaceAll("'", "''")}'`).join(', ');
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet([${files}], union_by_name = true)`);
    for (const row of described.getRowObjects()) types.set(String(row['column_name']), String(row['column_type']));
    const cols = [...types.keys()].map((c) => (types.get(c) === 'BLOB' ? `hex("${c}") AS "${c}"` : `CAST("${c}" AS VARCHAR) AS "${c}"`));
    const result = await connection.runAndReadAll(`SELECT ${cols.join(', ')} FROM read_parquet([${files}], union_by_name = true)`);
    for (const row of result.getRowObjects()) {
      const values = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? null : String(v)]));
      rows.set(key.map((k) => values[k]).join('\u0000'), values);
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return { version, metadata, rows, types };
}

interface ChildSettings {
  readonly target: TableTarget;
  readonly registryUrl: string;
  readonly groupId: string;
  readonly maxChangesPerSnapshot: number;
  readonly rangeWidth: number;
}

export function childEnv(settings: ChildSettings): Record<string, string> {
  return { TRIBUTARY_LAKE_CHILD: JSON.stringify(settings) };
}

if (process.argv[1]?.endsWith('support/lake.ts') && process.env.TRIBUTARY_LAKE_CHILD !== undefined) {
  const settings = JSON.parse(process.env.TRIBUTARY_LAKE_CHILD) as ChildSettings;
  // Module loading takes longer than a small compaction: the parent times its kill from here.
  process.stdout.write('started\n');
  // As the continuous compactor does, a failure that may pass (a broker slow under load) is tried again.
  await retry(() =>
    compactTable(
      settings.target,
      deps(settings.registryUrl, {
        groupId: settings.groupId,
        maxChangesPerSnapshot: settings.maxChangesPerSnapshot,
        buckets: { rangeWidth: settings.rangeWidth },
        logger: createLogger('warn'),
      }),
    ),
  );
  process.stdout.write('done\n');
}
