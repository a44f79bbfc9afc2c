import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import diagnostics from 'node:diagnostics_channel';
import { Admin } from '@platformatic/kafka';
import { ConfigError, ConnectionError, TributaryError } from '../../src/model/errors.js';
import { silentLogger } from '../../src/ops/logger.js';
import { ensureTopics, probeBrokers } from '../../src/kafka/admin.js';
import { createKafkaProducer, type KafkaProducer, type ProducerRecord } from '../../src/kafka/producer.js';
import { LOCAL_BROKER, localKafkaSettings, readTopic, uniqueTopic } from '../support/kafka.js';

const settings = localKafkaSettings();
let producer: KafkaProducer;
let admin: Admin;

before(() => {
  producer = createKafkaProducer(settings, silentLogger());
  admin = new Admin({ clientId: 'tributary-test-admin', bootstrapBrokers: [LOCAL_BROKER] });
});

after(async () => {
  await producer.close();
  await admin.close();
});

async function freshTopic(prefix: string, partitions = 1): Promise<string> {
  const name = uniqueTopic(prefix);
  await ensureTopics(settings, [{ name, partitions, replicationFactor: 1 }]);
  return name;
}

/** The sum of the partitions' end offsets, read once, without waiting. */
async function endOffset(topic: string, partitions = 1): Promise<number> {
  const result = await admin.listOffsets({
    topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })) }],
  });
  return result.flatMap((t) => t.partitions).reduce((sum, p) => sum + Number(p.offset), 0);
}

const text = (buffer: Buffer | null): string | null => (buffer === null ? null : buffer.toString());

test('a batch reads back in order with keys, values, tombstones and headers', async () => {
  const topic = await freshTopic('kafka-order');
  const records: ProducerRecord[] = [
    { topic, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: { op: 'c' } },
    { topic, key: Buffer.from('k2'), value: Buffer.from('v2') },
    { topic, key: Buffer.from('k1'), value: Buffer.from('v1-updated'), headers: { op: 'u', 'x-trace': 'abc' } },
    { topic, key: Buffer.from('k1'), value: null },
    { topic, key: null, value: Buffer.from('no key') },
    { topic, key: Buffer.from('empty'), value: Buffer.alloc(0) },
  ];
  await producer.send(records);
  const read = await readTopic(topic, { until: (got) => got.length >= records.length });
  assert.deepEqual(
    read.map((r) => [text(r.key), text(r.value), r.headers]),
    [
      ['k1', 'v1', { op: 'c' }],
      ['k2', 'v2', {}],
      ['k1', 'v1-updated', { op: 'u', 'x-trace': 'abc' }],
      ['k1', null, {}],
      [null, 'no key', {}],
      ['empty', '', {}],
    ],
  );
  assert.deepEqual(
    read.map((r) => r.offset),
    [0n, 1n, 2n, 3n, 4n, 5n],
  );
});

test('send resolves only after the broker has acknowledged every record', async () => {
  const topic = await freshTopic('kafka-ack');
  const records = Array.from({ length: 5000 }, (_, i) => ({ topic, key: Buffer.from(`k${i}`), value: Buffer.alloc(200, i % 256) }));
  await producer.send(records);
  // Read once, no waiting: the log end offset already counts every record.
  assert.equal(await endOffset(topic), records.length);
});

test('concurrent send() calls all land, in call order (no sequence reuse)', async () => {
  const topic = await freshTopic('kafka-concurrent');
  const calls = Array.from({ length: 40 }, (_, call) =>
    producer.send(Array.from({ length: 25 }, (_, i) => ({ topic, key: Buffer.from('same-key'), value: Buffer.from(`${call}:${i}`) }))),
  );
  await Promise.all(calls);
  assert.equal(await endOffset(topic), 40 * 25);
  const read = await readTopic(topic, { until: (got) => got.length >= 1000 });
  const expected = Array.from({ length: 40 }, (_, call) => Array.from({ length: 25 }, (_, i) => `${call}:${i}`)).flat();
  assert.deepEqual(
    read.map((r) => text(r.value)),
    expected,
  );
});

test('a call larger than batchBytes is split into several requests and still lands whole and in order', async () => {
  const small = createKafkaProducer(localKafkaSettings({ batchBytes: 16_384, lingerMs: 2 }), silentLogger());
  try {
    const topic = await freshTopic('kafka-split');
    const records = Array.from({ length: 500 }, (_, i) => ({ topic, key: Buffer.from(`k${i % 7}`), value: Buffer.from(`${i}`.padStart(300, '.')) }));
    await small.send(records);
    assert.equal(await endOffset(topic), 500);
    const read = await readTopic(topic, { until: (got) => got.length >= 500 });
    assert.deepEqual(
      read.map((r) => Number(text(r.value)!.replace(/^\.+/, ''))),
      records.map((_, i) => i),
    );
  } finally {
    await small.close();
  }
});

test('a request whose answer is lost is resent with the same sequence numbers, and the broker writes it once', async () => {
  const topic = await freshTopic('kafka-lost-answer', 3);
  const records = Array.from({ length: 300 }, (_, i) => ({ topic, key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`) }));
  // The first Produce request reaches the broker, but its connection stops reading and dies before the answer.
  const PRODUCE = 0;
  let produceRequests = 0;
  const onRequest = (message: unknown): void => {
    const { apiKey, connection } = message as { apiKey: number; connection: { socket: Socket } };
    if (apiKey !== PRODUCE || produceRequests++ > 0) return;
    connection.socket.pause();
    setTimeout(() => connection.socket.destroy(), 500);
  };
  diagnostics.subscribe('tracing:plt:kafka:connections:api:start', onRequest);
  try {
    await producer.send(records);
  } finally {
    diagnostics.unsubscribe('tracing:plt:kafka:connections:api:start', onRequest);
  }
  assert.ok(produceRequests >= 2, `${produceRequests} produce requests`);
  assert.equal(await endOffset(topic, 3), records.length);
});

test('keys go to the partition the Java client picks (murmur2), keeping per-key order', async () => {
  const topic = await freshTopic('kafka-partitions', 3);
  // Expected partitions computed with org.apache.kafka.common.utils.Utils.murmur2/toPositive from kafka-clients 4.1.1.
  const javaPartition: Record<string, number> = {
    '{"id":1}': 0,
    '{"id":2}': 1,
    '{"id":3}': 0,
    a: 1,
    'customer-42': 0,
    'Struct{id=7}': 2,
    zzzzzzzzzz: 1,
    tributary: 1,
  };
  const keys = Object.keys(javaPartition);
  const records = Array.from({ length: 80 }, (_, i) => ({ topic, key: Buffer.from(keys[i % keys.length]!), value: Buffer.from(String(i)) }));
  await producer.send(records);
  const read = await readTopic(topic, { until: (got) => got.length >= records.length });
  for (const record of read) assert.equal(record.partition, javaPartition[text(record.key)!], text(record.key)!);
  for (const key of keys) {
    const values = read.filter((r) => text(r.key) === key).map((r) => Number(text(r.value)));
    assert.deepEqual(values, [...values].sort((x, y) => x - y), key);
  }
});

test('close() waits for queued records', async () => {
  const lingering = createKafkaProducer(localKafkaSettings({ lingerMs: 50 }), silentLogger());
  const topic = await freshTopic('kafka-close');
  const sent = lingering.send([{ topic, key: Buffer.from('k'), value: Buffer.from('v') }]);
  await lingering.close();
  await sent;
  assert.equal(await endOffset(topic), 1);
});

test('a send to a missing topic fails clearly, and the producer keeps working', async () => {
  const missing = uniqueTopic('kafka-missing');
  const quick = createKafkaProducer(settings, silentLogger());
  try {
    await assert.rejects(quick.send([{ topic: missing, key: null, value: Buffer.from('x') }]), (error: unknown) => {
      assert.ok(error instanceof TributaryError);
      assert.equal(error.retriable, false);
      assert.match(error.message, new RegExp(missing));
      assert.match(error.fix ?? '', /create the topic/);
      return true;
    });
    const topic = await freshTopic('kafka-after-failure');
    await quick.send([{ topic, key: Buffer.from('k'), value: Buffer.from('after') }]);
    assert.equal(await endOffset(topic), 1);
  } finally {
    await quick.close();
  }
});

test('ensureTopics creates with configs, accepts existing topics and explains refusals', async () => {
  const name = uniqueTopic('kafka-ensure');
  const spec = { name, partitions: 2, replicationFactor: 1, config: { 'cleanup.policy': 'compact' } };
  assert.deepEqual(await ensureTopics(settings, [spec]), { created: [name], existing: [] });
  assert.deepEqual(await ensureTopics(settings, [spec]), { created: [], existing: [name] });
  const [config] = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: name, configurationKeys: ['cleanup.policy'] }] });
  assert.equal(config?.configs.find((c) => c.name === 'cleanup.policy')?.value, 'compact');
  const metadata = await admin.metadata({ topics: [name] });
  assert.equal(metadata.topics.get(name)?.partitionsCount, 2);

  await assert.rejects(
    ensureTopics(settings, [{ name: uniqueTopic('kafka-rf'), partitions: 1, replicationFactor: 3 }]),
    (error: unknown) => error instanceof ConfigError && /INVALID_REPLICATION_FACTOR/.test(error.message) && /replication factor \(3/.test(error.fix ?? ''),
  );
});

test('probeBrokers returns the cluster id and brokers', async () => {
  const info = await probeBrokers(settings, 5000);
  assert.ok(info.clusterId.length > 0);
  assert.ok(info.brokers.some((b) => `${b.host}:${b.port}` === LOCAL_BROKER));
  assert.ok(info.brokers.some((b) => b.nodeId === info.controllerId) || info.controllerId >= 0);
});

test('probeBrokers against a closed port fails fast with a ConnectionError naming the broker and the fix', async () => {
  const started = Date.now();
  await assert.rejects(probeBrokers({ ...settings, brokers: ['127.0.0.1:1'] }, 3000), (error: unknown) => {
    assert.ok(error instanceof ConnectionError);
    assert.equal(error.retriable, true);
    assert.match(error.message, /127\.0\.0\.1:1/);
    assert.match(error.fix ?? '', /kafka\.brokers/);
    return true;
  });
  assert.ok(Date.now() - started < 3500, `took ${Date.now() - started} ms`);
});

test('probeBrokers gives up after timeoutMs on a listener that never answers', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const { port } = silent.address() as { port: number };
  try {
    const started = Date.now();
    await assert.rejects(probeBrokers({ ...settings, brokers: [`127.0.0.1:${port}`] }, 1000), (error: unknown) => {
      assert.ok(error instanceof ConnectionError);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.match(error.message, /1000 ms/);
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 900 && elapsed < 3000, `took ${elapsed} ms`);
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});
