/**
 * Source events → Kafka records: Debezium topic naming, schema registration under `<topic>-key` and
 * `<topic>-value`, Confluent wire framing, and the tombstone that follows every delete. Registration happens once
 * per table schema version; afterwards encoding a batch costs no I/O.
 */
import type avro from 'avsc';
import type { ChangeEvent, SourceEvent, TransactionEvent } from '../model/change.js';
import { qualifiedName, type TableId, type TableSchema } from '../model/schema.js';
import {
  AvroEventEncoder,
  buildTransactionSchemas,
  encodeTransactionKey,
  encodeTransactionValue,
  frame,
  schemaJson,
  type SourceKind,
  type TransactionSchemas,
} from '../avro/index.js';
import type { OutgoingRecord, RecordEncoder } from './pipeline.js';

/** What the encoder needs of a schema registry: an id for a schema under a subject. */
export interface SchemaRegistrar {
  register(subject: string, schema: string): Promise<number>;
}

/** The connector (PostgreSQL, MySQL or MariaDB) whose events these are is each event's `source.connector`. */
export interface RecordEncoderOptions {
  readonly topicPrefix: string;
  /** Emit BEGIN/END records on `<prefix>.transaction`. */
  readonly transactions: boolean;
  readonly registry: SchemaRegistrar;
  readonly clock?: () => number;
}

interface TableEncoding {
  /** The connector the schemas were registered for: a table's events all come from one source, so one server. */
  readonly kind: SourceKind;
  readonly topic: string;
  readonly keyId: number | null;
  readonly valueId: number;
}

/** Debezium's topic for a table: `<prefix>.<schema>.<table>` (PostgreSQL) or `<prefix>.<database>.<table>` (MySQL). */
export function tableTopic(prefix: string, id: TableId): string {
  return `${prefix}.${id.schema ?? id.database}.${id.table}`;
}

/**
 * Debezium counts the delete and the create of a key-changing update as two events of their transaction: each has
 * its own total_order and data_collection_order, and END counts both. Sources count the update once, so the
 * transaction's later events and its END are shifted by the splits made so far. Events are matched to their
 * transaction by `scope`, as PostgreSQL's ids differ from event to event.
 */
class TransactionSplits {
  private scope: string | null = null;
  private total = 0n;
  private readonly perTable = new Map<string, bigint>();

  shift(event: ChangeEvent): ChangeEvent {
    const tx = event.transaction;
    if (tx === null || tx.scope !== this.scope) return event;
    const table = this.perTable.get(qualifiedName(event.schema.id)) ?? 0n;
    return { ...event, transaction: { ...tx, totalOrder: tx.totalOrder + this.total, dataCollectionOrder: tx.dataCollectionOrder + table } };
  }

  add(event: ChangeEvent): void {
    const tx = event.transaction;
    if (tx === null) return;
    if (tx.scope !== this.scope) {
      this.scope = tx.scope;
      this.total = 0n;
      this.perTable.clear();
    }
    const table = qualifiedName(event.schema.id);
    this.total++;
    this.perTable.set(table, (this.perTable.get(table) ?? 0n) + 1n);
  }

  counted(event: TransactionEvent): TransactionEvent {
    if (event.type !== 'end' || event.scope !== this.scope || event.counts === undefined) return event;
    const counts = new Map(event.counts);
    for (const [table, extra] of this.perTable) counts.set(table, (counts.get(table) ?? 0) + Number(extra));
    return { ...event, counts };
  }
}

export class DebeziumRecordEncoder implements RecordEncoder {
  private readonly avro: AvroEventEncoder;
  /** Keyed by the schema object: a source hands out a new TableSchema object exactly when the table changed. */
  private readonly tables = new WeakMap<TableSchema, TableEncoding>();
  private readonly transactionSchemas: TransactionSchemas;
  private transactionIds: Promise<{ keyId: number; valueId: number }> | undefined;
  private readonly splits = new TransactionSplits();

  constructor(private readonly options: RecordEncoderOptions) {
    this.avro = new AvroEventEncoder({ clock: options.clock });
    this.transactionSchemas = buildTransactionSchemas(options.topicPrefix);
  }

  async encode(events: readonly SourceEvent[]): Promise<OutgoingRecord[]> {
    const records: OutgoingRecord[] = [];
    for (const event of events) {
      if (event.type === 'change') {
        // Awaited only when the table's schemas are not registered yet: a promise per event costs a microtask each.
        const table = this.tables.get(event.schema);
        const kind = event.source.connector;
        this.encodeChange(event, table !== undefined && table.kind === kind ? table : await this.register(event.schema, kind), records);
      } else if (event.type !== 'heartbeat' && this.options.transactions) await this.encodeTransaction(event, records);
    }
    return records;
  }

  private encodeChange(event: ChangeEvent, table: TableEncoding, out: OutgoingRecord[]): void {
    const key = table.keyId === null ? null : this.avro.encodeFramedKey(table.topic, event, table.keyId);
    // Debezium (RelationalChangeRecordEmitter) turns an update that changes the key into a delete of the old key
    // (with its tombstone) and a create of the new one, so compacted topics drop the old key.
    if (event.op === 'u' && event.before !== null && key !== null) {
      const oldKey = this.avro.encodeFramedKey(table.topic, { ...event, op: 'd' }, table.keyId!);
      if (oldKey !== null && !oldKey.equals(key)) {
        this.encodeRecord(table, { ...this.splits.shift(event), op: 'd', after: null }, oldKey, out);
        this.splits.add(event);
        this.encodeRecord(table, { ...this.splits.shift(event), op: 'c', before: null }, key, out);
        return;
      }
    }
    this.encodeRecord(table, this.splits.shift(event), key, out);
  }

  private encodeRecord(table: TableEncoding, event: ChangeEvent, key: Buffer | null, out: OutgoingRecord[]): void {
    out.push({ topic: table.topic, key, value: this.avro.encodeFramedValue(table.topic, event, table.valueId) });
    // Debezium follows a delete with a tombstone so that log compaction can drop the key entirely.
    if (event.op === 'd') out.push({ topic: table.topic, key, value: null });
  }

  private async register(schema: TableSchema, kind: SourceKind): Promise<TableEncoding> {
    const topic = tableTopic(this.options.topicPrefix, schema.id);
    const keyType = this.avro.keyType(topic, schema, kind);
    const [keyId, valueId] = await Promise.all([
      keyType === null ? null : this.registerType(`${topic}-key`, keyType),
      this.registerType(`${topic}-value`, this.avro.valueType(topic, schema, kind)),
    ]);
    const encoding = { kind, topic, keyId, valueId };
    this.tables.set(schema, encoding);
    return encoding;
  }

  private registerType(subject: string, type: avro.Type): Promise<number> {
    return this.options.registry.register(subject, schemaJson(type));
  }

  private async encodeTransaction(event: TransactionEvent, out: OutgoingRecord[]): Promise<void> {
    const schemas = this.transactionSchemas;
    this.transactionIds ??= Promise.all([
      this.registerType(`${schemas.topic}-key`, schemas.key),
      this.registerType(`${schemas.topic}-value`, schemas.value),
    ]).then(([keyId, valueId]) => ({ keyId, valueId }));
    const { keyId, valueId } = await this.transactionIds;
    out.push({
      topic: schemas.topic,
      key: frame(keyId, encodeTransactionKey(schemas, event)),
      value: frame(valueId, encodeTransactionValue(schemas, this.splits.counted(event))),
    });
  }
}
