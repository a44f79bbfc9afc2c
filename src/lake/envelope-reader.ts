/**
 * Reads only what the compactor uses of a change event (op, after, the source position): Avro schema resolution
 * with a reader schema that leaves out `before`, `transaction`, the ts_* fields and most of the source block makes
 * avsc skip them instead of building objects and strings for them, which halves decoding work and garbage for
 * updates that carry full old rows.
 */
import type avro from 'avsc';
import { typeFromJson } from '../avro/avro-type.js';
import type { AvroSchemaJson } from '../avro/avro-data.js';
import { namedTypes } from './columns.js';

const KEPT = new Set(['after', 'source', 'op']);
/** What positionOf reads of the source block; its names, db, schema and table strings are skipped undecoded. */
const SOURCE_KEPT = new Set(['connector', 'ts_ms', 'lsn', 'txId', 'file', 'pos', 'row', 'gtid', 'server_id']);

export interface EnvelopeReader {
  read(payload: Buffer): unknown;
}

export function envelopeReader(writerSchema: AvroSchemaJson, writerType: avro.Type): EnvelopeReader {
  const envelope = writerSchema as { fields?: { name: string; type: unknown }[] };
  const named = namedTypes(writerSchema);
  const fields = (envelope.fields ?? [])
    .filter((f) => KEPT.has(f.name))
    // `after` usually names the row record that `before` defined; with `before` gone it must define it.
    .map((f) => (f.name === 'after' ? { ...f, type: inline(f.type, named) } : f.name === 'source' ? { ...f, type: positionFields(f.type) } : f));
  const readerType = typeFromJson({ ...(writerSchema as object), fields } as AvroSchemaJson);
  const resolver = readerType.createResolver(writerType);
  return { read: (payload) => readerType.fromBuffer(payload, resolver) };
}

function positionFields(type: unknown): unknown {
  const record = type as { fields?: { name: string }[] };
  return record.fields === undefined ? type : { ...record, fields: record.fields.filter((f) => SOURCE_KEPT.has(f.name)) };
}

function inline(type: unknown, named: Map<string, unknown>): unknown {
  if (Array.isArray(type)) return type.map((t) => inline(t, named));
  return typeof type === 'string' && named.has(type) ? named.get(type) : type;
}
