import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/model/errors.js';
import { clientOptions, type KafkaSettings } from '../../src/kafka/settings.js';
import { ensureTopics } from '../../src/kafka/admin.js';
import { createKafkaProducer } from '../../src/kafka/producer.js';
import { silentLogger } from '../../src/ops/logger.js';

const base: KafkaSettings = {
  brokers: ['k1:9092', 'k2:9093'],
  clientId: 'tributary',
  producer: { compression: 'lz4', lingerMs: 5, batchBytes: 1_048_576 },
};

test('clientOptions maps brokers and suffixes the client id with the role', () => {
  const options = clientOptions(base, 'producer');
  assert.equal(options.clientId, 'tributary-producer');
  assert.deepEqual(options.bootstrapBrokers, ['k1:9092', 'k2:9093']);
  assert.equal('sasl' in options, false);
  assert.equal('tls' in options, false);
});

test('clientOptions maps SASL mechanisms to the client names', () => {
  for (const [mechanism, expected] of [
    ['plain', 'PLAIN'],
    ['scram-sha-256', 'SCRAM-SHA-256'],
    ['scram-sha-512', 'SCRAM-SHA-512'],
  ] as const) {
    const options = clientOptions({ ...base, sasl: { mechanism, username: 'u', password: 'p' } }, 'admin');
    assert.deepEqual(options.sasl, { mechanism: expected, username: 'u', password: 'p' });
  }
});

test('clientOptions reads the TLS PEM files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-tls-'));
  for (const name of ['ca', 'cert', 'key']) writeFileSync(join(dir, `${name}.pem`), `${name} pem`);
  const options = clientOptions(
    { ...base, tls: { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), rejectUnauthorized: false } },
    'admin',
  );
  assert.equal(options.tls?.rejectUnauthorized, false);
  assert.equal(String(options.tls?.ca), 'ca pem');
  assert.equal(String(options.tls?.cert), 'cert pem');
  assert.equal(String(options.tls?.key), 'key pem');
});

test('an unreadable TLS file is a ConfigError naming the setting', () => {
  assert.throws(
    () => clientOptions({ ...base, tls: { ca: '/nonexistent/ca.pem', rejectUnauthorized: true } }, 'admin'),
    (error: unknown) => error instanceof ConfigError && /kafka\.tls\.ca/.test(error.message) && /\/nonexistent\/ca\.pem/.test(error.message),
  );
});

test('ensureTopics rejects bad topic specs before connecting', async () => {
  const unreachable = { ...base, brokers: ['127.0.0.1:1'] };
  const cases = [
    { name: 'has space', partitions: 1, replicationFactor: 1 },
    { name: 'x'.repeat(250), partitions: 1, replicationFactor: 1 },
    { name: 'ok', partitions: 0, replicationFactor: 1 },
    { name: 'ok', partitions: 1.5, replicationFactor: 1 },
    { name: 'ok', partitions: 1, replicationFactor: 0 },
  ];
  for (const spec of cases) {
    await assert.rejects(ensureTopics(unreachable, [spec]), ConfigError, JSON.stringify(spec).slice(0, 60));
  }
  assert.deepEqual(await ensureTopics(unreachable, []), { created: [], existing: [] });
});

test('createKafkaProducer refuses a compression codec this Node lacks', async (t) => {
  const zlib = await import('node:zlib');
  if ('zstdCompressSync' in zlib) {
    t.skip('this Node has zstd');
    return;
  }
  assert.throws(
    () => createKafkaProducer({ ...base, producer: { ...base.producer, compression: 'zstd' } }, silentLogger()),
    (error: unknown) => error instanceof ConfigError && /kafka\.producer\.compression/.test(error.message),
  );
});

test('send([]) resolves without contacting a broker, and send after close is a bug', async () => {
  const producer = createKafkaProducer({ ...base, brokers: ['127.0.0.1:1'] }, silentLogger());
  await producer.send([]);
  await producer.close();
  await assert.rejects(producer.send([{ topic: 't', key: null, value: null }]), /after close/);
});
