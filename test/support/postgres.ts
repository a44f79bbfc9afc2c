/**
 * Helpers for tests against the local PostgreSQL: unique names, an admin connection, a source wired with an
 * in-memory progress store, and an event reader that waits on conditions.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ChangeEvent, SourceEvent } from '../../src/model/change.js';
import { silentLogger } from '../../src/ops/logger.js';
import { MemorySnapshotProgressStore } from '../../src/sources/source.js';
import { PostgresSource, type PostgresSourceOptions } from '../../src/sources/postgres/source.js';
import type { PgConnectionOptions } from '../../src/sources/postgres/connection.js';

export const PG: PgConnectionOptions = { host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres' };

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export async function admin(): Promise<pg.Client> {
  const client = new pg.Client({ ...PG });
  await client.connect();
  return client;
}

/** Runs statements on a fresh connection, so each is its own transaction unless BEGIN is given. */
export async function sql(...statements: string[]): Promise<void> {
  const client = await admin();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

export interface TestSource {
  readonly source: PostgresSource;
  readonly slot: string;
  readonly publication: string;
  readonly progress: MemorySnapshotProgressStore;
  readonly reader: EventReader;
  readonly abort: AbortController;
  /** Closes the source, then drops slot and publication. */
  cleanup(): Promise<void>;
}

export function sourceOptions(overrides: Partial<PostgresSourceOptions> & Pick<PostgresSourceOptions, 'tables'>): PostgresSourceOptions {
  return {
    name: 'pgtest',
    connection: PG,
    slot: uniqueName('slot'),
    publication: uniqueName('pub'),
    snapshot: 'initial',
    snapshotChunkRows: 3,
    truncate: true,
    transactions: true,
    heartbeatIntervalMs: 200,
    progress: new MemorySnapshotProgressStore(),
    logger: silentLogger(),
    clock: { now: () => Date.now() },
    ...overrides,
  };
}

export function startSource(options: PostgresSourceOptions): TestSource {
  const source = new PostgresSource(options);
  const abort = new AbortController();
  const reader = new EventReader(source.events(abort.signal)[Symbol.asyncIterator]());
  return {
    source,
    slot: options.slot,
    publication: options.publication,
    progress: options.progress as MemorySnapshotProgressStore,
    reader,
    abort,
    async cleanup() {
      abort.abort();
      await source.close();
      await dropSlotAndPublication(options.slot, options.publication);
    },
  };
}

/** Starts the source and waits until its slot is streaming, so changes made from now on are captured. */
export async function streaming(test: TestSource): Promise<void> {
  test.reader.prime();
  const client = await admin();
  try {
    await waitFor(async () => {
      const result = await client.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [test.slot]);
      return result.rows[0]?.active === true;
    }, `slot ${test.slot} to be streaming`);
  } finally {
    await client.end();
  }
}

/** The change events among `events`. */
export function changes(events: readonly SourceEvent[]): ChangeEvent[] {
  return events.filter((event): event is ChangeEvent => event.type === 'change');
}

export async function dropSlotAndPublication(slot: string, publication: string): Promise<void> {
  const client = await admin();
  try {
    await waitFor(async () => {
      const result = await client.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      return result.rows[0]?.active !== true;
    }, 'slot to become inactive');
    await client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    await client.query(`DROP PUBLICATION IF EXISTS "${publication}"`);
  } finally {
    await client.end();
  }
}

export async function waitFor(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Pulls events from a source iterator with timeouts, never sleeping for a fixed time. */
export class EventReader {
  private pending: Promise<IteratorResult<SourceEvent>> | undefined;

  constructor(private readonly iterator: AsyncIterator<SourceEvent>) {}

  /** Starts pulling, so the source starts working, without waiting for an event. */
  prime(): void {
    this.pending ??= this.iterator.next();
    this.pending.catch(() => undefined);
  }

  async next(timeoutMs = 15_000): Promise<SourceEvent> {
    this.pending ??= this.iterator.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no source event within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const result = await Promise.race([this.pending, timeout]);
      this.pending = undefined;
      if (result.done === true) throw new Error('source ended');
      return result.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads until `count` events match `keep` (others are dropped), returning the matched ones. */
  async take(count: number, keep: (event: SourceEvent) => boolean = (event) => event.type === 'change', timeoutMs = 15_000): Promise<SourceEvent[]> {
    const out: SourceEvent[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < count) {
      const event = await this.next(Math.max(1, deadline - Date.now()));
      if (keep(event)) out.push(event);
    }
    return out;
  }

  /** Reads events until one satisfies `predicate`, returning everything read including it. */
  async until(predicate: (event: SourceEvent) => boolean, timeoutMs = 15_000): Promise<SourceEvent[]> {
    const out: SourceEvent[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = await this.next(Math.max(1, deadline - Date.now()));
      out.push(event);
      if (predicate(event)) return out;
    }
  }
}
