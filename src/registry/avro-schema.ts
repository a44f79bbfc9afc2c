/**
 * Parsing, validation and normalisation of posted Avro schema texts. Normalising is a JSON round trip, not
 * Avro's canonical form: the canonical form drops `connect.*` and `doc` properties that Debezium consumers read,
 * so two texts count as the same schema when they are the same JSON, whitespace aside.
 */
import avro from 'avsc';

export class InvalidSchemaError extends Error {}

export interface ParsedAvroSchema {
  /** Compact JSON, the form stored and compared. */
  readonly text: string;
  readonly type: avro.Type;
}

export function parseAvroSchema(schemaText: string): ParsedAvroSchema {
  let json: unknown;
  try {
    json = JSON.parse(schemaText);
  } catch (error) {
    throw new InvalidSchemaError(`Invalid schema: not JSON (${(error as Error).message})`);
  }
  return { text: JSON.stringify(json), type: avroType(json) };
}

/** Builds the avsc type of already-parsed schema JSON (e.g. stored text), reporting failures as invalid schemas. */
export function avroType(json: unknown): avro.Type {
  try {
    return avro.Type.forSchema(json as avro.Schema);
  } catch (error) {
    throw new InvalidSchemaError(`Invalid schema: ${(error as Error).message}`);
  }
}
