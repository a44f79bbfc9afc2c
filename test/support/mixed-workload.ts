/**
 * Support for the lake's mixed-workload test: which keys each transaction inserts, updates and deletes (seeded,
 * so a failure can be replayed), the change counts that tell when Kafka holds everything, the per-type
 * normalization under which a live row and its lake row must be equal, and `tributary compact --once` as a child.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Consumer } from '@platformatic/kafka';
import { LOCAL_BROKER, uniqueTopic } from './kafka.js';

const CLI = path.resolve(import.meta.dirname, '../../src/cli.ts');

/** mulberry32: a small seeded PRNG (Math.random cannot be replayed). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** One transaction's keys, applied in this order: update, delete, insert, then update again. */
export interface TransactionPlan {
  readonly update: readonly number[];
  readonly delete: readonly number[];
  /** Keys absent at that point: deleted earlier or just now (a delete and a re-insert in one transaction). */
  readonly insert: readonly number[];
  /** Some of the keys just inserted, updated in the same transaction. */
  readonly updateInserted: readonly number[];
}

export interface ChangeCounts {
  inserts: number;
  updates: number;
  deletes: number;
}

/** Change records on the topic for `counts`: one per change, plus the tombstone after each delete. */
export function recordsFor(counts: ChangeCounts): number {
  return counts.inserts + counts.updates + 2 * counts.deletes;
}

export function totalChanges(counts: ChangeCounts): number {
  return counts.inserts + counts.updates + counts.deletes;
}

/**
 * Keys 0..keys-1, all inserted first, then transactions of updates of random present keys, deletes, and
 * re-inserts of absent ones. Re-inserts run a little behind deletes, so the table ends with a pool of deleted
 * keys as well as rows that were deleted and re-inserted, some several times.
 */
export class KeyPlanner {
  readonly counts: ChangeCounts = { inserts: 0, updates: 0, deletes: 0 };
  private readonly present: Uint8Array;
  private presentCount = 0;

  constructor(
    readonly keys: number,
    private readonly random: () => number,
  ) {
    this.present = new Uint8Array(keys);
  }

  /** The initial inserts, in transactions of `size` keys. */
  *initial(size: number): Generator<number[]> {
    for (let start = 0; start < this.keys; start += size) {
      const ids = Array.from({ length: Math.min(size, this.keys - start) }, (_, i) => start + i);
      for (const id of ids) this.present[id] = 1;
      this.presentCount += ids.length;
      this.counts.inserts += ids.length;
      yield ids;
    }
  }

  /** A transaction of about `size` changes: 60% updates, 18% deletes, 16% re-inserts, and updates of 5% of those. */
  next(size: number): TransactionPlan {
    const update = this.sample(1, Math.round(size * 0.6));
    const deleted = this.sample(1, Math.round(size * 0.18));
    for (const id of deleted) this.present[id] = 0;
    this.presentCount -= deleted.length;
    const inserted = this.sample(0, Math.round(size * 0.16));
    for (const id of inserted) this.present[id] = 1;
    this.presentCount += inserted.length;
    const updateInserted = inserted.filter((_, i) => i % 20 === 0);
    this.counts.updates += update.length + updateInserted.length;
    this.counts.deletes += deleted.length;
    this.counts.inserts += inserted.length;
    return { update, delete: deleted, insert: inserted, updateInserted };
  }

  /** One present key, for the last change of the workload. */
  anyPresent(): number {
    return this.sample(1, 1)[0] ?? -1;
  }

  /** Up to `count` distinct random keys whose presence is `state`, in ascending order. */
  private sample(state: 0 | 1, count: number): number[] {
    const available = state === 1 ? this.presentCount : this.keys - this.presentCount;
    const wanted = Math.min(count, available);
    const chosen = new Set<number>();
    while (chosen.size < wanted) {
      const id = Math.floor(this.random() * this.keys);
      if (this.present[id] === state) chosen.add(id);
    }
    return [...chosen].sort((a, b) => a - b);
  }
}

/**
 * How a column's value is compared. Both sides arrive as text (the database's own output, DuckDB's CAST to
 * VARCHAR) and are brought to one form per kind:
 * - integer: the decimal integer;
 * - text: unchanged (byte for byte, unicode, quotes and backslashes included);
 * - decimal: exact, as digits: sign, integer part without leading zeros, fraction without trailing zeros (so
 *   1.5 and 1.500000 agree, and a lost or rounded digit does not; the column's scale is checked by its type);
 * - timestamptz: microseconds since the epoch of the UTC instant, whatever offset the text carries;
 * - timestamp: microseconds since the epoch reading the wall-clock value as UTC (no zone is involved);
 * - date: YYYY-MM-DD;
 * - boolean: true/false (PostgreSQL prints t/f);
 * - json: the parsed document with object keys sorted (PostgreSQL's jsonb reorders keys and spaces).
 */
export type ValueKind = 'integer' | 'text' | 'decimal' | 'timestamptz' | 'timestamp' | 'date' | 'boolean' | 'json';

export function normalize(kind: ValueKind, text: string | null): string | null {
  if (text === null) return null;
  switch (kind) {
    case 'integer':
      return BigInt(text).toString();
    case 'text':
    case 'date':
      return text;
    case 'decimal':
      return canonicalDecimal(text);
    case 'timestamptz':
      return epochMicros(text, true).toString();
    case 'timestamp':
      return epochMicros(text, false).toString();
    case 'boolean':
      return text === 't' || text === 'true' ? 'true' : text === 'f' || text === 'false' ? 'false' : `not a boolean: ${text}`;
    case 'json':
      return JSON.stringify(sortKeys(JSON.parse(text)));
  }
}

function canonicalDecimal(text: string): string {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (match === null) return `not a decimal: ${text}`;
  const integer = (match[2] ?? '').replace(/^0+/, '') || '0';
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  const zero = integer === '0' && fraction === '';
  return `${match[1] === '-' && !zero ? '-' : ''}${integer}${fraction === '' ? '' : `.${fraction}`}`;
}

const TIMESTAMP = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?|Z)?$/;

function epochMicros(text: string, zoned: boolean): bigint {
  const m = TIMESTAMP.exec(text.trim());
  if (m === null) throw new Error(`not a timestamp: ${text}`);
  const [, y, mo, d, h, mi, s, fraction, sign, oh, om, os] = m;
  if (!zoned && sign !== undefined) throw new Error(`a timestamp without time zone carries an offset: ${text}`);
  const date = new Date(0);
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s), 0);
  const offsetSeconds = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0));
  return (BigInt(date.getTime()) - BigInt(offsetSeconds) * 1000n) * 1000n + BigInt((fraction ?? '').padEnd(6, '0'));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
}

/**
 * Waits until `topic`'s end offset (partition 0) reaches `expected` (a topic not created yet counts as empty);
 * with `exact`, fails at once if it passes it.
 */
export async function waitForEndOffset(topic: string, expected: number, timeoutMs: number, exact = true): Promise<void> {
  const consumer = new Consumer({ clientId: 'tributary-test-offsets', groupId: uniqueTopic('offsets'), bootstrapBrokers: [LOCAL_BROKER] });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = await consumer
        .listOffsets({ topics: [topic] })
        .then((offsets) => Number(offsets.get(topic)?.[0] ?? 0n))
        .catch(() => 0);
      if (end === expected || (!exact && end > expected)) return;
      if (end > expected) throw new Error(`${topic} holds ${end} records, more than the ${expected} the workload made`);
      if (Date.now() > deadline) throw new Error(`${topic} holds ${end} of ${expected} records after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await consumer.close(true);
  }
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface CompactCommand {
  readonly result: Promise<CliRun>;
  /** SIGTERM: the continuous mode finishes the round in progress, then exits. */
  stop(): Promise<CliRun>;
}

/** `tributary compact -c FILE`, continuous (every lake.compact.intervalMs) or `--once`, as an operator runs it. */
export function compact(configFile: string, mode: 'once' | 'continuous'): CompactCommand {
  const started = Date.now();
  const args = ['--import', 'tsx', CLI, 'compact', '-c', configFile, ...(mode === 'once' ? ['--once'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const result = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
  return {
    result,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return result;
    },
  };
}
