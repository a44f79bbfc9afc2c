/**
 * Kafka's v2 RecordBatch (magic 2), the unit the broker stores and deduplicates: one partition's records,
 * encoded into one Buffer. Sizes are counted first and the records written in place, so a batch costs one
 * allocation (two when compressed) however many records it holds; @platformatic/kafka's createRecordsBatch builds a
 * Writer and several small Buffers per record and copies them twice.
 *
 * Every record carries the batch's timestamp (timestampDelta 0): with CreateTime the broker keeps the producer's
 * timestamps as given, and one timestamp per batch is what @platformatic/kafka sent too (one Date.now() per
 * request).
 *
 * Layout (https://kafka.apache.org/documentation/#recordbatch): baseOffset int64, batchLength int32,
 * partitionLeaderEpoch int32, magic int8, crc uint32 (CRC-32C of attributes..end), attributes int16,
 * lastOffsetDelta int32, baseTimestamp int64, maxTimestamp int64, producerId int64, producerEpoch int16,
 * baseSequence int32, records count int32, then the records, compressed as a whole when a codec is set. A record:
 * length varint, attributes int8, timestampDelta varlong, offsetDelta varint, key (varint length, -1 for null),
 * value (same), header count varint, then each header's key and value as varint length and bytes.
 */
import { compressionsAlgorithms, crc32c } from '@platformatic/kafka';
import { invariant } from '../model/errors.js';
import type { KafkaCompression } from './settings.js';

export interface BatchRecord {
  readonly key: Buffer | null;
  /** null writes a tombstone. */
  readonly value: Buffer | null;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RecordBatchFields {
  /** Milliseconds since the epoch: every record's CreateTime. */
  readonly timestamp: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /** The sequence number of the first record; the broker drops a batch whose sequences it already has. */
  readonly baseSequence: number;
  readonly compression: KafkaCompression;
}

const MAGIC = 2;
/** The broker sets the leader epoch; producers send -1 (RecordBatch.NO_PARTITION_LEADER_EPOCH). */
const NO_PARTITION_LEADER_EPOCH = -1;
const BATCH_LENGTH_OFFSET = 8;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
/** The bytes before the records: the CRC covers everything from ATTRIBUTES_OFFSET to the batch's end. */
const HEADER_BYTES = 61;
/** The 12 bytes before the leader epoch (baseOffset, batchLength) are not part of batchLength. */
const LOG_OVERHEAD = 12;

/** Uncompressed records of a compressed batch are written here first: compressSync copies, never keeps, its input. */
let scratch = Buffer.allocUnsafe(64 * 1024);
/** Each record's body size, from the sizing pass for the writing pass. */
let bodySizes = new Int32Array(1024);

export function encodeRecordBatch(records: readonly BatchRecord[], fields: RecordBatchFields): Buffer {
  invariant(records.length > 0, 'a record batch needs at least one record');
  if (bodySizes.length < records.length) bodySizes = new Int32Array(Math.max(records.length, bodySizes.length * 2));
  let recordsBytes = 0;
  for (let i = 0; i < records.length; i++) {
    const body = recordBodyBytes(records[i]!, i);
    bodySizes[i] = body;
    recordsBytes += varintBytes(body) + body;
  }

  let batch: Buffer;
  let attributes = 0;
  if (fields.compression === 'none') {
    batch = Buffer.allocUnsafe(HEADER_BYTES + recordsBytes);
    writeRecords(records, batch, HEADER_BYTES);
  } else {
    const codec = compressionsAlgorithms[fields.compression];
    if (scratch.length < recordsBytes) scratch = Buffer.allocUnsafe(Math.max(recordsBytes, scratch.length * 2));
    const plain = scratch.subarray(0, recordsBytes);
    writeRecords(records, plain, 0);
    const compressed = codec.compressSync(plain);
    batch = Buffer.allocUnsafe(HEADER_BYTES + compressed.length);
    compressed.copy(batch, HEADER_BYTES);
    attributes = codec.bitmask;
  }

  const timestamp = BigInt(fields.timestamp);
  batch.writeBigInt64BE(0n, 0);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  batch.writeInt32BE(NO_PARTITION_LEADER_EPOCH, 12);
  batch.writeInt8(MAGIC, 16);
  batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(records.length - 1, 23);
  batch.writeBigInt64BE(timestamp, 27);
  batch.writeBigInt64BE(timestamp, 35);
  batch.writeBigInt64BE(fields.producerId, 43);
  batch.writeInt16BE(fields.producerEpoch, 51);
  batch.writeInt32BE(fields.baseSequence, 53);
  batch.writeInt32BE(records.length, 57);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return batch;
}

/** A record's bytes after its length prefix. */
function recordBodyBytes(record: BatchRecord, offsetDelta: number): number {
  // attributes and timestampDelta (0) take one byte each.
  let bytes = 2 + varintBytes(offsetDelta) + bytesFieldBytes(record.key) + bytesFieldBytes(record.value);
  let count = 0;
  const { headers } = record;
  if (headers !== undefined) {
    for (const name in headers) {
      const nameBytes = Buffer.byteLength(name);
      const valueBytes = Buffer.byteLength(headers[name]!);
      bytes += varintBytes(nameBytes) + nameBytes + varintBytes(valueBytes) + valueBytes;
      count++;
    }
  }
  return bytes + varintBytes(count);
}

function writeRecords(records: readonly BatchRecord[], target: Buffer, start: number): void {
  let at = start;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    at = writeVarint(target, at, bodySizes[i]!);
    target[at++] = 0; // attributes: unused
    target[at++] = 0; // timestampDelta: every record has the batch's timestamp
    at = writeVarint(target, at, i);
    at = writeBytesField(target, at, record.key);
    at = writeBytesField(target, at, record.value);
    const { headers } = record;
    if (headers === undefined) {
      target[at++] = 0;
      continue;
    }
    let count = 0;
    for (const _ in headers) count++;
    at = writeVarint(target, at, count);
    for (const name in headers) {
      at = writeStringField(target, at, name);
      at = writeStringField(target, at, headers[name]!);
    }
  }
  invariant(at === target.length, `record batch: wrote ${at - start} bytes of records, sized ${target.length - start}`);
}

function bytesFieldBytes(data: Buffer | null): number {
  return data === null ? 1 : varintBytes(data.length) + data.length;
}

function writeBytesField(target: Buffer, at: number, data: Buffer | null): number {
  if (data === null) return writeVarint(target, at, -1);
  at = writeVarint(target, at, data.length);
  return at + data.copy(target, at);
}

function writeStringField(target: Buffer, at: number, text: string): number {
  at = writeVarint(target, at, Buffer.byteLength(text));
  return at + target.write(text, at);
}

/** Kafka's varint: zigzag-encoded int32, 7 bits a byte, least significant first. */
function varintBytes(value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while (zigzag >= 0x80) {
    zigzag >>>= 7;
    bytes++;
  }
  return bytes;
}

function writeVarint(target: Buffer, at: number, value: number): number {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  while (zigzag >= 0x80) {
    target[at++] = (zigzag & 0x7f) | 0x80;
    zigzag >>>= 7;
  }
  target[at++] = zigzag;
  return at;
}
