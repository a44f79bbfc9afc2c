import { test } from 'node:test';
import assert from 'node:assert/strict';
import { produceV9, type MessageRecord } from '@platformatic/kafka';
import { createProduceRequest } from '../../src/kafka/produce-request.js';
import { encodeRecordBatch } from '../../src/kafka/record-batch.js';
import { checkProduceVersion } from '../../src/kafka/produce-session.js';
import { TributaryError } from '../../src/model/errors.js';

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

test('brokers that do not speak Produce v9 are refused, naming the brokers and the fix', () => {
  const brokers = ['127.0.0.1:9092'];
  assert.doesNotThrow(() => checkProduceVersion([{ apiKey: 0, minVersion: 3, maxVersion: 12 }], brokers));
  for (const apis of [[{ apiKey: 0, minVersion: 0, maxVersion: 8 }], [{ apiKey: 0, minVersion: 10, maxVersion: 13 }], [{ apiKey: 1, minVersion: 0, maxVersion: 17 }]]) {
    assert.throws(
      () => checkProduceVersion(apis, brokers),
      (error: unknown) => error instanceof TributaryError && /127\.0\.0\.1:9092 speak Produce/.test(error.message) && /Kafka 2\.4 or newer/.test(error.fix ?? ''),
    );
  }
});
