/**
 * Confluent's wire format for Kafka record keys and values: magic byte 0, the registry schema id as a 4-byte
 * big-endian integer, then the Avro binary encoding.
 */
import { AvroValueError } from './errors.js';

const MAGIC = 0;
const HEADER_BYTES = 5;

export function frame(schemaId: number, payload: Uint8Array): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) {
    throw new AvroValueError(`schema id ${schemaId} is not a registry id (0 to 2^31-1)`);
  }
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt8(MAGIC, 0);
  out.writeInt32BE(schemaId, 1);
  out.set(payload, HEADER_BYTES);
  return out;
}

export function unframe(message: Uint8Array): { schemaId: number; payload: Buffer } {
  const buf = Buffer.isBuffer(message) ? message : Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (buf.length < HEADER_BYTES || buf[0] !== MAGIC) {
    throw new AvroValueError(
      `message of ${buf.length} bytes is not in Confluent wire format (magic byte 0 and a 4-byte schema id)`,
      { fix: 'check that the topic holds Avro records written with a schema-registry serializer' },
    );
  }
  return { schemaId: buf.readInt32BE(1), payload: buf.subarray(HEADER_BYTES) };
}
