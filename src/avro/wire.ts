/**
 * Confluent's wire format for Kafka record keys and values: magic byte 0, the registry schema id as a 4-byte
 * big-endian integer, then the Avro binary encoding.
 */
import type avro from 'avsc';
import { AvroValueError } from './errors.js';

const MAGIC = 0;
const HEADER_BYTES = 5;

function checkSchemaId(schemaId: number): void {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > 0x7fffffff) {
    throw new AvroValueError(`schema id ${schemaId} is not a registry id (0 to 2^31-1)`);
  }
}

export function frame(schemaId: number, payload: Uint8Array): Buffer {
  checkSchemaId(schemaId);
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt8(MAGIC, 0);
  out.writeInt32BE(schemaId, 1);
  out.set(payload, HEADER_BYTES);
  return out;
}

/** Where framed values are written before being copied out; it grows to the largest value seen. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * `value` written by `type` behind the header, as frame(schemaId, type.toBuffer(value)) but with one small
 * allocation instead of a zero-filled intermediate Buffer and a second copy: this runs for every event.
 */
export function encodeFramed(type: avro.Type, schemaId: number, value: unknown): Buffer {
  checkSchemaId(schemaId);
  let end = type.encode(value, scratch, HEADER_BYTES);
  while (end < 0) {
    scratch = Buffer.allocUnsafe(2 * (scratch.length - end));
    end = type.encode(value, scratch, HEADER_BYTES);
  }
  scratch.writeUInt8(MAGIC, 0);
  scratch.writeInt32BE(schemaId, 1);
  const out = Buffer.allocUnsafe(end);
  scratch.copy(out, 0, 0, end);
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
