/** Debezium-compatible Avro encoding of change events: the public surface of src/avro. */
export {
  AvroEventEncoder,
  DEBEZIUM_FORMAT_VERSION,
  buildKeySchema,
  buildValueSchema,
  type AvroEncoderOptions,
} from './encoder.js';
export { schemaJson } from './avro-type.js';
export { frame, unframe } from './wire.js';
export {
  buildTransactionSchemas,
  encodeTransactionKey,
  encodeTransactionValue,
  type TransactionSchemas,
} from './transaction.js';
export { UNAVAILABLE_PLACEHOLDER, fromTwosComplement } from './values.js';
export type { SourceKind } from './connect-types.js';
export { AvroSchemaError, AvroValueError } from './errors.js';
