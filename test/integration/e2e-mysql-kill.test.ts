/**
 * kill -9 of `tributary run` at random moments while it streams 200k MariaDB rows, restarted from its checkpoint
 * each time: every row must reach Kafka (at least once). Duplicates are counted and printed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { debeziumRegistry, decodeRecords } from '../support/debezium-consumer.js';
import { ensureTopics } from '../../src/kafka/admin.js';
import { localKafkaSettings, readTopic } from '../support/kafka.js';
import { adminConnection, uniqueName } from '../support/mysql.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

const ROWS = 200_000;
const KILLS = 4;

/** The `id` of a Confluent-framed Avro key {id: int}: a zig-zag varint after the 5-byte header. */
function rawKeyId(key: Buffer | null): number {
  assert.ok(key !== null && key.length > 5, 'every record has a key');
  let n = 0;
  let shift = 0;
  for (let i = 5; i < key.length; i++, shift += 7) {
    n += (key[i]! & 0x7f) * 2 ** shift;
    if ((key[i]! & 0x80) === 0) break;
  }
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

/** Transactions of mixed sizes (single rows up to 3,000 rows) so kills land inside and between transactions. */
function* transactionSizes(rows: number): Generator<number> {
  const sizes = [1, 1, 7, 50, 500, 3_000];
  while (rows > 0) {
    const size = Math.min(rows, sizes[Math.floor(Math.random() * sizes.length)]!);
    rows -= size;
    yield size;
  }
}

test(`kill -9 at random moments during a ${ROWS}-row stream loses nothing`, async () => {
  const mysql = await adminConnection();
  const writer = await adminConnection();
  const name = uniqueName('e2e_my_kill');
  const table = name;
  const topic = `${name}.test.${table}`;
  await mysql.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, v VARCHAR(24) NOT NULL)`);
  const config = writeDaemonConfig(
    [{ name, kind: 'mysql', connection: { user: 'root' }, serverId: 10_000 + Math.floor(Math.random() * 50_000), tables: [{ name: `test.${table}` }] }],
    registry.url,
  );
  let nextId = 1;
  const writePart = async (rows: number): Promise<void> => {
    for (const size of transactionSizes(rows)) {
      await writer.query('BEGIN');
      for (let done = 0; done < size; done += 1_000) {
        const values = Array.from({ length: Math.min(1_000, size - done) }, () => `(${nextId}, 'row-${nextId++}')`);
        await writer.query(`INSERT INTO ${table} VALUES ${values.join(',')}`);
      }
      await writer.query('COMMIT');
    }
  };
  // The topic exists before the reader subscribes (the daemon leaves an existing topic alone).
  await ensureTopics(localKafkaSettings(), [{ name: topic, partitions: 1, replicationFactor: 1 }]);
  // One consumer reads the topic throughout, counting distinct rows and duplicates as they arrive; the kills
  // wait on its progress, so each lands while that life of the daemon is producing.
  const seen = new Uint8Array(ROWS + 1);
  let distinct = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let highest = 0;
  let counted = 0;
  const progress = new Set<() => void>();
  const reading = readTopic(topic, {
    timeoutMs: 170_000,
    until: (r) => {
      for (; counted < r.length; counted++) {
        const id = rawKeyId(r[counted]!.key);
        if (seen[id] === 0) {
          distinct++;
          if (id < highest) outOfOrder++;
          highest = Math.max(highest, id);
        } else {
          duplicates++;
        }
        seen[id] = 1;
      }
      for (const wake of progress) wake();
      return distinct === ROWS;
    },
  });
  let readError: unknown = null;
  reading.catch((error: unknown) => {
    readError = error;
    for (const wake of progress) wake();
  });
  const distinctReaches = (target: number, daemon: Daemon): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (readError !== null) {
          progress.delete(check);
          reject(readError as Error);
        } else if (distinct >= target) {
          progress.delete(check);
          resolve();
        } else if (!daemon.running) {
          progress.delete(check);
          reject(new Error(`daemon exited at ${distinct} rows:\n${daemon.tail()}`));
        }
      };
      progress.add(check);
      void daemon.exited.then(check);
      check();
    });

  let daemon = new Daemon(config);
  const killedAt: string[] = [];
  const lives: Daemon[] = [];
  try {
    // Each life of the daemon streams one part of the rows; all but the last die by SIGKILL part-way through it,
    // once the consumer has seen a random share of that part.
    const part = ROWS / (KILLS + 1);
    for (let life = 0; life <= KILLS; life++) {
      await daemon.waitForLog(/streaming the binlog/);
      const writing = writePart(part);
      if (life === KILLS) {
        await writing;
        break;
      }
      const target = Math.floor(life * part + (0.05 + Math.random() * 0.85) * part);
      await distinctReaches(target, daemon);
      daemon.kill('SIGKILL');
      assert.equal(await daemon.exited, null, 'killed by the signal, not exited on its own');
      killedAt.push(`${distinct} seen/${nextId - 1} written/${duplicates} duplicates so far`);
      await writing;
      lives.push(daemon);
      daemon = new Daemon(config);
    }
    lives.push(daemon);
    assert.equal(nextId - 1, ROWS);
    const records = await reading;
    const snapshotted = records.length;
    console.log(
      `kill -9: ${KILLS} kills (at ${killedAt.join('; ')}), ${snapshotted} records for ${ROWS} rows, ${duplicates} duplicates, ` +
        `${lives.filter((d) => d.logs.some((l) => /snapshot started/.test(l))).length} lives snapshotted`,
    );
    assert.equal(distinct, ROWS);
    assert.equal(seen[0], 0);
    assert.equal(outOfOrder, 0, 'each row first appears in commit order');
    assert.ok(records.every((r) => r.value !== null && r.partition === 0));
    // The stock deserializer reads a sample from every part of the topic.
    const step = Math.floor(records.length / 50);
    const sample = await decodeRecords<{ id: number }, { op: string; after: { id: number; v: string } }>(
      debeziumRegistry(registry.url),
      records.filter((_, i) => i % step === 0 || i === records.length - 1),
    );
    for (const r of sample) {
      assert.ok(['c', 'r'].includes(r.value!.op), r.value!.op); // 'r': a life killed before its snapshot was checkpointed
      assert.deepEqual(r.value!.after, { id: r.key!.id, v: `row-${r.key!.id}` });
    }
    assert.equal(await daemon.stop(), 0);
  } catch (error) {
    for (const [i, d] of lives.entries()) console.log(i, d.logs.filter((l) => /snapshot|streaming|registered|checkpoint/.test(l)).map((l) => l.slice(0, 300)).join('\n'));
    throw error;
  } finally {
    if (daemon.running) daemon.kill('SIGKILL');
    await mysql.query(`DROP TABLE ${table}`);
    await Promise.all([mysql.end(), writer.end()]);
  }
});
