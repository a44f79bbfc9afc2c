/**
 * Helpers for `replay --from lake` tests against a table streamed by the daemon: the same table replayed from the
 * lake and from the database, read back by the independent consumer, and compared with each other and with the
 * table the live topic describes.
 */
import assert from 'node:assert/strict';
import type { Config } from '../../src/config/index.js';
import { runCompaction } from '../../src/lake/index.js';
import { silentLogger } from '../../src/ops/logger.js';
import { runReplay, type ReplayResult } from '../../src/replay/index.js';
import { readDecoded, type DecodedRecord } from './debezium-consumer.js';
import { uniqueTopic } from './kafka.js';

/** JSON of decoded Avro values: bigints and bytes written out, so equal values give equal text. */
export function text(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v !== null && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer') return `0x${Buffer.from((v as { data: number[] }).data).toString('hex')}`;
    return v;
  });
}

/** The table a change topic describes: the latest `after` per key (deletes remove the key). */
export function tableFromTopic(records: readonly DecodedRecord[]): Map<string, string> {
  const rows = new Map<string, string>();
  for (const record of records) {
    if (record.value === null) continue;
    if (record.value.op === 'd') rows.delete(text(record.key));
    else rows.set(text(record.key), text(record.value.after));
  }
  return rows;
}

export interface BothReplays {
  readonly lake: { readonly result: ReplayResult; readonly records: DecodedRecord[]; readonly topic: string };
  readonly database: { readonly result: ReplayResult; readonly records: DecodedRecord[]; readonly topic: string };
}

/** Compacts `table` into the lake, then replays it from the lake and from the database to two new topics. */
export async function replayBoth(config: Config, table: string, registryUrl: string): Promise<BothReplays> {
  // A group of its own: the default one is shared with every other compaction against the broker.
  const [compacted] = await runCompaction(config, { logger: silentLogger(), table, groupId: uniqueTopic('replay-lake-group') });
  assert.ok(compacted !== undefined && compacted.snapshotId !== null, 'a lake snapshot was published');
  const topics = { lake: uniqueTopic('replay-lake'), database: uniqueTopic('replay-db') };
  const lake = await runReplay(config, { table, from: 'lake', toTopic: topics.lake, logger: silentLogger() });
  const database = await runReplay(config, { table, from: 'database', toTopic: topics.database, logger: silentLogger() });
  const read = (topic: string, rows: number) => readDecoded(registryUrl, topic, (r) => r.length >= rows, 60_000);
  return {
    lake: { result: lake, records: await read(topics.lake, lake.totalRows), topic: topics.lake },
    database: { result: database, records: await read(topics.database, database.totalRows), topic: topics.database },
  };
}

/** The source block fields that say where and when a snapshot was read, which differ between the two reads. */
const POSITION_FIELDS = new Set(['ts_ms', 'ts_us', 'ts_ns', 'lsn', 'file', 'pos', 'row', 'gtid', 'server_id']);

/**
 * Record by record (both are in key order for integer keys): the same key, and the same envelope but for the
 * processing timestamps and the source position each read was taken at.
 */
export function assertSameEvents(lake: readonly DecodedRecord[], database: readonly DecodedRecord[]): void {
  assert.equal(lake.length, database.length, 'as many events from the lake as from the database');
  lake.forEach((record, index) => {
    const other = database[index]!;
    assert.equal(text(record.key), text(other.key), `key of event ${index}`);
    const { ts_ms: _a, ts_us: _b, ts_ns: _c, source, ...envelope } = record.value as unknown as Record<string, unknown>;
    const { ts_ms: _d, ts_us: _e, ts_ns: _f, source: otherSource, ...otherEnvelope } = other.value as unknown as Record<string, unknown>;
    assert.equal(text(envelope), text(otherEnvelope), `event ${index} (key ${text(record.key)})`);
    const withoutPosition = (s: unknown): string => text(Object.entries(s as object).filter(([k]) => !POSITION_FIELDS.has(k)));
    assert.equal(withoutPosition(source), withoutPosition(otherSource), `source block of event ${index}`);
  });
}

/** The latest schema text registered under `subject`. */
export async function registeredSchema(registryUrl: string, subject: string): Promise<string> {
  const response = await fetch(`${registryUrl}/subjects/${encodeURIComponent(subject)}/versions/latest`);
  assert.equal(response.status, 200, `subject ${subject} is registered`);
  return ((await response.json()) as { schema: string }).schema;
}

/** Key and value subjects of every topic hold the live topic's schemas. */
export async function assertLiveSchemas(registryUrl: string, liveTopic: string, topics: readonly string[]): Promise<void> {
  for (const suffix of ['-key', '-value']) {
    const live = await registeredSchema(registryUrl, `${liveTopic}${suffix}`);
    for (const topic of topics) assert.equal(await registeredSchema(registryUrl, `${topic}${suffix}`), live, `${topic}${suffix} is ${liveTopic}${suffix}`);
  }
}
