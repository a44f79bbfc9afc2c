/**
 * Confluent's wire format for Kafka record keys and values: magic byte 0, the registry schema id as a 4-byte
 * big-endian integer, then the Avro binary encoding.
 */
import { AvroValueError } from './errors.js';

export const WIRE_MAGIC = 0;
export const WIRE_HEADER_BYTES = 5;

export function checkSchemaId(schemaId: number): void {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) {
    throw new AvroValueError(`schema id ${schemaId} is not a registry id (0 to 2^31-1)`);
  }
}

export function frame(schemaId: number, payload: Uint8Array): Buffer {
  checkSchemaId(schemaId);
  const out = Buffer.allocUnsafe(WIRE_HEADER_BYTES + payload.length);
  out.writeUInt8(WIRE_MAGIC, 0);
  out.writeInt32BE(schemaId, 1);
  out.set(payload, WIRE_HEADER_BYTES);
  return out;
}

export function unframe(message: Uint8Array): { schemaId: number; payload: Buffer } {
  const buf = Buffer.isBuffer(message) ? message : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (buf.length < WIRE_HEADER_BYTES || buf[0] !== WIRE_MAGIC) {
    throw new AvroValueError(
      `message of ${buf.length} bytes is not in Confluent wire format (magic byte 0 and a 4-byte schema id)`,
      { fix: 'check that the topic holds Avro records written with a schema-registry serializer' },
    );
  }
  return { schemaId: buf.readInt32BE(1), payload: buf.subarray(WIRE_HEADER_BYTES) };
}
