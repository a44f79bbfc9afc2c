/**
 * `tributary run`: every configured source streaming through its own pipeline into one Kafka producer, with the
 * embedded schema registry when configured. SIGTERM/SIGINT stop reading, drain what is in flight, checkpoint and
 * return; a second signal, or the shutdown timeout, exits at once.
 */
import type { Config } from '../config/index.js';
import { CheckpointStore } from '../checkpoint/store.js';
import { createKafkaProducer } from '../kafka/producer.js';
import type { Logger } from '../ops/logger.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { DebeziumRecordEncoder } from '../pipeline/record-encoder.js';
import { createRegistryClient } from '../registry/client.js';
import { startEmbeddedRegistry } from '../registry/server.js';
import { kafkaSettings, TopicCreatingSink } from './kafka-sink.js';
import { createSource } from './sources.js';
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
    const pipelines = config.sources.map((sourceConfig, index) => {
      const source = createSource(sourceConfig, index, {
        progress,
        logger,
        startPosition: store.getPosition(sourceConfig.name)?.position,
      });
      cleanup.push(() => source.close());
      const encoder = new DebeziumRecordEncoder({
        kind: sourceConfig.kind === 'postgres' ? 'postgresql' : 'mysql',
        topicPrefix: sourceConfig.topicPrefix,
        transactions: sourceConfig.transactions,
        registry,
      });
      const queue = { maxItems: config.pipeline.queue.maxEvents, maxBytes: config.pipeline.queue.maxBytes };
      return new Pipeline({ name: sourceConfig.name, source, encoder, sink, store, logger }, { queue });
    });
    logger.info({ sources: config.sources.map((s) => s.name), registry: registryUrl }, 'tributary started');
    await Promise.all(
      pipelines.map((pipeline) =>
        pipeline.run(stop.signal).catch((error: unknown) => {
          // One failed source stops the others cleanly, so every checkpoint is written before the exit.
          stop.abort(error);
          throw error;
        }),
      ),
    );
    logger.info({ events: pipelines.reduce((sum, p) => sum + p.stats.events, 0) }, 'tributary stopped');
  } finally {
    detachSignals();
    for (const close of cleanup.reverse()) {
      await Promise.resolve()
        .then(close)
        .catch((error: unknown) => logger.warn({ err: error }, 'error while closing'));
    }
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
