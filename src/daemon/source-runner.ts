/**
 * Runs one configured source for the daemon's lifetime: source, pipeline, metrics and readiness wired together,
 * and rebuilt from the last checkpoint with backoff when the source or Kafka fails in a way that may pass. A
 * permanent error (bad setting, missing privilege, unmappable type) is not retried: it stops the daemon loudly.
 */
import type { Config } from '../config/index.js';
import type { CheckpointStore } from '../checkpoint/store.js';
import type { Logger } from '../ops/logger.js';
import type { StateReporter } from '../ops/health.js';
import { errorKind, instrumentPipeline, instrumentSnapshotProgress, type SourceMetrics } from '../ops/metrics.js';
import { isRetriable, retry } from '../ops/retry.js';
import { Pipeline, type RecordSink } from '../pipeline/pipeline.js';
import { DebeziumRecordEncoder, type SchemaRegistrar } from '../pipeline/record-encoder.js';
import type { SnapshotProgressStore } from '../sources/source.js';
import { createSource } from './sources.js';

export interface SourceRunnerDeps {
  readonly config: Config;
  readonly index: number;
  readonly store: CheckpointStore;
  readonly progress: SnapshotProgressStore;
  readonly registry: SchemaRegistrar;
  readonly sink: RecordSink;
  readonly metrics: SourceMetrics;
  readonly report: StateReporter;
  readonly logger: Logger;
}

/** Resolves when `signal` aborts and the pipeline drained; rejects on a permanent error. */
export async function runSource(deps: SourceRunnerDeps, signal: AbortSignal): Promise<void> {
  const sourceConfig = deps.config.sources[deps.index];
  if (sourceConfig === undefined) throw new RangeError(`no source at index ${deps.index}`);
  const logger = deps.logger.child({ source: sourceConfig.name });
  await retry(
    async () => {
      if (signal.aborted) return;
      await runOnce(deps, sourceConfig, logger, signal);
    },
    {
      retries: Number.POSITIVE_INFINITY,
      initialDelayMs: 500,
      maxDelayMs: 30_000,
      signal,
      shouldRetry: (error) => !signal.aborted && isRetriable(error),
      onRetry: (error, attempt, delayMs) => {
        deps.report('reconnecting', error instanceof Error ? error.message : String(error));
        logger.warn({ err: error, attempt, delayMs }, 'source failed; restarting from the last checkpoint');
      },
    },
  ).catch((error: unknown) => {
    if (signal.aborted) return;
    deps.report('failed', error instanceof Error ? error.message : String(error));
    throw error;
  });
}

async function runOnce(deps: SourceRunnerDeps, sourceConfig: Config['sources'][number], logger: Logger, signal: AbortSignal): Promise<void> {
  const { config, store, metrics } = deps;
  const source = await createSource(sourceConfig, deps.index, {
    progress: instrumentSnapshotProgress(deps.progress, metrics),
    logger,
    startPosition: store.getPosition(sourceConfig.name)?.position,
    report: deps.report,
  });
  try {
    // The connector each event follows (PostgreSQL, MySQL or MariaDB) is its source.connector: a binlog server's
    // flavor is only known once the source has connected.
    const encoder = new DebeziumRecordEncoder({
      topicPrefix: sourceConfig.topicPrefix,
      transactions: sourceConfig.transactions,
      registry: deps.registry,
    });
    const instrumented = instrumentPipeline({ source, encoder, sink: deps.sink, store }, metrics);
    const queue = { maxItems: config.pipeline.queue.maxEvents, maxBytes: config.pipeline.queue.maxBytes };
    // Kafka requests go out one at a time; what queues behind the one in flight is the next request, so let up to
    // two requests' worth of records be in flight rather than a fixed number of (possibly small) batches.
    const pipeline = new Pipeline(
      { name: sourceConfig.name, ...instrumented, logger },
      { queue, maxInFlightBatches: 64, maxInFlightBytes: 2 * config.kafka.producer.batchBytes },
    );
    metrics.onQueueDepth(() => pipeline.queueDepth);
    metrics.onLag(() => ({ bytes: source.lagBytes() }));
    await pipeline.run(signal);
  } catch (error) {
    if (!signal.aborted) metrics.error(errorKind(error));
    throw error;
  } finally {
    await source.close().catch((error: unknown) => logger.warn({ err: error }, 'error while closing the source'));
  }
}
