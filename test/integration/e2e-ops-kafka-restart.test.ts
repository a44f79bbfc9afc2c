/**
 * The Kafka broker goes away under load and comes back: `tributary run` streams a steady PostgreSQL load to a
 * private broker (test/support/kafka-broker.ts; the shared one on 9092 is never touched), the broker is stopped
 * (SIGTERM) or killed (SIGKILL) mid-stream, rows keep being written during the outage, and the broker restarts on
 * the same port and data dir. The same daemon process recovers by itself (/readyz goes reconnecting, then
 * streaming), every row reaches the topic, duplicates are only replays of rows the slot had not confirmed when
 * the broker went down, and the slot's confirmed_flush_lsn is never ahead of what Kafka had acknowledged.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Admin } from '@platformatic/kafka';
import pg from 'pg';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { debeziumRegistry, decodeRecords } from '../support/debezium-consumer.js';
import { KafkaBroker } from '../support/kafka-broker.js';
import { readTopic, type ReadRecord } from '../support/kafka.js';
import { admin, dropSlotAndPublication, uniqueName, waitFor } from '../support/postgres.js';
import { Lsn } from '../../src/sources/postgres/position.js';

const ROWS = 40_000;
const ROWS_PER_TRANSACTION = 100;
/** The broker goes down once this many records are in the topic, with the daemon still behind the writer. */
const OUTAGE_AT_RECORDS = 5_000;
/** Rows written before the outage is noticed, and by the end of the outage. */
const BEFORE_OUTAGE_ROWS = 20_000;
const DURING_OUTAGE_ROWS = 30_000;

let registry: TestRegistry;
let broker: KafkaBroker;
before(async () => {
  registry = await startTestRegistry();
  broker = await KafkaBroker.start();
});
after(async () => {
  await broker?.destroy();
  await registry?.close();
});

/** One committed transaction of the load: rows first..last, and a WAL position read after its commit returned. */
interface Committed {
  readonly first: number;
  readonly last: number;
  /** ≥ the commit's end LSN: if the slot confirmed this far, the transaction must be in Kafka. */
  readonly lsnAfter: bigint;
}

/**
 * Inserts rows 1..ROWS in transactions of ROWS_PER_TRANSACTION on one connection (so transactions are serial),
 * never past `allowed`: the test opens the gate phase by phase instead of timing the load.
 */
class LoadWriter {
  readonly committed: Committed[] = [];
  private allowed = 0;
  private wake: (() => void) | undefined;
  readonly done: Promise<void>;

  constructor(
    private readonly client: pg.Client,
    private readonly table: string,
  ) {
    this.done = this.run();
    this.done.catch(() => undefined);
  }

  get written(): number {
    return this.committed.at(-1)?.last ?? 0;
  }

  allow(rows: number): void {
    this.allowed = rows;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.written < ROWS) {
      if (this.written >= this.allowed) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      const first = this.written + 1;
      const last = first + ROWS_PER_TRANSACTION - 1;
      await this.client.query(`INSERT INTO ${this.table} SELECT g, repeat('x', 50) || g FROM generate_series($1::int, $2::int) g`, [first, last]);
      const { rows } = await this.client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
      this.committed.push({ first, last, lsnAfter: Lsn.parse(rows[0]!.lsn).toBigInt() });
    }
  }
}

interface Sample {
  readonly confirmed: bigint;
  /** The topic's high watermark, read after `confirmed`. */
  readonly highWatermark: bigint;
}

/**
 * Samples, until stopped, the slot's confirmed_flush_lsn followed by the topic's high watermark (skipped while the
 * broker is down) and every distinct /readyz state.
 */
class Observer {
  readonly samples: Sample[] = [];
  readonly states: string[] = [];
  private running = true;
  private admin: Admin | undefined;
  private readonly loop: Promise<void>;

  constructor(
    private readonly pg: pg.Client,
    private readonly slot: string,
    private readonly topic: string,
    private readonly ops: string,
  ) {
    this.loop = this.run();
  }

  async highWatermark(): Promise<bigint | undefined> {
    this.admin ??= new Admin({ clientId: 'tributary-test-offsets', bootstrapBrokers: [broker.address], retries: 0, connectTimeout: 1000, timeout: 2000 });
    try {
      const result = await this.admin.listOffsets({ topics: [{ name: this.topic, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] });
      return result[0]!.partitions[0]!.offset;
    } catch {
      // Broker down: a fresh client next time rather than trusting this one's connection state.
      await this.admin.close().catch(() => undefined);
      this.admin = undefined;
      return undefined;
    }
  }

  async sample(): Promise<void> {
    const { rows } = await this.pg.query<{ lsn: string | null }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [this.slot]);
    const confirmed = rows[0]?.lsn == null ? 0n : Lsn.parse(rows[0].lsn).toBigInt();
    const highWatermark = await this.highWatermark();
    if (highWatermark !== undefined) this.samples.push({ confirmed, highWatermark });
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.admin?.close().catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.sample();
      const response = await fetch(`${this.ops}/readyz`).catch(() => undefined);
      const body = (await response?.json()) as { sources: { state: string }[] } | undefined;
      const state = body?.sources[0]?.state;
      if (state !== undefined && this.states.at(-1) !== state) this.states.push(state);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** The key of id -1 (Confluent header, then zigzag(-1) = 1): the marker written after every other row. */
const isMarker = (record: ReadRecord | undefined): boolean => record?.key?.length === 6 && record.key[5] === 1;

async function brokerOutageUnderLoad(how: 'stop' | 'kill'): Promise<void> {
  const name = uniqueName(`e2e_kafka_${how}`);
  const slot = `tributary_${name}`;
  const topic = `${name}.public.${name}`;
  const pg = await admin();
  const writerConnection = await admin();
  await pg.query(`CREATE TABLE ${name} (id int PRIMARY KEY, payload text NOT NULL)`);
  const config = writeDaemonConfig(
    [{ name, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, tables: [{ name: `public.${name}` }] }],
    registry.url,
    { kafka: { brokers: [broker.address], producer: { lingerMs: 2 } } },
  );
  const daemon = new Daemon(config);
  const pid = daemon.pid;
  let observer: Observer | undefined;
  try {
    const started = JSON.parse(await daemon.waitForLog(/tributary started/)) as { ops: string };
    await daemon.waitForLog(/streaming changes/);
    // Row 0 creates the topic, so its watermark can be read from the start.
    await pg.query(`INSERT INTO ${name} VALUES (0, 'first')`);
    await readTopic(topic, { until: (r) => r.length >= 1, brokers: [broker.address], timeoutMs: 30_000 });
    observer = new Observer(pg, slot, topic, started.ops);

    const writer = new LoadWriter(writerConnection, name);
    writer.allow(BEFORE_OUTAGE_ROWS);
    let delivered = 0n;
    await waitFor(async () => (delivered = (await observer!.highWatermark()) ?? 0n) >= BigInt(OUTAGE_AT_RECORDS), `${OUTAGE_AT_RECORDS} records in Kafka`, 30_000);
    assert.ok(
      writer.written < BEFORE_OUTAGE_ROWS || delivered < BigInt(writer.written),
      `the load was still running when the broker went down (${writer.written} rows written, ${delivered} in Kafka)`,
    );
    // What the slot had confirmed before the outage: only rows after it may be sent again.
    const confirmedBefore = observer.samples.at(-1)?.confirmed ?? 0n;
    const outageStart = Date.now();
    await (how === 'stop' ? broker.stop() : broker.kill());
    const down = Date.now();

    // Rows written while the broker is down, until the daemon has noticed and says so on /readyz.
    writer.allow(DURING_OUTAGE_ROWS);
    await waitFor(() => observer!.states.includes('reconnecting') && writer.written >= DURING_OUTAGE_ROWS, 'the daemon to report reconnecting', 60_000);
    const noticed = Date.now();
    await broker.start();
    const up = Date.now();
    const writtenBeforeUp = writer.written;
    writer.allow(ROWS);
    await writer.done;
    await pg.query(`INSERT INTO ${name} VALUES (-1, 'marker')`);

    const raw = await readTopic(topic, { until: (r) => isMarker(r.at(-1)), brokers: [broker.address], timeoutMs: 90_000 });
    const recovered = Date.now();
    await waitFor(() => observer!.states.at(-1) === 'streaming', '/readyz to say streaming again', 30_000);
    assert.equal(daemon.pid, pid);
    assert.ok(daemon.running, `the daemon exited:\n${daemon.tail()}`);
    assert.ok(daemon.logs.some((l) => /restarting from the last checkpoint/.test(l)), `no in-process restart logged:\n${daemon.tail()}`);
    assert.equal(await daemon.stop(), 0, daemon.tail());
    await observer.stop();
    await observer.sample();
    console.log(
      `# ${how}: outage ${down - outageStart} ms to stop, noticed after ${noticed - down} ms, broker back after ${up - noticed} ms, ` +
        `all rows in Kafka ${recovered - up} ms later; /readyz ${observer.states.join(' → ')}`,
    );

    // The same process reconnected: unready while Kafka was away, streaming again afterwards.
    const reconnecting = observer.states.indexOf('reconnecting');
    assert.ok(reconnecting > 0 && observer.states.slice(0, reconnecting).includes('streaming'), `/readyz: ${observer.states.join(' → ')}`);
    assert.ok(observer.states.slice(reconnecting).includes('streaming'), `/readyz: ${observer.states.join(' → ')}`);

    // Every row is there.
    const records = await decodeRecords<{ id: number }, unknown>(debeziumRegistry(registry.url), raw);
    const firstOffset = new Map<number, bigint>();
    const copies = new Map<number, number>();
    for (const record of records) {
      if (record.value === null) continue;
      const id = record.key!.id;
      if (!firstOffset.has(id)) firstOffset.set(id, record.offset);
      copies.set(id, (copies.get(id) ?? 0) + 1);
    }
    const missing = [];
    for (let id = 1; id <= ROWS; id++) if (!firstOffset.has(id)) missing.push(id);
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} rows missing from Kafka`);

    // Duplicates are the replay from the stored checkpoint (never behind the slot) after the failed send: rows
    // in Kafka but not yet confirmed when the broker went down, each sent once more. Attempts while the broker
    // was down delivered nothing, and rows written after it was back were sent once.
    const restarts = daemon.logs.filter((l) => /restarting from the last checkpoint/.test(l)).length;
    const duplicated = [...copies].filter(([, n]) => n > 1);
    const duplicates = duplicated.reduce((sum, [, n]) => sum + n - 1, 0);
    console.log(`# ${how}: ${records.length} records for ${firstOffset.size} rows, ${duplicates} duplicates of ${duplicated.length} rows, ${restarts} in-process restarts`);
    const replayable = new Set(writer.committed.filter((t) => t.lsnAfter > confirmedBefore && t.first <= writtenBeforeUp).flatMap((t) => range(t.first, t.last)));
    const unexpected = duplicated.filter(([id, n]) => n > 2 || !replayable.has(id));
    assert.deepEqual(unexpected.slice(0, 20), [], `${unexpected.length} rows duplicated beyond one replay of what was unconfirmed at the outage`);

    // confirmed_flush_lsn never ahead of Kafka: a sample that confirms past a transaction (past a WAL position
    // read after its commit) was followed by a watermark above every one of its rows' first offsets.
    let checked = 0;
    const lastOffsetOf = writer.committed.map((t) => {
      let max = 0n;
      for (let id = t.first; id <= t.last; id++) if (firstOffset.get(id)! > max) max = firstOffset.get(id)!;
      return max;
    });
    for (const sample of observer.samples) {
      for (const [i, t] of writer.committed.entries()) {
        if (t.lsnAfter > sample.confirmed) break;
        checked++;
        assert.ok(
          lastOffsetOf[i]! < sample.highWatermark,
          `confirmed_flush_lsn ${sample.confirmed} covers rows ${t.first}..${t.last} (offset up to ${lastOffsetOf[i]}), not below the watermark ${sample.highWatermark} read after it`,
        );
      }
    }
    // The checkpoint moved on after the recovery: the stored position covers the marker, committed after the load.
    const store = CheckpointStore.open(path.join(path.dirname(config), 'tributary.db'));
    const stored = store.getPosition(name)?.position;
    store.close();
    const storedLsn = Lsn.parse((JSON.parse(stored ?? '{"lsn":"0/0"}') as { lsn: string }).lsn).toBigInt();
    assert.ok(storedLsn >= writer.committed.at(-1)!.lsnAfter, `stored checkpoint ${stored} is behind the load`);
    console.log(`# ${how}: ${observer.samples.length} samples, ${checked} (sample, transaction) pairs checked against the watermark`);
  } finally {
    await observer?.stop().catch(() => undefined);
    if (daemon.running) daemon.kill('SIGKILL');
    await daemon.exited;
    if (!broker.running) await broker.start();
    await dropSlotAndPublication(slot, slot);
    await pg.query(`DROP TABLE IF EXISTS ${name}`);
    await writerConnection.end(); // a writer still running after a failure stops at its next query
    await pg.end();
  }
}

test('a Kafka broker stopped (SIGTERM) under load: the daemon reconnects by itself and no row is lost', () => brokerOutageUnderLoad('stop'));

test('a Kafka broker killed (SIGKILL) under load: the daemon reconnects by itself and no row is lost', () => brokerOutageUnderLoad('kill'));
