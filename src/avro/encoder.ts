/**
 * Change events → Avro key and value bytes in Confluent's wire format (see wire.ts), in the shape the Debezium
 * PostgreSQL, MySQL or MariaDB connector produces through the Confluent Avro converter.
 */
import type avro from 'avsc';
import type { ChangeEvent, Row } from '../model/change.js';
import { qualifiedName, type TableSchema } from '../model/schema.js';
import { temporalModeFor, type SourceKind } from './connect-types.js';
import { envelopeConnectSchema, keyColumns, keyConnectSchema } from './envelope.js';
import { avroTypeFor } from './avro-type.js';
import { sourceValue } from './source-block.js';
import type { ValueContext } from './values.js';
import { timestampTriples, type EpochTimestamps } from './timestamps.js';
import { WIRE_HEADER_BYTES } from './wire.js';
import { fieldTypes, optionalRowWriter, rowWriter, SlabOutput, writerFor, type Tap, type Writer } from './compiled-writer.js';
import { invariant } from '../model/errors.js';

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

const ENVELOPE_FIELDS = ['before', 'after', 'source', 'transaction', 'op', 'ts_ms', 'ts_us', 'ts_ns'];

type EnvelopeWriter = (tap: Tap, event: ChangeEvent, now: EpochTimestamps) => void;

/** Writes the `<topic>.Envelope` of `valueType` for events of `table`, field by field in the schema's order. */
function envelopeWriter(valueType: avro.Type, table: TableSchema, kind: SourceKind, version: string): EnvelopeWriter {
  const fields = fieldTypes(valueType);
  invariant(
    [...fields.keys()].join() === ENVELOPE_FIELDS.join(),
    `envelope ${valueType.name ?? '?'} has fields ${[...fields.keys()].join()}, expected ${ENVELOPE_FIELDS.join()}`,
  );
  const field = (name: string): avro.Type => fields.get(name)!;
  const ctx = valueContext(table, kind);
  const writeBefore = optionalRowWriter(field('before'), table.columns, ctx);
  const writeAfter = optionalRowWriter(field('after'), table.columns, ctx);
  const writeSource = writerFor(field('source'));
  const writeTransaction = writerFor(field('transaction'));
  const writeOp = writerFor(field('op'));
  const writeTsMs = writerFor(field('ts_ms'));
  const writeTsUs = writerFor(field('ts_us'));
  const writeTsNs = writerFor(field('ts_ns'));
  return (tap, event, now) => {
    const tx = event.transaction;
    writeBefore(tap, event.before);
    writeAfter(tap, event.after);
    writeSource(tap, sourceValue(event.source, version));
    writeTransaction(
      tap,
      tx === null ? null : { id: tx.id, total_order: tx.totalOrder, data_collection_order: tx.dataCollectionOrder },
    );
    writeOp(tap, event.op);
    writeTsMs(tap, now.ms);
    writeTsUs(tap, now.us);
    writeTsNs(tap, now.ns);
  };
}

function valueContext(table: TableSchema, kind: SourceKind): ValueContext {
  return { mode: temporalModeFor(kind), table: qualifiedName(table.id) };
}

export interface AvroEncoderOptions {
  /** The source block's `version`; defaults to DEBEZIUM_FORMAT_VERSION. */
  readonly version?: string;
  /** Processing-time clock for the envelope's ts_ms; defaults to Date.now. */
  readonly clock?: () => number;
}

interface TableWriters {
  readonly key: avro.Type | null;
  readonly value: avro.Type;
  readonly writeKey: Writer<Row> | null;
  readonly writeEnvelope: EnvelopeWriter;
}

/**
 * Encodes events of one source, caching the Types and their compiled writers per (table schema, connector, topic):
 * a schema change yields new ones, an unchanged table reuses them. The connector is each event's
 * `source.connector`, so a binlog source's events follow the MySQL or the MariaDB connector as its server is one
 * or the other. Framed output shares slabs (see SlabOutput).
 */
export class AvroEventEncoder {
  /** Keyed by the schema object, which a source replaces exactly when the table changed: no per-event hashing. */
  private readonly types = new WeakMap<TableSchema, Map<SourceKind, Map<string, TableWriters>>>();
  private readonly version: string;
  private readonly clock: () => number;
  private readonly output = new SlabOutput();
  private readonly processingTime = timestampTriples();

  constructor(options: AvroEncoderOptions = {}) {
    this.version = options.version ?? DEBEZIUM_FORMAT_VERSION;
    this.clock = options.clock ?? Date.now;
  }

  keyType(topic: string, table: TableSchema, kind: SourceKind): avro.Type | null {
    return this.writersFor(topic, table, kind).key;
  }

  valueType(topic: string, table: TableSchema, kind: SourceKind): avro.Type {
    return this.writersFor(topic, table, kind).value;
  }

  /**
   * The key bytes in Confluent's wire format under `schemaId`, or null for a keyless table or a truncate. Deletes
   * take the key from `before`, everything else from `after`, so an update that changes the key is keyed by the
   * new key as in Debezium.
   */
  encodeFramedKey(topic: string, event: ChangeEvent, schemaId: number): Buffer | null {
    const { writeKey } = this.writersFor(topic, event.schema, event.source.connector);
    const row = event.op === 'd' ? event.before : event.after;
    if (writeKey === null || row === null || event.op === 't') return null;
    return this.output.framed(schemaId, writeKey, row);
  }

  /** The envelope in Confluent's wire format under `schemaId`. */
  encodeFramedValue(topic: string, event: ChangeEvent, schemaId: number): Buffer {
    const { writeEnvelope } = this.writersFor(topic, event.schema, event.source.connector);
    return this.output.framed(schemaId, writeEnvelope, event, this.processingTime(this.clock()));
  }

  /** encodeFramedKey without the wire header: the plain Avro bytes. */
  encodeKey(topic: string, event: ChangeEvent): Buffer | null {
    return this.encodeFramedKey(topic, event, 0)?.subarray(WIRE_HEADER_BYTES) ?? null;
  }

  /** encodeFramedValue without the wire header: the plain Avro bytes. */
  encodeValue(topic: string, event: ChangeEvent): Buffer {
    return this.encodeFramedValue(topic, event, 0).subarray(WIRE_HEADER_BYTES);
  }

  private writersFor(topic: string, table: TableSchema, kind: SourceKind): TableWriters {
    let byKind = this.types.get(table);
    if (byKind === undefined) this.types.set(table, (byKind = new Map()));
    let byTopic = byKind.get(kind);
    if (byTopic === undefined) byKind.set(kind, (byTopic = new Map()));
    let writers = byTopic.get(topic);
    if (writers === undefined) {
      const key = buildKeySchema(topic, table, kind);
      const value = buildValueSchema(topic, table, kind);
      writers = {
        key,
        value,
        writeKey: key === null ? null : rowWriter(key, keyColumns(table), valueContext(table, kind)),
        writeEnvelope: envelopeWriter(value, table, kind, this.version),
      };
      byTopic.set(topic, writers);
    }
    return writers;
  }
}
