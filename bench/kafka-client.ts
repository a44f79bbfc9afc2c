/**
 * Which Kafka client should Tributary produce with? Measures kafkajs and @platformatic/kafka against the real
 * local broker, each in its own child process so that peak RSS belongs to one client only, next to the broker's
 * own Java ProducerPerformance tool as the physical limit of this machine.
 *
 *   node --import tsx bench/kafka-client.ts [--messages 1000000] [--partitions 1,3] [--batch 2000] [--window 8]
 *     [--platformatic-window 1] [--only java,java-tuned,kafkajs,platformatic,tributary]
 *
 * `--window` is how many send() calls of `--batch` messages each are outstanding at once (kafkajs and
 * Tributary's producer); raw @platformatic/kafka gets `--platformatic-window`, 1 by default, see runPlatformatic.
 *
 * Every run: a fresh topic, keyed ~300-byte messages, idempotent producer, acks=all, timed until the last
 * message is acknowledged. After each run the topic's end offsets are read back and must add up to the number
 * of messages sent, so a client that acknowledges messages it silently dropped cannot look fast.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Admin, Producer, compatibilityPartitioner, type CompressionAlgorithmValue } from '@platformatic/kafka';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { javaProducerPerformance, runProcess, vmHwmMb } from './lib/kafka-tools.js';

const BROKER = '127.0.0.1:9092';
const JAVA_TUNING = ['batch.size=524288', 'linger.ms=10'];
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const versionOf = (pkg: string): string =>
  (JSON.parse(readFileSync(`${ROOT}/node_modules/${pkg}/package.json`, 'utf8')) as { version: string }).version;

interface RunResult {
  readonly label: string;
  readonly partitions: number;
  readonly messages: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly peakRssMb: number;
  readonly landed: number;
  readonly note?: string;
}

interface ChildSpec {
  readonly client: 'kafkajs' | 'platformatic' | 'tributary';
  readonly compression: string;
  readonly topic: string;
  readonly messages: number;
  readonly batch: number;
  readonly window: number;
}

// ------------------------------------------------------------------------------------------ payload

/** JSON-ish rows of ~300 bytes with a random part, so compression sees something like real change events. */
function valuePool(size: number): Buffer[] {
  const pool: Buffer[] = [];
  for (let i = 0; i < size; i++) {
    const row = {
      id: i,
      customer: `customer-${randomBytes(6).toString('hex')}`,
      email: `${randomBytes(5).toString('hex')}@example.com`,
      status: ['new', 'paid', 'shipped', 'cancelled'][i % 4],
      amount: (i * 7.31).toFixed(2),
      note: randomBytes(48).toString('base64'),
      updated_at: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    };
    const text = JSON.stringify(row);
    pool.push(Buffer.from(text.padEnd(300, ' ').slice(0, 300)));
  }
  return pool;
}

const keyOf = (i: number): Buffer => Buffer.from(`{"id":${i}}`);

// ------------------------------------------------------------------------------------------ memory

/** Peak resident set of a process in MiB, from the kernel's high-water mark. */

// ------------------------------------------------------------------------------------------ children

/**
 * kafkajs: a window of `window` outstanding send() calls of `batch` messages each. Its idempotent producer
 * serialises requests per broker behind a lock, so the window overlaps encoding with the network round trip.
 */
async function runKafkajs(spec: ChildSpec): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: [BROKER], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const compression = spec.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const pool = valuePool(4096);
  const started = performance.now();
  await pipeline(spec, (from, to) => {
    const messages = [];
    for (let i = from; i < to; i++) messages.push({ key: keyOf(i), value: pool[i % pool.length]! });
    return producer.send({ topic: spec.topic, acks: -1, compression, messages });
  });
  const seconds = (performance.now() - started) / 1000;
  await producer.disconnect();
  report(seconds);
}

/**
 * @platformatic/kafka 1.x: its idempotent producer reads the partition's sequence number when a request is
 * built and advances it only on the response, so concurrent send() calls reuse sequence numbers and the broker
 * drops all but one as duplicates while every call resolves (platformatic/kafka#326). `--window` > 1 shows it.
 */
async function runPlatformatic(spec: ChildSpec): Promise<void> {
  const producer = new Producer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: [BROKER],
    idempotent: true,
    acks: -1,
    compression: spec.compression as CompressionAlgorithmValue,
    partitioner: compatibilityPartitioner,
    retries: 5,
  });
  const pool = valuePool(4096);
  const started = performance.now();
  await pipeline(spec, async (from, to) => {
    const messages = [];
    for (let i = from; i < to; i++) messages.push({ topic: spec.topic, key: keyOf(i), value: pool[i % pool.length]! });
    await producer.send({ messages });
  });
  const seconds = (performance.now() - started) / 1000;
  await producer.close();
  report(seconds);
}

/**
 * Tributary's own producer (src/kafka/producer.ts, on @platformatic/kafka): a window of outstanding send()
 * calls is safe there, because it queues them behind one in-flight request and coalesces them up to batchBytes.
 */
async function runTributary(spec: ChildSpec): Promise<void> {
  const { createKafkaProducer } = await import('../src/kafka/producer.js');
  const { silentLogger } = await import('../src/ops/logger.js');
  const settings = {
    brokers: [BROKER],
    clientId: 'bench-tributary',
    producer: { compression: spec.compression as 'none' | 'lz4', lingerMs: 0, batchBytes: 1_048_576 },
  };
  const producer = createKafkaProducer(settings, silentLogger());
  const pool = valuePool(4096);
  const started = performance.now();
  await pipeline(spec, (from, to) => {
    const records = [];
    for (let i = from; i < to; i++) records.push({ topic: spec.topic, key: keyOf(i), value: pool[i % pool.length]! });
    return producer.send(records);
  });
  const seconds = (performance.now() - started) / 1000;
  await producer.close();
  report(seconds);
}

/** Keeps up to `spec.window` batches outstanding until every batch has resolved; rejects on the first failure. */
async function pipeline(spec: ChildSpec, sendBatch: (from: number, to: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < spec.messages) {
      const from = next;
      next = Math.min(spec.messages, next + spec.batch);
      await sendBatch(from, next);
    }
  };
  await Promise.all(Array.from({ length: spec.window }, worker));
}

/** The child's answer to the parent: one JSON line. */
function report(seconds: number): void {
  process.stdout.write(`${JSON.stringify({ seconds, peakRssMb: vmHwmMb('self') })}\n`);
}

// ------------------------------------------------------------------------------------------ parent

async function createTopic(topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: [BROKER] });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
}

/** Messages in the topic: the sum of the partitions' end offsets (fresh topic, nothing deleted). */
async function landed(topic: string, partitions: number): Promise<number> {
  const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: [BROKER] });
  try {
    const result = await admin.listOffsets({
      topics: [
        {
          name: topic,
          partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })),
        },
      ],
    });
    return result.flatMap((t) => t.partitions).reduce((sum, p) => sum + Number(p.offset), 0);
  } finally {
    await admin.close();
  }
}

/** Runs a command, keeping its stdout and the child's peak RSS (polled while it runs, for non-Node children). */

async function runNodeClient(spec: Omit<ChildSpec, 'topic'>, partitions: number, label: string): Promise<RunResult> {
  const topic = `bench-${spec.client}-${spec.compression}-p${partitions}-${Date.now()}`;
  await createTopic(topic, partitions);
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', JSON.stringify({ ...spec, topic })];
  const { stdout } = await runProcess(process.execPath, args);
  const { seconds, peakRssMb } = JSON.parse(stdout.trim().split('\n').pop()!) as { seconds: number; peakRssMb: number };
  const count = await landed(topic, partitions);
  return {
    label,
    partitions,
    messages: spec.messages,
    seconds,
    messagesPerSecond: spec.messages / seconds,
    peakRssMb,
    landed: count,
  };
}

/**
 * `tuned` adds batch.size/linger.ms closer to the Node clients' 2000-message sends; the plain run is the
 * command as documented, with the 16 KiB default batches.
 */
async function runJava(messages: number, partitions: number, tuned = false): Promise<RunResult> {
  const topic = `bench-java-p${partitions}-${Date.now()}`;
  await createTopic(topic, partitions);
  const started = performance.now();
  const run = await javaProducerPerformance(topic, messages, 300, tuned ? JAVA_TUNING : []);
  const wall = (performance.now() - started) / 1000;
  return {
    label: `java ProducerPerformance${tuned ? ' batch.size=512K linger=10' : ''}`,
    partitions,
    messages,
    seconds: messages / run.recordsPerSecond,
    messagesPerSecond: run.recordsPerSecond,
    peakRssMb: run.peakRssMb,
    landed: await landed(topic, partitions),
    note: `tool's own rate; process wall time incl. JVM start ${wall.toFixed(1)} s; ${run.summary.replace(/^.*?records\/sec /, '')}`,
  };
}

function print(result: RunResult): void {
  const ok = result.landed === result.messages ? 'ok' : `LOST ${result.messages - result.landed}`;
  console.log(
    [
      result.label.padEnd(48),
      `p=${result.partitions}`,
      `${Math.round(result.messagesPerSecond).toLocaleString('en-US').padStart(9)} msg/s`,
      `${result.seconds.toFixed(2).padStart(7)} s`,
      `peak RSS ${result.peakRssMb.toFixed(0).padStart(5)} MiB`,
      `landed ${result.landed} (${ok})`,
      result.note ?? '',
    ].join('  '),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      messages: { type: 'string', default: '1000000' },
      partitions: { type: 'string', default: '1,3' },
      batch: { type: 'string', default: '2000' },
      window: { type: 'string', default: '8' },
      'platformatic-window': { type: 'string', default: '1' },
      only: { type: 'string', default: 'java,java-tuned,kafkajs,platformatic,tributary' },
    },
  });
  if (values.child !== undefined) {
    const spec = JSON.parse(values.child) as ChildSpec;
    const run = { kafkajs: runKafkajs, platformatic: runPlatformatic, tributary: runTributary }[spec.client];
    await run(spec);
    return;
  }
  const messages = Number(values.messages);
  const batch = Number(values.batch);
  const window = Number(values.window);
  const platformaticWindow = Number(values['platformatic-window']);
  const only = new Set(values.only.split(','));
  const javaClients = readdirSync(`${ROOT}/.stack/kafka/lib`).find((name) => name.startsWith('kafka-clients-')) ?? 'kafka-clients ?';
  console.log(
    `${messages} messages of ~300 B with keys, idempotent, acks=all; Node ${process.version}, ${javaClients.replace(/\.jar$/, '')}; ` +
      `batch ${batch} messages/send; ` +
      `kafkajs window ${window}, platformatic window ${platformaticWindow}`,
  );
  for (const partitions of values.partitions.split(',').map(Number)) {
    if (only.has('java')) print(await runJava(messages, partitions));
    if (only.has('java-tuned')) print(await runJava(messages, partitions, true));
    if (only.has('kafkajs')) {
      for (const compression of ['none', 'gzip']) {
        print(await runNodeClient({ client: 'kafkajs', compression, messages, batch, window }, partitions, `kafkajs ${versionOf('kafkajs')} ${compression}`));
      }
    }
    if (only.has('platformatic')) {
      for (const compression of ['none', 'lz4', 'zstd']) {
        if (compression === 'zstd' && !('zstdCompressSync' in (await import('node:zlib')))) {
          console.log(`@platformatic/kafka zstd: skipped, needs node:zlib zstd (Node >= 22.15/23.8), this is ${process.version}`);
          continue;
        }
        const spec = { client: 'platformatic' as const, compression, messages, batch, window: platformaticWindow };
        print(await runNodeClient(spec, partitions, `@platformatic/kafka ${versionOf('@platformatic/kafka')} ${compression}`));
      }
    }
    if (only.has('tributary')) {
      for (const compression of ['none', 'lz4']) {
        const spec = { client: 'tributary' as const, compression, messages, batch, window };
        print(await runNodeClient(spec, partitions, `tributary src/kafka ${compression} (window ${window})`));
      }
    }
  }
}

await main();
