/**
 * Change events → Avro key and value bytes (without the wire-format header; see wire.ts), in the shape the
 * Debezium PostgreSQL, MySQL or MariaDB connector produces through the Confluent Avro converter.
 */
import type avro from 'avsc';
import type { ChangeEvent, Row } from '../model/change.js';
import { qualifiedName, type TableSchema } from '../model/schema.js';
import { temporalModeFor, type SourceKind } from './connect-types.js';
import { envelopeConnectSchema, keyColumns, keyConnectSchema } from './envelope.js';
import { avroTypeFor } from './avro-type.js';
import { sourceValue } from './source-block.js';
import { rowToAvro, type ValueContext } from './values.js';
import { timestampTriples } from './timestamps.js';
import { encodeFramed } from './wire.js';

/** The Debezium release whose event format this reproduces; the default for the source block's `version`. */
export const DEBEZIUM_FORMAT_VERSION = '3.6.1.Final';

/** The `<topic>.Key` Type, or null when the table has no key columns (Debezium then sends a null key). */
export function buildKeySchema(topic: string, table: TableSchema, kind: SourceKind): avro.Type | null {
  const schema = keyConnectSchema(topic, table, temporalModeFor(kind));
  return schema === null ? null : avroTypeFor(schema);
}

/** The `<topic>.Envelope` Type. */
export function buildValueSchema(topic: string, table: TableSchema, kind: SourceKind): avro.Type {
  return avroTypeFor(envelopeConnectSchema(topic, table, kind));
}

/** Avro bytes of the key record; the row must hold the key columns. */
export function encodeKey(type: avro.Type, table: TableSchema, row: Row, kind: SourceKind): Buffer {
  return type.toBuffer(rowToAvro(keyColumns(table), row, valueContext(table, kind)));
}

export interface EnvelopeOptions {
  /** What the source block's `version` field says. */
  readonly version: string;
  /** Processing time in ms since the epoch: the envelope's ts_ms (ts_us/ts_ns derive from it). */
  readonly nowMs: number;
}

const processingTimestamps = timestampTriples();

/** Avro bytes of the envelope for a change event. */
export function encodeValue(type: avro.Type, event: ChangeEvent, kind: SourceKind, options: EnvelopeOptions): Buffer {
  return type.toBuffer(envelopeValue(event, kind, options));
}

/** The envelope as the JavaScript value avsc writes. */
function envelopeValue(event: ChangeEvent, kind: SourceKind, options: EnvelopeOptions): Record<string, unknown> {
  const ctx = valueContext(event.schema, kind);
  const row = (r: Row | null) => (r === null ? null : rowToAvro(event.schema.columns, r, ctx));
  const now = processingTimestamps(options.nowMs);
  const tx = event.transaction;
  return {
    before: row(event.before),
    after: row(event.after),
    source: sourceValue(kind, event.source, options.version),
    transaction:
      tx === null ? null : { id: tx.id, total_order: tx.totalOrder, data_collection_order: tx.dataCollectionOrder },
    op: event.op,
    ts_ms: now.ms,
    ts_us: now.us,
    ts_ns: now.ns,
  };
}

function valueContext(table: TableSchema, kind: SourceKind): ValueContext {
  return { mode: temporalModeFor(kind), table: qualifiedName(table.id) };
}

export interface AvroEncoderOptions {
  readonly kind: SourceKind;
  /** The source block's `version`; defaults to DEBEZIUM_FORMAT_VERSION. */
  readonly version?: string;
  /** Processing-time clock for the envelope's ts_ms; defaults to Date.now. */
  readonly clock?: () => number;
}

/**
 * Encodes events of one source, caching the Types per (topic, table schema): a schema change yields a new
 * Type, an unchanged table reuses its Type.
 */
export class AvroEventEncoder {
  /** Keyed by the schema object, which a source replaces exactly when the table changed: no per-event hashing. */
  private readonly types = new WeakMap<TableSchema, Map<string, { key: avro.Type | null; value: avro.Type }>>();
  private readonly version: string;
  private readonly clock: () => number;

  constructor(private readonly options: AvroEncoderOptions) {
    this.version = options.version ?? DEBEZIUM_FORMAT_VERSION;
    this.clock = options.clock ?? Date.now;
  }

  keyType(topic: string, table: TableSchema): avro.Type | null {
    return this.typesFor(topic, table).key;
  }

  valueType(topic: string, table: TableSchema): avro.Type {
    return this.typesFor(topic, table).value;
  }

  /**
   * The key bytes, or null for a keyless table or a truncate. Deletes take the key from `before`, everything
   * else from `after`, so an update that changes the key is keyed by the new key as in Debezium.
   */
  encodeKey(topic: string, event: ChangeEvent): Buffer | null {
    const type = this.keyType(topic, event.schema);
    const row = event.op === 'd' ? event.before : event.after;
    if (type === null || row === null || event.op === 't') return null;
    return encodeKey(type, event.schema, row, this.options.kind);
  }

  encodeValue(topic: string, event: ChangeEvent): Buffer {
    return encodeValue(this.valueType(topic, event.schema), event, this.options.kind, {
      version: this.version,
      nowMs: this.clock(),
    });
  }

  /** encodeValue in Confluent's wire format under `schemaId`, written in one pass. */
  encodeFramedValue(topic: string, event: ChangeEvent, schemaId: number): Buffer {
    const options = { version: this.version, nowMs: this.clock() };
    return encodeFramed(this.valueType(topic, event.schema), schemaId, envelopeValue(event, this.options.kind, options));
  }

  private typesFor(topic: string, table: TableSchema): { key: avro.Type | null; value: avro.Type } {
    let byTopic = this.types.get(table);
    if (byTopic === undefined) this.types.set(table, (byTopic = new Map()));
    let types = byTopic.get(topic);
    if (types === undefined) {
      types = { key: buildKeySchema(topic, table, this.options.kind), value: buildValueSchema(topic, table, this.options.kind) };
      byTopic.set(topic, types);
    }
    return types;
  }
}
