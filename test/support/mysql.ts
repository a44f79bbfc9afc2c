/**
 * Helpers for integration tests against the local MariaDB (127.0.0.1:3306, root, database `test`).
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { SourceEvent } from '../../src/model/change.js';
import { silentLogger } from '../../src/ops/logger.js';
import { MemorySnapshotProgressStore } from '../../src/sources/source.js';
import { MysqlSource, type MysqlSourceOptions } from '../../src/sources/mysql/source.js';

export const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export async function adminConnection(): Promise<mysql.Connection> {
  const connection = await mysql.createConnection({ ...MYSQL, database: 'test', multipleStatements: true, timezone: 'Z' });
  await connection.query("SET time_zone = '+00:00'");
  return connection;
}

let replicaIds = 1000 + Math.floor(Math.random() * 100_000);

export function mysqlSource(overrides: Partial<MysqlSourceOptions> & Pick<MysqlSourceOptions, 'tables'>): MysqlSource {
  return new MysqlSource({
    name: uniqueName('src'),
    connection: MYSQL,
    serverId: replicaIds++,
    gtid: true,
    snapshot: 'never',
    snapshotChunkRows: 3,
    transactions: false,
    progress: new MemorySnapshotProgressStore(),
    logger: silentLogger(),
    heartbeatMs: 1_000,
    ...overrides,
  });
}

/**
 * Pulls events in the background; `until` waits for a predicate over everything received so far (or fails
 * after `timeoutMs`).
 */
export class EventCollector {
  readonly events: SourceEvent[] = [];
  private readonly controller = new AbortController();
  private error: unknown = null;
  private readonly done: Promise<void>;
  private readonly waiters = new Set<() => void>();

  constructor(source: MysqlSource) {
    this.done = (async () => {
      try {
        for await (const event of source.events(this.controller.signal)) {
          this.events.push(event);
          for (const w of this.waiters) w();
        }
      } catch (error) {
        if (!this.controller.signal.aborted) this.error = error;
      } finally {
        for (const w of this.waiters) w();
      }
    })();
  }

  changes(): Extract<SourceEvent, { type: 'change' }>[] {
    return this.events.filter((e): e is Extract<SourceEvent, { type: 'change' }> => e.type === 'change');
  }

  async until(predicate: (events: SourceEvent[]) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.events)) {
      if (this.error !== null) throw this.error;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; received ${this.events.length} events`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiters.clear();
    }
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.done;
    if (this.error !== null) throw this.error;
  }
}
