/**
 * `tributary replay`: rows/s from the start of the read until Kafka acknowledged the last row, and the peak RSS
 * of the replaying process, for a 1M-row PostgreSQL table (the same eight columns as bench/pg-kafka.ts). The
 * replay runs the built code (dist/, `npm run build` first) in a child process, which reports its own VmHWM when
 * done; the bench then checks that every row landed on the topic.
 *
 * `--from lake` first fills the table's live topic (a database replay onto it, unmeasured) and compacts it into a
 * lake, then measures the replay from the lake snapshot.
 *
 *   node --import tsx bench/replay.ts [--rows 1000000] [--from database|lake] [--rate 0] [--cpu-prof DIR]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Consumer } from '@platformatic/kafka';
import pg from 'pg';
import { loadConfig } from '../src/config/index.js';
import { runCompaction } from '../src/lake/index.js';
import { silentLogger } from '../src/ops/logger.js';
import { deployedNodeOptions, startRegistry, writeConfig } from './lib/daemon.js';
import { BROKER, firstRecordBytes, TopicWatcher } from './lib/kafka.js';
import { javaProducerPerformance } from './lib/kafka-tools.js';
import { fmt, line, parseArgs } from './lib/report.js';

const args = parseArgs({ rows: '1000000', from: 'database', rate: '0', 'cpu-prof': '' });
const PG = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' };
const DIST = path.resolve(import.meta.dirname, '../dist');

const COLUMNS = 'id bigint PRIMARY KEY, k integer NOT NULL, v bigint, name text, amount numeric(12,2), created timestamptz, flag boolean, score double precision';
const VALUES = `g, g % 1000, g * 1000, 'customer name ' || g, (g % 100000) / 100.0, timestamptz '2026-01-01 00:00:00+00' + g * interval '1.5 second', g % 2 = 0, g / 7.0`;

/** The child: runReplay from dist/, then its result and VmHWM as one JSON line. */
const CHILD = `
import { readFileSync } from 'node:fs';
const { loadConfig } = await import(${JSON.stringify(`${DIST}/config/index.js`)});
const { createLogger } = await import(${JSON.stringify(`${DIST}/ops/logger.js`)});
const { runReplay } = await import(${JSON.stringify(`${DIST}/replay/index.js`)});
const [file, options] = process.argv.slice(1);
const result = await runReplay(loadConfig(file), { ...JSON.parse(options), logger: createLogger('warn', process.stderr) });
const hwm = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1];
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ ...result, peakRssBytes: Number(hwm) * 1024, cpuSeconds: (cpu.user + cpu.system) / 1e6 }) + '\\n');
`;

interface ChildResult {
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly peakRssBytes: number;
  /** CPU the replaying process used, start-up included: on a shared machine, wall time alone hides contention. */
  readonly cpuSeconds: number;
  readonly positions: { first: string; current: string };
}

function replay(configFile: string, options: Record<string, unknown>): Promise<ChildResult> {
  const flags = args['cpu-prof'] === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof']}`];
  flags.push(...(process.env.BENCH_CHILD_FLAGS?.split(' ').filter(Boolean) ?? []));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', CHILD, configFile, JSON.stringify(options)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: process.env.NODE_OPTIONS ?? deployedNodeOptions() },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout) as ChildResult) : reject(new Error(`replay exited ${code}: ${stderr}`))));
  });
}

async function topicEnd(topic: string): Promise<number> {
  const consumer = new Consumer({ clientId: 'tributary-bench-offsets', groupId: `bench-${randomBytes(4).toString('hex')}`, bootstrapBrokers: [BROKER] });
  try {
    return Number((await consumer.listOffsets({ topics: [topic] })).get(topic)![0]!);
  } finally {
    await consumer.close(true);
  }
}

const rows = Number(args.rows);
if (args.from !== 'database' && args.from !== 'lake') throw new Error(`--from is database or lake, not ${args.from}`);
const table = `bench_replay_${randomBytes(3).toString('hex')}`;
const topic = `${table}-replay`;
const lake = mkdtempSync(path.join(tmpdir(), 'tributary-bench-lake-'));
const client = new pg.Client(PG);
await client.connect();
const registry = await startRegistry();
const kafka = new TopicWatcher();
try {
  await client.query(`CREATE TABLE ${table} (${COLUMNS})`);
  await client.query(`INSERT INTO ${table} SELECT ${VALUES} FROM generate_series(1, ${rows}) g`);
  await client.query(`VACUUM ANALYZE ${table}`);
  const source = { name: table, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, tables: [{ name: `public.${table}` }] };
  const config = writeConfig(source, registry.url, { lake: { path: lake } });
  if (args.from === 'lake') {
    // The live topic, as the daemon's snapshot would have written it, compacted into the lake.
    await replay(config, { table: `public.${table}`, from: 'database' });
    const started = performance.now();
    await runCompaction(loadConfig(config), { logger: silentLogger(), table: `public.${table}`, groupId: `${table}-lake` });
    line('compaction (unmeasured below)', `${((performance.now() - started) / 1000).toFixed(2)} s`);
  }
  const rate = Number(args.rate);
  const result = await replay(config, { table: `public.${table}`, from: args.from, toTopic: topic, ...(rate > 0 ? { rate } : {}) });
  const landed = await topicEnd(topic);
  line('rows', fmt(result.rows));
  line(`replay --from ${args.from} (start of the read → last ack)`, `${result.seconds.toFixed(2)} s`);
  line('rows/s', fmt(result.rowsPerSecond));
  line('CPU of the replay process', `${result.cpuSeconds.toFixed(2)} s (${fmt(result.rows / result.cpuSeconds)} rows per CPU-second)`);
  line('peak RSS (VmHWM)', `${fmt(result.peakRssBytes / 1024 / 1024)} MiB`);
  line('source position', result.positions.current);
  line('landed', `${fmt(landed)} records ${landed === rows ? 'ok' : `MISMATCH (expected ${rows})`}`);
  if (landed !== rows) process.exitCode = 1;
  // The limit: Kafka's own producer writing as many records of the same size, with the daemon's settings.
  const bytes = await firstRecordBytes(topic);
  const limit = await javaProducerPerformance(`${topic}-limit`, rows, bytes, ['compression.type=lz4', 'batch.size=1048576', 'linger.ms=5']);
  await kafka.drop([`${topic}-limit`]);
  line('Kafka ProducerPerformance', `${fmt(limit.recordsPerSecond)} records/s of ${bytes} B, lz4, 1 MiB batches, idempotent, acks=all = the limit`);
  line('ratio', `${(result.rowsPerSecond / limit.recordsPerSecond).toFixed(2)} × ProducerPerformance`);
} finally {
  await client.query(`DROP TABLE IF EXISTS ${table}`);
  await client.end();
  await registry.close();
  await kafka.close();
  rmSync(lake, { recursive: true, force: true });
}
