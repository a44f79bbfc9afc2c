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
import { createRegistryClient } from '../registry/client.js';
import { startEmbeddedRegistry } from '../registry/server.js';
import { TopicCreatingSink } from './kafka-sink.js';
import { kafkaSettings } from '../kafka/settings.js';
import { runSource } from './source-runner.js';
import { runContinuousCompaction } from '../lake/index.js';
import { registrySchemaStore, snapshotProgressStore } from './store-adapters.js';

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
  const detachSignals = handleSignals(stop, config.pipeline.shutdownTimeoutMs, logger);
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
    const registryUrl = await startRegistry(config, store, logger, cleanup);
    const registry = createRegistryClient({
      url: registryUrl,
      auth: config.registry.mode === 'external' ? config.registry.auth : undefined,
      logger,
    });
    const settings = kafkaSettings(config.kafka);
    const producer = createKafkaProducer(settings, logger);
    cleanup.push(() => producer.close());
    const sink = new TopicCreatingSink(producer, settings, config.kafka.topics);
    const progress = snapshotProgressStore(store);

    logger.info({ sources: config.sources.map((s) => s.name), registry: registryUrl, ops: ops.url }, 'tributary started');
    const tasks = config.sources.map((source, index) =>
      runSource(
        { config, index, store, progress, registry, sink, logger, metrics: metrics.source(source.name), report: readiness.reporter(source.name) },
        stop.signal,
      ),
    );
    if (config.lake?.compact.enabled === true) {
      tasks.push(runContinuousCompaction(config, { logger: logger.child({ component: 'lake' }), signal: stop.signal }));
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

async function startRegistry(config: Config, store: CheckpointStore, logger: Logger, cleanup: (() => Promise<void> | void)[]): Promise<string> {
  const registry = config.registry;
  if (registry.mode === 'external') return registry.url;
  const server = await startEmbeddedRegistry({
    host: registry.listen.host,
    port: registry.listen.port,
    store: registrySchemaStore(store),
    logger,
  });
  cleanup.push(() => server.close());
  return registry.url ?? server.url;
}

function handleSignals(stop: AbortController, shutdownTimeoutMs: number, logger: Logger): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(130);
    }
    logger.info({ signal, shutdownTimeoutMs }, 'stopping: draining in-flight events');
    stop.abort(new Error(`stopped by ${signal}`));
    setTimeout(() => {
      logger.error({ shutdownTimeoutMs }, 'shutdown took too long: exiting without a final checkpoint');
      process.exit(1);
    }, shutdownTimeoutMs).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
