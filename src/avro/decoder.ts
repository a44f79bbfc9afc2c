/**
 * Decodes Confluent-framed Avro records (magic 0, schema id, Avro binary) with the writer schema fetched from a
 * registry by id. Types are built once per schema id, with longs as exact bigints (avro-type.ts), so decoding a
 * record after the first of its schema costs no I/O.
 */
import type avro from 'avsc';
import { TributaryError } from '../model/errors.js';
import { typeFromJson } from './avro-type.js';
import type { AvroSchemaJson } from './avro-data.js';
import { unframe } from './wire.js';

/** What the decoder needs of a schema registry. */
export interface SchemaSource {
  getById(id: number): Promise<object | string>;
}

export interface DecodedRecord {
  readonly schemaId: number;
  /** The writer schema as the registry returned it (parsed JSON). */
  readonly schema: AvroSchemaJson;
  readonly value: unknown;
}

/** A record's schema id is unknown to the registry, or its schema cannot be read. */
export class SchemaLookupError extends TributaryError {}

export interface CachedSchema {
  readonly schema: AvroSchemaJson;
  readonly type: avro.Type;
}

export class RegistryAvroDecoder {
  private readonly schemas = new Map<number, Promise<CachedSchema>>();
  /** The schemas already fetched, so that most records decode without a promise. */
  private readonly ready = new Map<number, CachedSchema>();

  constructor(private readonly registry: SchemaSource) {}

  /** `what` names the record for messages, e.g. `value of orders[0]@42`. */
  async decode(message: Uint8Array, what: string): Promise<DecodedRecord> {
    const known = this.decodeKnown(message);
    if (known !== undefined) return known;
    const { schemaId, payload } = unframe(message);
    const { schema, type } = await this.schemaFor(schemaId, what);
    return { schemaId, schema, value: type.fromBuffer(payload) };
  }

  /** Decodes without I/O when the record's schema was fetched before; undefined otherwise. */
  decodeKnown(message: Uint8Array): DecodedRecord | undefined {
    const { schemaId, payload } = unframe(message);
    const cached = this.ready.get(schemaId);
    return cached === undefined ? undefined : { schemaId, schema: cached.schema, value: cached.type.fromBuffer(payload) };
  }

  schemaFor(schemaId: number, what: string): Promise<CachedSchema> {
    let cached = this.schemas.get(schemaId);
    if (cached === undefined) {
      cached = this.load(schemaId, what);
      this.schemas.set(schemaId, cached);
      // A failed lookup (registry down) must not stick: the next record tries again.
      cached.catch(() => this.schemas.delete(schemaId));
    }
    return cached;
  }

  private async load(schemaId: number, what: string): Promise<CachedSchema> {
    let schema: AvroSchemaJson;
    try {
      schema = (await this.registry.getById(schemaId)) as AvroSchemaJson;
    } catch (error) {
      const retriable = error instanceof TributaryError && error.retriable;
      throw new SchemaLookupError(`schema id ${schemaId} of the ${what} could not be fetched from the schema registry`, {
        cause: error,
        retriable,
        fix: retriable
          ? 'check that the schema registry is reachable'
          : 'point registry.url at the registry the topic was written with (the id is not registered there)',
      });
    }
    const cached = { schema, type: typeFromJson(schema) };
    this.ready.set(schemaId, cached);
    return cached;
  }
}
