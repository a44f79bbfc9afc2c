/**
 * The lake compactor's entry points: one pass over the configured tables (`tributary compact --once`) and the
 * continuous mode that repeats it every `lake.compact.intervalMs`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SchemaSource } from '../avro/decoder.js';
import type { Config } from '../config/schema.js';
import { TributaryError } from '../model/errors.js';
import { kafkaSettings } from '../kafka/settings.js';
import type { Logger } from '../ops/logger.js';
import { createRegistryClient } from '../registry/client.js';
import type { BucketOptions } from './buckets.js';
import { compactTable, type SnapshotResult } from './compactor.js';
import { lakeTargets, requireLake } from './targets.js';

export { compactTable, type CompactorDeps, type SnapshotResult, type TableTarget } from './compactor.js';
export { lakeTargets } from './targets.js';
export { LAKE_FORMAT_VERSION, type TableMetadata } from './metadata.js';

/**
 * DuckDB's buffer pool for a compaction. DuckDB allocates more than the pool (Parquet writers, per-thread state):
 * with 256MB a 5M-row base compaction peaked at 553 MB RSS, with 128MB at 387 MB and at the same speed (bench/).
 */
export const DEFAULT_MEMORY_LIMIT = '128MB';

export interface CompactionOptions {
  readonly logger: Logger;
  /** Only this table: `schema.table` / `database.table`, or `<source>.<schema>.<table>` when names repeat. */
  readonly table?: string;
  /** Where to fetch writer schemas; defaults to a client for `registry.url`. */
  readonly registry?: SchemaSource;
  /** DuckDB memory limit (default DEFAULT_MEMORY_LIMIT): the merge spills to disk beyond it. */
  readonly memoryLimit?: string;
  /** DuckDB threads (default 2). */
  readonly threads?: number;
  /** Changes per snapshot at most (default 5 000 000); a larger backlog becomes several snapshots. */
  readonly maxChangesPerSnapshot?: number;
  readonly buckets?: BucketOptions;
  /** Consumer group (default `<kafka.clientId>-lake`). */
  readonly groupId?: string;
  /** Stops the continuous mode between rounds. */
  readonly signal?: AbortSignal;
}

/** Compacts every selected table once, up to the end of its topic as of the start. */
export async function runCompaction(config: Config, options: CompactionOptions): Promise<SnapshotResult[]> {
  const targets = lakeTargets(config, options.table);
  const deps = {
    kafka: kafkaSettings(config.kafka),
    groupId: options.groupId ?? `${config.kafka.clientId}-lake`,
    registry:
      options.registry ??
      createRegistryClient({
        url: config.registry.url ?? '',
        ...(config.registry.mode === 'external' && config.registry.auth !== undefined ? { auth: config.registry.auth } : {}),
        logger: options.logger,
      }),
    logger: options.logger,
    memoryLimit: options.memoryLimit ?? DEFAULT_MEMORY_LIMIT,
    threads: options.threads ?? 2,
    maxChangesPerSnapshot: options.maxChangesPerSnapshot ?? 5_000_000,
    ...(options.buckets === undefined ? {} : { buckets: options.buckets }),
  };
  const results: SnapshotResult[] = [];
  for (const target of targets) results.push(...(await compactTable(target, deps)));
  return results;
}

/**
 * Compacts every `lake.compact.intervalMs` until `signal` aborts. A failing table is logged and tried again
 * next round when the failure may pass (broker or registry down); a failure that will not pass is thrown.
 */
export async function runContinuousCompaction(config: Config, options: CompactionOptions): Promise<void> {
  const interval = requireLake(config).compact.intervalMs;
  const targets = lakeTargets(config, options.table);
  const aborted = (): boolean => options.signal?.aborted === true;
  while (!aborted()) {
    for (const target of targets) {
      if (aborted()) return;
      try {
        await runCompaction(config, { ...options, table: `${target.sourceName}.${target.namespace}.${target.table}` });
      } catch (error) {
        if (!(error instanceof TributaryError) || !error.retriable) throw error;
        options.logger.warn({ err: error, table: `${target.namespace}.${target.table}` }, 'lake: compaction failed; retrying next round');
      }
    }
    await sleep(interval, undefined, options.signal === undefined ? {} : { signal: options.signal }).catch(() => undefined);
  }
}
