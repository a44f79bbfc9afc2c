/**
 * Debezium's transaction metadata topic (`<prefix>.transaction`): key TransactionMetadataKey {id}, value
 * TransactionMetadataValue {status, id, event_count, data_collections, ts_ms}, as SchemaFactory and
 * AbstractTransactionStructMaker build them. BEGIN carries no counts; END carries the total and per-table counts.
 */
import type avro from 'avsc';
import type { TransactionEvent } from '../model/change.js';
import { array, field, optional, primitive, struct } from './connect-schema.js';
import { avroTypeFor } from './avro-type.js';

export interface TransactionSchemas {
  readonly topic: string;
  readonly key: avro.Type;
  readonly value: avro.Type;
}

const keySchema = struct('io.debezium.connector.common.TransactionMetadataKey', [field('id', primitive('string'))], {
  version: 1,
});

const valueSchema = struct(
  'io.debezium.connector.common.TransactionMetadataValue',
  [
    field('status', primitive('string')),
    field('id', primitive('string')),
    field('event_count', primitive('int64', true)),
    field(
      'data_collections',
      optional(
        array(
          optional(
            struct(
              'event.collection',
              [field('data_collection', primitive('string')), field('event_count', primitive('int64'))],
              { version: 1 },
            ),
          ),
        ),
      ),
    ),
    field('ts_ms', primitive('int64')),
  ],
  { version: 1 },
);

/** `prefix` is the topic prefix (the logical server name); topic.transaction keeps its default, "transaction". */
export function buildTransactionSchemas(prefix: string): TransactionSchemas {
  return { topic: `${prefix}.transaction`, key: avroTypeFor(keySchema), value: avroTypeFor(valueSchema) };
}

export function encodeTransactionKey(schemas: TransactionSchemas, event: TransactionEvent): Buffer {
  return schemas.key.toBuffer({ id: event.id });
}

export function encodeTransactionValue(schemas: TransactionSchemas, event: TransactionEvent): Buffer {
  const common = { status: event.type === 'begin' ? 'BEGIN' : 'END', id: event.id };
  if (event.type === 'begin') {
    return schemas.value.toBuffer({ ...common, event_count: null, data_collections: null, ts_ms: BigInt(event.tsMs) });
  }
  const counts = [...(event.counts ?? new Map<string, number>())];
  return schemas.value.toBuffer({
    ...common,
    event_count: BigInt(counts.reduce((sum, [, n]) => sum + n, 0)),
    data_collections: counts.map(([name, n]) => ({ data_collection: name, event_count: BigInt(n) })),
    ts_ms: BigInt(event.tsMs),
  });
}
