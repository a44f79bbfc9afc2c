/**
 * `tributary replay`: one table's rows, read at one source position, emitted onto Kafka as Debezium snapshot
 * read events with the live topic's key, schema and subjects — onto the live topic or another one. It is the
 * daemon's pipeline (bounded queue, batching, ordered acknowledgements, the same encoder and producer) with a
 * snapshot reader as its source and the replay's progress as its checkpoint.
 *
 * Ordering: every row's source block carries the position it was read at (PostgreSQL: the LSN of the consistent
 * point; MySQL: binlog file and pos), and the replay logs and returns it. A consumer that read the replayed topic
 * joins the live stream by reading the live topic from the first record whose source position is after that
 * position; records at or before it are already in the replay. Per key: apply a record only if its source
 * position is after the one of the state held for that key — which also covers a resumed replay.
 *
 * Resuming: progress (the key of the last acknowledged row) survives kill -9, and a rerun continues behind that
 * key. A database read's consistent point cannot outlive its connection, and the lake may have published a newer
 * snapshot meanwhile, so a resumed replay reads the remaining rows at a new position: rows carry the position they
 * were read at, and the replay reports the first and the latest. Join the live stream after the first, with the
 * per-key rule above.
 *
 * Where rows come from (`--from`): by default the table's published lake snapshot when it has one, which costs the
 * source database nothing, else a consistent read of the database. An unfinished replay continues from where it
 * read, as its resume key only means something there.
 */
import type { Config } from '../config/index.js';
import { CheckpointStore } from '../checkpoint/store.js';
import { TopicCreatingSink } from '../daemon/kafka-sink.js';
import { openRegistry } from '../daemon/registry.js';
import { kafkaSettings } from '../kafka/settings.js';
import { createKafkaProducer } from '../kafka/producer.js';
import { ConfigError } from '../model/errors.js';
import { qualifiedName } from '../model/schema.js';
import { closeAll } from '../ops/close-all.js';
import type { Logger } from '../ops/logger.js';
import { handleStopSignals } from '../ops/stop-signals.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { DebeziumRecordEncoder } from '../pipeline/record-encoder.js';
import { createRegistryClient } from '../registry/client.js';
import { parseRowPosition, ReplayCheckpoint, type ReplayFrom, type ReplayPositions, type ReplayResume } from './checkpoint.js';
import { hasLakeSnapshot } from './lake-table.js';
import { ReplayProgress } from './progress.js';
import { TokenBucket } from './rate-limit.js';
import { ReplayRegistrar } from './registry-guard.js';
import { CheckpointingSink, ReplayEncoder } from './replay-sink.js';
import { ReplaySource } from './replay-source.js';
import type { OpenSnapshot, SnapshotReader } from './snapshot-reader.js';
import { databaseReader, resolveTarget, type ReplayTarget } from './target.js';

export interface ReplayOptions {
  /** `schema.table` / `database.table` as in the config, or `<source>.<table>` when several sources have it. */
  readonly table: string;
  /** Defaults to the lake when the table has a published lake snapshot, else the database (see above). */
  readonly from?: ReplayFrom;
  /** Defaults to the table's live topic. */
  readonly toTopic?: string;
  /** Rows per second at most. */
  readonly rate?: number;
  readonly logger: Logger;
  /** Stops the replay: in-flight rows are drained and progress saved, so a rerun continues. */
  readonly signal?: AbortSignal;
  /** Where the progress line goes when it is a TTY (default process.stderr); otherwise progress is logged. */
  readonly terminal?: NodeJS.WriteStream;
  /** Rows per database read and per Kafka batch (defaults: the source's snapshotChunkRows up to 2000, and 2000). */
  readonly chunkRows?: number;
  readonly batchRows?: number;
  /** Replaces the reader `--from` selects (tests). */
  readonly reader?: SnapshotReader;
}

export interface ReplayResult {
  readonly table: string;
  readonly topic: string;
  readonly from: ReplayFrom;
  /** Whether every row was emitted (false when stopped by the signal). */
  readonly completed: boolean;
  /** Rows acknowledged by this run, and in total (earlier runs included). */
  readonly rows: number;
  readonly totalRows: number;
  /** Source positions the replayed rows were read at (first = latest unless the replay was resumed). */
  readonly positions: ReplayPositions;
  readonly resumed: boolean;
  readonly seconds: number;
  readonly rowsPerSecond: number;
}

export async function runReplay(config: Config, options: ReplayOptions): Promise<ReplayResult> {
  const target = resolveTarget(config, options.table);
  const tableName = target.table.name;
  const topic = options.toTopic ?? target.liveTopic;
  if (options.rate !== undefined && !(options.rate > 0)) {
    throw new ConfigError(`--rate must be a positive number of rows per second, got ${options.rate}`, { fix: 'pass e.g. --rate 50000, or leave it out' });
  }
  const logger = options.logger.child({ replay: tableName, topic });
  const startedAt = performance.now();
  const cleanup: (() => Promise<void> | void)[] = [];
  const stop = new AbortController();
  const detachSignals = handleStopSignals(stop, {
    logger,
    shutdownTimeoutMs: config.pipeline.shutdownTimeoutMs,
    message: 'stopping the replay: draining in-flight rows',
  });
  options.signal?.addEventListener('abort', () => stop.abort(options.signal?.reason), { once: true });
  try {
    const store = CheckpointStore.open(config.checkpoint.path);
    cleanup.push(() => store.close());
    const checkpoint = new ReplayCheckpoint(store, tableName, topic);
    let resume = checkpoint.resume();
    const from =
      options.reader?.kind ?? options.from ?? resume?.from ?? ((await hasLakeSnapshot(config, target, logger)) ? 'lake' : 'database');
    if (resume !== undefined && resume.from !== from) {
      logger.warn({ rows: resume.rows, unfinished: resume.from, from }, `the unfinished replay read from the ${resume.from}; reading from the ${from} starts from the first row`);
      checkpoint.reset();
      resume = undefined;
    }
    const reader = options.reader ?? (await readerFor(from, config, target, options, logger));
    let snapshot = await reader.open(resume?.afterKey);
    cleanup.push(() => snapshot.close());
    if (resume !== undefined && !snapshot.resumable) {
      logger.warn({ rows: resume.rows }, 'the table has no key to continue after: replaying it from the first row');
      await snapshot.close();
      checkpoint.reset();
      resume = undefined;
      snapshot = await reader.open(undefined);
    }
    const positions = { first: resume?.positions.first ?? snapshot.position.text, current: snapshot.position.text };
    checkpoint.begin(positions, from, resume);
    logReplayStart(logger, snapshot, positions, resume, from);

    const registryEndpoint = await openRegistry(config, store, 'private', cleanup, logger);
    const registry = new ReplayRegistrar(
      createRegistryClient({ url: registryEndpoint.url, auth: registryEndpoint.auth, logger }),
      registryEndpoint,
      topic === target.liveTopic ? undefined : { from: target.liveTopic, to: topic },
    );
    const settings = kafkaSettings(config.kafka);
    const producer = createKafkaProducer(settings, logger);
    cleanup.push(() => producer.close());
    const rowsBefore = resume?.rows ?? 0;
    const batchRows = options.batchRows ?? 2000;
    const terminal = options.terminal ?? process.stderr;
    const progress = new ReplayProgress({ rowsBefore, remaining: snapshot.remainingRows, logger, terminal: terminal.isTTY ? terminal : undefined });
    const encoder = new ReplayEncoder(
      new DebeziumRecordEncoder({ topicPrefix: target.source.topicPrefix, transactions: false, registry }),
      topic === target.liveTopic ? undefined : topic,
    );
    const sink = new CheckpointingSink(new TopicCreatingSink(producer, settings, config.kafka.topics), encoder.positions, (position) => {
      checkpoint.savePosition(tableName, position);
      progress.update(parseRowPosition(position).rows);
    });
    const source = new ReplaySource(snapshot, {
      rowsBefore,
      ...(options.rate === undefined ? {} : { rate: new TokenBucket(options.rate) }),
      now: Date.now,
    });
    const pipeline = new Pipeline(
      // Progress is saved by the sink per acknowledged batch; the pipeline's own periodic checkpoint has nothing to add.
      { name: `replay:${tableName}:${topic}`, source, encoder, sink, store: { savePosition() {}, markConfirmed() {} }, logger },
      {
        // Two batches: enough to keep the producer busy. A deeper queue only lets rows live long enough to reach V8's old
        // generation, which grows the heap (measured: 10k events and 10k-row pages peak ~60 MiB higher).
        queue: { maxItems: Math.min(config.pipeline.queue.maxEvents, 2 * batchRows), maxBytes: config.pipeline.queue.maxBytes },
        maxBatchEvents: batchRows,
        // One batch in flight: after kill -9 at most that one batch is sent again.
        maxInFlightBatches: 1,
      },
    );
    try {
      await pipeline.run(stop.signal);
    } finally {
      progress.stop();
    }
    const completed = !stop.signal.aborted;
    if (completed && source.rows === 0) checkpoint.complete(rowsBefore);
    const seconds = (performance.now() - startedAt) / 1000;
    const rows = pipeline.stats.events;
    const result: ReplayResult = {
      table: tableName,
      topic,
      from,
      completed,
      rows,
      totalRows: rowsBefore + rows,
      positions,
      resumed: resume !== undefined,
      seconds,
      rowsPerSecond: rows / Math.max(seconds, 1e-3),
    };
    const { table: _table, topic: _topic, ...figures } = result;
    logger.info({ ...figures, rowsPerSecond: Math.round(result.rowsPerSecond) }, completed ? 'replay done' : 'replay stopped; rerun to continue');
    return result;
  } finally {
    detachSignals();
    await closeAll(cleanup, logger);
  }
}

async function readerFor(from: ReplayFrom, config: Config, target: ReplayTarget, options: ReplayOptions, logger: Logger): Promise<SnapshotReader> {
  if (from === 'lake') {
    // Loaded only here: DuckDB costs ~37 MiB of RSS that a database replay has no use for.
    const { LakeSnapshotReader } = await import('./lake-reader.js');
    return new LakeSnapshotReader({ config, target, logger });
  }
  return databaseReader(target, options.chunkRows ?? Math.min(target.source.snapshotChunkRows, 2000), logger);
}

function logReplayStart(logger: Logger, snapshot: OpenSnapshot, positions: ReplayPositions, resume: ReplayResume | undefined, kind: string): void {
  const { id } = snapshot.schema;
  logger.info(
    {
      from: kind,
      table: qualifiedName(id),
      position: positions.current,
      ...(resume === undefined ? {} : { resumedAfterRows: resume.rows, firstPosition: positions.first }),
      remainingRows: snapshot.remainingRows,
    },
    resume === undefined
      ? `replay started: rows as of source position ${positions.current}`
      : `replay resumed after ${resume.rows} rows: remaining rows as of source position ${positions.current} (earlier rows as of ${positions.first})`,
  );
}
