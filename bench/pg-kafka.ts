/**
 * PostgreSQL → Kafka: rows/s until acked for one big transaction and for many one-row transactions, peak RSS of
 * the daemon, commit→available latency at a steady rate, and pg_recvlogical's drain rate of the same WAL as the
 * limit. Run `npm run build` first: the daemon under test is dist/cli.js.
 *
 *   node --import tsx bench/pg-kafka.ts [--rows 1000000] [--txns 100000] [--latency-rate 5000]
 *     [--latency-seconds 15] [--only big,small,latency] [--cpu-prof DIR]
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { BenchDaemon, startRegistry, waitFor, writeConfig } from './lib/daemon.js';
import { keyLong, tailTopic, TopicWatcher } from './lib/kafka.js';
import { measureThroughput } from './lib/scenario.js';
import { fmt, line, parseArgs, percentile, timeCommand } from './lib/report.js';

const args = parseArgs({ rows: '1000000', txns: '100000', 'latency-rate': '5000', 'latency-seconds': '15', only: 'big,small,latency', 'cpu-prof': '' });
const PG = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' };
const only = new Set(args.only.split(','));
const cpuProfDir = args['cpu-prof'] === '' ? undefined : args['cpu-prof'];

/** Eight columns of the common kinds: bigint key, int, bigint, text, numeric, timestamptz, boolean, double. */
const COLUMNS = 'id bigint PRIMARY KEY, k integer NOT NULL, v bigint, name text, amount numeric(12,2), created timestamptz, flag boolean, score double precision';
const VALUES = (i: string): string =>
  `${i}, ${i} % 1000, ${i} * 1000, 'customer name ' || ${i}, (${i} % 100000) / 100.0, timestamptz '2026-01-01 00:00:00+00' + ${i} * interval '1.5 second', ${i} % 2 = 0, ${i} / 7.0`;

interface Names {
  readonly table: string;
  readonly publication: string;
  readonly slot: string;
  readonly recvSlot: string;
  readonly prefix: string;
  readonly topic: string;
}

function names(): Names {
  const id = randomBytes(3).toString('hex');
  const table = `bench_pg_${id}`;
  const prefix = `bench_pg_${id}`;
  return { table, publication: `${table}_pub`, slot: `${table}_slot`, recvSlot: `${table}_recv`, prefix, topic: `${prefix}.public.${table}` };
}

async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(PG);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function setUp(n: Names): Promise<void> {
  await withClient(async (c) => {
    await c.query(`CREATE TABLE ${n.table} (${COLUMNS})`);
    await c.query(`CREATE PUBLICATION ${n.publication} FOR TABLE ${n.table}`);
  });
}

async function tearDown(n: Names): Promise<void> {
  await withClient(async (c) => {
    for (const slot of [n.slot, n.recvSlot]) {
      await c.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]).catch(() => undefined);
    }
    await c.query(`DROP PUBLICATION IF EXISTS ${n.publication}`);
    await c.query(`DROP TABLE IF EXISTS ${n.table}`);
  });
}

function sourceConfig(n: Names): Record<string, unknown> {
  return {
    name: 'bench',
    kind: 'postgres',
    connection: PG,
    slot: n.slot,
    publication: n.publication,
    topicPrefix: n.prefix,
    snapshot: 'never',
    tables: [{ name: `public.${n.table}` }],
  };
}

async function throughput(label: string, rows: number, workload: (c: pg.Client, n: Names) => Promise<void>): Promise<void> {
  const n = names();
  await setUp(n);
  let endLsn = '';
  try {
    await measureThroughput({
      label,
      rows,
      source: sourceConfig(n),
      topic: n.topic,
      cpuProfDir,
      warmUp: () =>
        withClient(async (c) => {
          await c.query(`INSERT INTO ${n.table} VALUES (${VALUES('0')})`);
          // The reference slot starts after the warm-up row, so it decodes exactly the measured rows.
          await c.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [n.recvSlot]);
        }),
      workload: () =>
        withClient(async (c) => {
          await workload(c, n);
          endLsn = (await c.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
        }),
      referenceName: 'pg_recvlogical',
      reference: () =>
        timeCommand('pg_recvlogical', [
          '-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', PG.database, '--slot', n.recvSlot, '--start',
          '--endpos', endLsn, '-o', 'proto_version=1', '-o', `publication_names=${n.publication}`, '-f', '/dev/null',
        ]),
    });
  } finally {
    await tearDown(n);
  }
}

/** One transaction of `rows` rows. */
async function bigTransaction(c: pg.Client, n: Names, rows: number): Promise<void> {
  await c.query(`INSERT INTO ${n.table} SELECT ${VALUES('i')} FROM generate_series(1, ${rows}) AS i`);
}

/** `txns` transactions of one row each, committed server-side (a DO block with COMMIT per row). */
async function smallTransactions(c: pg.Client, n: Names, txns: number): Promise<void> {
  await c.query('SET synchronous_commit = off');
  await c.query(`DO $$ BEGIN FOR i IN 1..${txns} LOOP INSERT INTO ${n.table} SELECT ${VALUES('i')}; COMMIT; END LOOP; END $$`);
}

/**
 * Steady load at `ratePerSec` rows/s (a transaction of rate/100 rows every 10 ms) with the daemon live. Each
 * row's commit time is when COMMIT returned to this process; its available time is when a consumer in this
 * process received it (a waiting fetch with minBytes 1 returns as soon as the broker has committed it).
 */
async function latency(ratePerSec: number, seconds: number): Promise<void> {
  const n = names();
  await setUp(n);
  const registry = await startRegistry();
  const kafka = new TopicWatcher();
  const daemon = new BenchDaemon(writeConfig(sourceConfig(n), registry.url));
  const committedAt = new Map<bigint, number>();
  // By id: a record can reach the consumer before this process has seen its COMMIT return.
  const receivedAt = new Map<bigint, number>();
  let stopTail = async (): Promise<void> => undefined;
  try {
    await daemon.waitForLog(/streaming changes/);
    await withClient((c) => c.query(`INSERT INTO ${n.table} VALUES (${VALUES('0')})`));
    await kafka.until(n.topic, 1, 60_000);
    stopTail = await tailTopic(n.topic, (key, at) => {
      if (key !== null) receivedAt.set(keyLong(key), at);
    });
    const perTick = Math.max(1, Math.round(ratePerSec / 100));
    const ticks = seconds * 100;
    let late = 0;
    await withClient(async (c) => {
      const start = performance.now();
      for (let tick = 0; tick < ticks; tick++) {
        const due = start + tick * 10;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        else if (wait < -10) late++;
        const first = tick * perTick + 1;
        await c.query(`INSERT INTO ${n.table} SELECT ${VALUES('i')} FROM generate_series(${first}, ${first + perTick - 1}) AS i`);
        const at = performance.now();
        for (let id = first; id < first + perTick; id++) committedAt.set(BigInt(id), at);
      }
    });
    const rows = ticks * perTick;
    // The warm-up row (id 0) is in the topic too.
    await waitFor(() => receivedAt.size >= rows + 1, 120_000, `${rows} rows at the consumer`);
    const sorted = [...committedAt].map(([id, at]) => receivedAt.get(id)! - at).sort((a, b) => a - b);
    line('latency: load', `${fmt(rows)} rows at ${fmt(ratePerSec)} rows/s, ${perTick} rows per 10 ms transaction (${late} ticks late)`);
    line(
      'latency: commit→available',
      `p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms`,
    );
    line('latency: daemon peak RSS', `${daemon.peakRssMiB().toFixed(0)} MiB`);
  } finally {
    await stopTail();
    await daemon.stop();
    await kafka.drop([n.topic]);
    await kafka.close();
    await registry.close();
    await tearDown(n);
  }
}

const rows = Number(args.rows);
const txns = Number(args.txns);
console.log(`PostgreSQL → Kafka bench, ${new Date().toISOString()}, Node ${process.version}, 8-column table`);
if (only.has('big')) await throughput(`1 txn × ${fmt(rows)} rows`, rows, (c, n) => bigTransaction(c, n, rows));
if (only.has('small')) await throughput(`${fmt(txns)} txns × 1 row`, txns, (c, n) => smallTransactions(c, n, txns));
if (only.has('latency')) await latency(Number(args['latency-rate']), Number(args['latency-seconds']));
