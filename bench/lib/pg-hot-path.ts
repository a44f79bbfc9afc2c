/**
 * The daemon's per-row CPU cost without the servers' share: real pgoutput frames for one transaction are captured
 * into memory once, then replayed through the decoder (frames → events) and the record encoder (events → Avro
 * records) in this process, timed by its own CPU clock. On a machine shared with other work this is the figure
 * to compare optimizations by; the end-to-end bench gives the rates.
 *
 *   node --import tsx bench/lib/pg-hot-path.ts [--rows 100000] [--rounds 3]
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { silentLogger } from '../../src/ops/logger.js';
import { PgCatalog } from '../../src/sources/postgres/catalog.js';
import { connect, ReplicationStream, type ReplicationFrame } from '../../src/sources/postgres/connection.js';
import { Lsn } from '../../src/sources/postgres/position.js';
import { PgoutputEvents } from '../../src/sources/postgres/stream.js';
import { DebeziumRecordEncoder } from '../../src/pipeline/record-encoder.js';
import type { SourceEvent } from '../../src/model/change.js';
import { parseArgs } from './report.js';

const args = parseArgs({ rows: '100000', rounds: '3' });
const rows = Number(args.rows);
const PG = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres', password: '' };
const id = randomBytes(3).toString('hex');
const table = `bench_hot_${id}`;
const logger = silentLogger();

const admin = new pg.Client(PG);
await admin.connect();
const frames: ReplicationFrame[] = [];
try {
  await admin.query(
    `CREATE TABLE ${table} (id bigint PRIMARY KEY, k integer NOT NULL, v bigint, name text, amount numeric(12,2), created timestamptz, flag boolean, score double precision)`,
  );
  await admin.query(`CREATE PUBLICATION ${table}_pub FOR TABLE ${table}`);
  const slot = await admin.query<{ lsn: string }>("SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')", [`${table}_slot`]);
  await admin.query(
    `INSERT INTO ${table} SELECT i, i % 1000, i * 1000, 'customer name ' || i, (i % 100000) / 100.0,
       timestamptz '2026-01-01 00:00:00+00' + i * interval '1.5 second', i % 2 = 0, i / 7.0 FROM generate_series(1, ${rows}) AS i`,
  );
  const replication = await connect(PG, true, logger);
  const stream = new ReplicationStream(replication, {
    slot: `${table}_slot`,
    publication: `${table}_pub`,
    start: Lsn.parse(slot.rows[0]!.lsn),
    statusIntervalMs: 10_000,
    highWaterMark: 10_000,
    logger,
    now: Date.now,
  });
  stream.start();
  let commits = 0;
  while (commits === 0) {
    const frame = (await stream.next())!;
    if (frame.kind !== 'data') continue;
    frames.push(frame);
    if (frame.payload[0] === 0x43 /* C */) commits++;
  }
  await stream.stop();
} finally {
  await admin.query(`SELECT pg_drop_replication_slot('${table}_slot')`).catch(() => undefined);
  await admin.query(`DROP PUBLICATION IF EXISTS ${table}_pub`);
}

const query = await connect(PG, false, logger);
const catalog = new PgCatalog(query, PG.database);
const config = { name: `public.${table}` };
const registry = { register: async (_subject: string, _schema: string) => 1 };

for (let round = 1; round <= Number(args.rounds); round++) {
  const decoder = new PgoutputEvents({
    name: 'bench', database: PG.database, tables: new Map([[`public.${table}`, config]]), catalog,
    truncate: true, transactions: false, resume: undefined, logger,
  });
  await decoder.handle(frames[0]!); // the RELATION message queries the catalog: outside the clock
  let cpu = process.cpuUsage();
  const events: SourceEvent[] = [];
  for (let i = 1; i < frames.length; i++) for (const event of await decoder.handle(frames[i]!)) events.push(event);
  const decodeUs = process.cpuUsage(cpu);
  const encoder = new DebeziumRecordEncoder({ topicPrefix: 'bench', transactions: false, registry });
  await encoder.encode(events.slice(0, 1));
  cpu = process.cpuUsage();
  let records = 0;
  for (let i = 0; i < events.length; i += 2000) records += (await encoder.encode(events.slice(i, i + 2000))).length;
  const encodeUs = process.cpuUsage(cpu);
  const perRow = (usage: NodeJS.CpuUsage): string => ((usage.user + usage.system) / rows).toFixed(2);
  console.log(`round ${round}: ${rows} rows, ${records} records: decode ${perRow(decodeUs)} µs/row, encode ${perRow(encodeUs)} µs/row (CPU)`);
}
await query.end();
await admin.query(`DROP TABLE ${table}`);
await admin.end();
