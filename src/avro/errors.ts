import { TributaryError } from '../model/errors.js';

/** A table or name cannot be expressed as a Debezium Avro schema (an invalid Avro name, an unsupported type). */
export class AvroSchemaError extends TributaryError {}

/** A row value does not fit its column's schema (too many decimal digits, null in a NOT NULL column, wrong type). */
export class AvroValueError extends TributaryError {}
