/**
 * `tributary run`: every configured source streaming through its own pipeline into one Kafka producer, with the
 * embedded schema registry when configured. SIGTERM/SIGINT stop reading, drain what is in flight, checkpoint and
 * return; a second signal, or the shutdown timeout, exits at once.
 */
import type { Config } from '../config/index.js';
import { CheckpointStore } from '../checkpoint/store.js';
import { createKafkaProducer } from '../kafka/producer.js';
import { closeAll } from '../ops/close-all.js';
import type { Logger } from '../ops/logger.js';
import { ReadinessTracker } from '../ops/health.js';
import { startOpsServer } from '../ops/http.js';
import { TributaryMetrics } from '../ops/metrics.js';
import { handleStopSignals } from '../ops/stop-signals.js';
import { createRegistryClient } from '../registry/client.js';
import { TopicCreatingSink } from './kafka-sink.js';
import { openRegistry } from './registry.js';
import { kafkaSettings } from '../kafka/settings.js';
import { runSource } from './source-runner.js';
import { snapshotProgressStore } from './store-adapters.js';

export interface DaemonOptions {
  readonly logger: Logger;
  /** Stops the daemon like SIGTERM does; signals are handled as well. */
  readonly signal?: AbortSignal;
}

export async function runDaemon(config: Config, options: DaemonOptions): Promise<void> {
  const { logger } = options;
  const store = CheckpointStore.open(config.checkpoint.path);
  const cleanup: (() => Promise<void> | void)[] = [() => store.close()];
  const stop = new AbortController();
  const detachSignals = handleStopSignals(stop, {
    logger,
    shutdownTimeoutMs: config.pipeline.shutdownTimeoutMs,
    message: 'stopping: draining in-flight events',
  });
  options.signal?.addEventListener('abort', () => stop.abort(options.signal?.reason), { once: true });
  try {
    const metrics = new TributaryMetrics();
    const readiness = new ReadinessTracker(
      config.sources.map((s) => s.name),
      { onChange: (name, state) => metrics.source(name).state(state) },
    );
    // Pushed early so it closes last: /readyz and /metrics keep answering while the pipelines drain.
    const ops = await startOpsServer({ ...config.http, metrics, readiness: () => readiness.report(), logger });
    cleanup.push(() => ops.close());
    const endpoint = await openRegistry(config, store, 'configured', cleanup, logger);
    const registry = createRegistryClient({ url: endpoint.url, auth: endpoint.auth, logger });
    const settings = kafkaSettings(config.kafka);
    const producer = createKafkaProducer(settings, logger);
    cleanup.push(() => producer.close());
    const sink = new TopicCreatingSink(producer, settings, config.kafka.topics);
    const progress = snapshotProgressStore(store);

    // Imported only when enabled: DuckDB's native library adds ~35 MiB to a daemon that does not use it.
    const compaction = config.lake?.compact.enabled === true ? (await import('../lake/index.js')).runContinuousCompaction : undefined;
    logger.info({ sources: config.sources.map((s) => s.name), registry: endpoint.url, ops: ops.url }, 'tributary started');
    const tasks = config.sources.map((source, index) =>
      runSource(
        { config, index, store, progress, registry, sink, logger, metrics: metrics.source(source.name), report: readiness.reporter(source.name) },
        stop.signal,
      ),
    );
    if (compaction !== undefined) {
      tasks.push(compaction(config, { logger: logger.child({ component: 'lake' }), signal: stop.signal }));
    }
    await Promise.all(
      tasks.map((task) =>
        task.catch((error: unknown) => {
          // A permanent failure stops everything else cleanly, so every checkpoint is written before the exit.
          stop.abort(error);
          throw error;
        }),
      ),
    );
    logger.info('tributary stopped');
  } finally {
    detachSignals();
    await closeAll(cleanup, logger);
  }
}
