/**
 * Helpers for replay tests: a generated table whose every value follows from its id (so a consumer's copy can
 * be checked value by value), a config for it, and the replay run as a child process that can be killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Consumer } from '@platformatic/kafka';
import { loadConfig } from '../../src/config/index.js';
import type { Config } from '../../src/config/index.js';
import type { DecodedRecord } from './debezium-consumer.js';
import { writeDaemonConfig } from './daemon.js';
import { LOCAL_BROKER, uniqueTopic } from './kafka.js';

const CHILD = path.resolve(import.meta.dirname, 'replay-child.ts');

/** PostgreSQL columns and the INSERT … SELECT that fills them for ids 1..rows. */
export const PG_COLUMNS = 'id int PRIMARY KEY, name text NOT NULL, qty bigint, flag boolean, note text, ts timestamp, score double precision';
export function pgFill(table: string, rows: number): string {
  return `INSERT INTO ${table} SELECT g, 'name-' || g, g::bigint * 1000, g % 2 = 0, CASE WHEN g % 10 = 0 THEN NULL ELSE 'note ' || g END,
    timestamp '2024-01-01 00:00:00' + g * interval '1 second', g / 4.0 FROM generate_series(1, ${rows}) g`;
}

/** MariaDB: the same values (DATETIME(6) is a MicroTimestamp in Debezium's MySQL connector too). */
export const MYSQL_COLUMNS = 'id int PRIMARY KEY, name varchar(40) NOT NULL, qty bigint, flag boolean, note varchar(40), ts datetime(6), score double';

/** What the consumer must see in `after` for row `id`, as the stock deserializer decodes it. */
export function expectedRow(id: number, flag: 'boolean' | 'int' = 'boolean'): Record<string, unknown> {
  return {
    id,
    name: `name-${id}`,
    qty: BigInt(id) * 1000n,
    flag: flag === 'boolean' ? id % 2 === 0 : id % 2 === 0 ? 1 : 0,
    note: id % 10 === 0 ? null : `note ${id}`,
    ts: (BigInt(Date.UTC(2024, 0, 1)) + BigInt(id) * 1000n) * 1000n,
    score: id / 4,
  };
}

export function pgConfig(sourceName: string, table: string, registryUrl: string): { file: string; config: Config } {
  const file = writeDaemonConfig(
    [{ name: sourceName, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, tables: [{ name: table }] }],
    registryUrl,
    { logging: { level: 'warn' } },
  );
  return { file, config: loadConfig(file) };
}

/** Ids seen in replay records, checking each record against its expected row; returns id → count. */
export function checkRecords(records: readonly DecodedRecord[], flag: 'boolean' | 'int' = 'boolean'): Map<number, number> {
  const seen = new Map<number, number>();
  for (const record of records) {
    const after = record.value?.after;
    if (after === undefined || after === null) throw new Error(`record at offset ${record.offset} has no after`);
    const id = after.id as number;
    const expected = expectedRow(id, flag);
    for (const [column, value] of Object.entries(expected)) {
      if (after[column] !== value) throw new Error(`row ${id}: ${column} is ${String(after[column])}, expected ${String(value)}`);
    }
    if (record.value?.op !== 'r') throw new Error(`row ${id}: op ${record.value?.op}`);
    if ((record.key as { id?: unknown } | null)?.id !== id) throw new Error(`row ${id}: key ${JSON.stringify(record.key)}`);
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  return seen;
}

export class ReplayChild {
  readonly stderr: string[] = [];
  stdout = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(configFile: string, options: Record<string, unknown>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', CHILD, configFile, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

/** Records in the single partition of `topic` (its high watermark). */
export async function topicEnd(topic: string): Promise<number> {
  const consumer = new Consumer({ clientId: 'tributary-test-offsets', groupId: uniqueTopic('offsets'), bootstrapBrokers: [LOCAL_BROKER] });
  try {
    return Number((await consumer.listOffsets({ topics: [topic] })).get(topic)![0]!);
  } finally {
    await consumer.close(true);
  }
}
