import { test } from 'node:test';
import assert from 'node:assert/strict';
import { produceV9, type MessageRecord } from '@platformatic/kafka';
import { createProduceRequest } from '../../src/kafka/produce-request.js';
import { encodeRecordBatch } from '../../src/kafka/record-batch.js';

const TIMESTAMP = 1_767_225_600_123;
const PRODUCER = { producerId: 77n, producerEpoch: 2 };

/** Per topic, per partition, the values written and the partition's base sequence. */
const LAYOUT: Record<string, Record<number, { values: string[]; baseSequence: number }>> = {
  'orders.public.items': { 0: { values: ['a', 'b'], baseSequence: 10 }, 2: { values: ['c'], baseSequence: 0 } },
  'orders.public.customers': { 1: { values: ['d', 'e', 'f'], baseSequence: 5 } },
};

test('a request of several topics and partitions is byte for byte what @platformatic/kafka sends', () => {
  const messages: MessageRecord[] = [];
  for (const [topic, partitions] of Object.entries(LAYOUT)) {
    for (const [partition, { values }] of Object.entries(partitions)) {
      for (const value of values) messages.push({ topic, partition: Number(partition), key: Buffer.from(`k-${value}`), value: Buffer.from(value), headers: new Map(), timestamp: BigInt(TIMESTAMP) });
    }
  }
  const sequences = { getWithDefault: (key: string) => LAYOUT[key.slice(0, key.lastIndexOf(':'))]![Number(key.slice(key.lastIndexOf(':') + 1))]!.baseSequence };
  const expected = produceV9.createRequest(-1, 30_000, messages, { ...PRODUCER, compression: 'lz4', sequences: sequences as never, partitionLeaderEpoch: -1 }).buffer;

  const topics = Object.entries(LAYOUT).map(([topic, partitions]) => ({
    topic,
    partitions: Object.entries(partitions).map(([partition, { values, baseSequence }]) => ({
      partition: Number(partition),
      batch: encodeRecordBatch(
        values.map((value) => ({ key: Buffer.from(`k-${value}`), value: Buffer.from(value) })),
        { ...PRODUCER, timestamp: TIMESTAMP, baseSequence, compression: 'lz4' },
      ),
    })),
  }));
  assert.deepEqual(createProduceRequest(-1, 30_000, topics).buffer, expected);
});
