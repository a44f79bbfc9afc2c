import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compressionsAlgorithms, createRecordsBatch, Reader, readRecordsBatch, type MessageRecord } from '@platformatic/kafka';
import { encodeRecordBatch, type BatchRecord, type RecordBatchFields } from '../../src/kafka/record-batch.js';
import type { KafkaCompression } from '../../src/kafka/settings.js';

const TIMESTAMP = 1_767_225_600_123;
const FIELDS: RecordBatchFields = { timestamp: TIMESTAMP, producerId: 4_000_000_123n, producerEpoch: 3, baseSequence: 41, compression: 'none' };

const b = (text: string): Buffer => Buffer.from(text);

/** @platformatic/kafka's encoder, given the same records, timestamp and producer fields: the oracle. */
function platformaticBatch(records: readonly BatchRecord[], fields: RecordBatchFields): Buffer {
  const messages = records.map(
    (record): MessageRecord => ({
      topic: 't',
      partition: 0,
      timestamp: BigInt(fields.timestamp),
      // The client writes an absent key or value as null (-1).
      ...(record.key === null ? {} : { key: record.key }),
      value: record.value as Buffer,
      headers: new Map(Object.entries(record.headers ?? {}).map(([name, value]) => [b(name), b(value)])),
    }),
  );
  return createRecordsBatch(messages, {
    compression: fields.compression,
    producerId: fields.producerId,
    producerEpoch: fields.producerEpoch,
    sequences: { getWithDefault: () => fields.baseSequence } as never,
    partitionLeaderEpoch: -1,
  }).buffer;
}

const many = (count: number, valueBytes: number): BatchRecord[] =>
  Array.from({ length: count }, (_, i) => ({ key: b(`key-${i}`), value: Buffer.alloc(valueBytes, i % 251) }));

const cases: [string, BatchRecord[], Partial<RecordBatchFields>][] = [
  ['one record', [{ key: b('k'), value: b('v') }], {}],
  ['a null key', [{ key: null, value: b('keyless') }], {}],
  ['a tombstone (null value)', [{ key: b('k'), value: null }], {}],
  ['an empty key and an empty value (length 0, not null)', [{ key: Buffer.alloc(0), value: Buffer.alloc(0) }], {}],
  [
    'headers, multi-byte UTF-8 and an empty value among them',
    [
      { key: b('k1'), value: b('v1'), headers: { op: 'c', 'x-trace': 'abc' } },
      { key: b('k2'), value: b('v2'), headers: {} },
      { key: b('k3'), value: b('v3'), headers: { 'schlüssel-ß': 'wert-€', empty: '' } },
    ],
    {},
  ],
  ['two-byte length varints (value of 200 bytes)', [{ key: b('k'), value: Buffer.alloc(200, 7) }], {}],
  ['three-byte length varints (value of 20 000 bytes)', [{ key: Buffer.alloc(70, 1), value: Buffer.alloc(20_000, 9) }], {}],
  ['multi-byte offset deltas (300 records)', many(300, 10), {}],
  ['a sequence near the int32 limit and a large producer id', many(3, 5), { baseSequence: 0x7fffffff - 2, producerId: 0x7fff_ffff_ffff_fff0n, producerEpoch: 32_767 }],
  ['a fresh session (sequence 0)', many(2, 5), { baseSequence: 0, producerEpoch: 0 }],
];

const codecs: KafkaCompression[] = ['none', 'lz4', 'gzip', 'snappy', ...(compressionsAlgorithms.zstd.available ? (['zstd'] as const) : [])];

describe('encodeRecordBatch', () => {
  for (const compression of codecs) {
    for (const [name, records, overrides] of cases) {
      const fields = { ...FIELDS, ...overrides, compression };
      it(`${compression}: ${name} is byte for byte what @platformatic/kafka writes`, () => {
        assert.deepEqual(encodeRecordBatch(records, fields), platformaticBatch(records, fields));
      });
    }
  }

  it('a compressed batch larger than the scratch buffer (64 KiB) is still exact', () => {
    const records = many(500, 400);
    const fields = { ...FIELDS, compression: 'lz4' as const };
    assert.deepEqual(encodeRecordBatch(records, fields), platformaticBatch(records, fields));
  });

  for (const compression of ['none', 'lz4'] as const) {
    it(`${compression}: reads back with @platformatic/kafka's reader, every record at the batch timestamp`, () => {
      const records: BatchRecord[] = [
        { key: b('k1'), value: b('v1'), headers: { op: 'u' } },
        { key: null, value: b('keyless') },
        { key: b('k1'), value: null },
        ...many(100, 30),
      ];
      const encoded = encodeRecordBatch(records, { ...FIELDS, compression });
      const batch = readRecordsBatch(Reader.from(encoded));
      assert.equal(batch.magic, 2);
      assert.equal(batch.length, encoded.length - 12);
      assert.equal(batch.partitionLeaderEpoch, -1);
      assert.equal(batch.attributes, compressionsAlgorithms[compression].bitmask);
      assert.equal(batch.lastOffsetDelta, records.length - 1);
      assert.equal(batch.firstTimestamp, BigInt(TIMESTAMP));
      assert.equal(batch.maxTimestamp, BigInt(TIMESTAMP));
      assert.equal(batch.producerId, FIELDS.producerId);
      assert.equal(batch.producerEpoch, FIELDS.producerEpoch);
      assert.equal(batch.firstSequence, FIELDS.baseSequence);
      assert.deepEqual(
        batch.records.map((record) => [record.offsetDelta, record.timestampDelta, record.key, record.value, record.headers.map(([name, value]) => [String(name), String(value)])]),
        records.map((record, i) => [i, 0n, record.key, record.value, Object.entries(record.headers ?? {})]),
      );
    });
  }

  it('refuses an empty batch', () => {
    assert.throws(() => encodeRecordBatch([], FIELDS), /at least one record/);
  });
});
