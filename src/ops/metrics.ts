/**
 * Prometheus metrics on a registry of our own (not prom-client's global one, so tests and embedders can run
 * several). The hot path stays cheap: event counts are plain numbers kept per table and op, handed to the
 * counters only when Prometheus scrapes, and per-table state is found by the table schema object's identity,
 * so counting an event builds no label string.
 *
 * `instrumentPipeline` wraps a pipeline's encoder, sink and position store so that the pipeline itself needs no
 * knowledge of metrics.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Op, SourceEvent } from '../model/change.js';
import { qualifiedName, type TableSchema } from '../model/schema.js';
import { TributaryError } from '../model/errors.js';
import type { OutgoingRecord, PipelineSource, PositionStore, RecordEncoder, RecordSink } from '../pipeline/pipeline.js';
import type { SnapshotProgressStore } from '../sources/source.js';
import { SOURCE_STATES, type SourceState } from './health.js';

const OPS: readonly Op[] = ['c', 'u', 'd', 'r', 't'];

/** 1 ms to 10 s: an acknowledged local produce takes a few ms, a broker failover seconds. */
export const PRODUCE_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface SourceLag {
  /** How far the source server is ahead of what reached Kafka, in bytes of WAL or binlog. */
  readonly bytes?: number;
  readonly seconds?: number;
}

export interface QueueDepth {
  readonly events: number;
  readonly bytes: number;
}

export interface MetricsOptions {
  /** Also export Node's process metrics (memory, CPU, event loop lag, ...). Default true. */
  readonly processMetrics?: boolean;
  /** ms since epoch; for ages and lag. */
  readonly clock?: () => number;
}

type OpCounts = Record<Op, number>;

interface TableCounts {
  readonly table: string;
  readonly counts: OpCounts;
}

export class TributaryMetrics {
  readonly registry = new Registry();
  readonly clock: () => number;
  private readonly sources = new Map<string, SourceMetrics>();

  readonly events: Counter<'source' | 'table' | 'op'>;
  readonly producedBytes: Counter<'source'>;
  readonly producedRecords: Counter<'source'>;
  readonly lagBytes: Gauge<'source'>;
  readonly lagSeconds: Gauge<'source'>;
  readonly queueEvents: Gauge<'source'>;
  readonly queueBytes: Gauge<'source'>;
  readonly produceLatency: Histogram<'source'>;
  readonly checkpoint: Gauge<'source' | 'position'>;
  readonly checkpointAge: Gauge<'source'>;
  readonly snapshotRows: Gauge<'source' | 'table'>;
  readonly snapshotDone: Gauge<'source' | 'table'>;
  readonly errors: Counter<'source' | 'kind'>;
  readonly state: Gauge<'source' | 'state'>;

  constructor(options: MetricsOptions = {}) {
    this.clock = options.clock ?? Date.now;
    const registers = [this.registry];
    const all = (): SourceMetrics[] => [...this.sources.values()];
    this.events = new Counter({
      name: 'tributary_events_total',
      help: 'Change events acknowledged by Kafka, by source, table and Debezium op (c, u, d, r, t)',
      labelNames: ['source', 'table', 'op'],
      registers,
      collect() {
        this.reset();
        for (const source of all()) source.collectEvents(this);
      },
    });
    this.producedBytes = new Counter({ name: 'tributary_produced_bytes_total', help: 'Bytes of record keys and values acknowledged by Kafka', labelNames: ['source'], registers });
    this.producedRecords = new Counter({ name: 'tributary_produced_records_total', help: 'Records acknowledged by Kafka (changes and transaction markers)', labelNames: ['source'], registers });
    this.lagBytes = new Gauge({
      name: 'tributary_source_lag_bytes',
      help: 'How far the source server is ahead of the last acknowledged position, in WAL or binlog bytes',
      labelNames: ['source'],
      registers,
      collect: () => all().forEach((s) => s.collectLag()),
    });
    this.lagSeconds = new Gauge({
      name: 'tributary_source_lag_seconds',
      help: 'Commit time at the source to Kafka acknowledgement, for the last acknowledged batch',
      labelNames: ['source'],
      registers,
    });
    this.queueEvents = new Gauge({
      name: 'tributary_queue_depth_events',
      help: 'Events read from the source and not yet taken for producing',
      labelNames: ['source'],
      registers,
      collect: () => all().forEach((s) => s.collectQueue()),
    });
    this.queueBytes = new Gauge({ name: 'tributary_queue_depth_bytes', help: 'Estimated bytes of the queued events', labelNames: ['source'], registers });
    this.produceLatency = new Histogram({
      name: 'tributary_produce_latency_seconds',
      help: 'Time from handing a batch to the producer to its acknowledgement by Kafka',
      labelNames: ['source'],
      buckets: PRODUCE_LATENCY_BUCKETS,
      registers,
    });
    this.checkpoint = new Gauge({
      name: 'tributary_checkpoint_info',
      help: 'The last position written to the checkpoint store (value 1; the position is the label)',
      labelNames: ['source', 'position'],
      registers,
    });
    this.checkpointAge = new Gauge({
      name: 'tributary_checkpoint_age_seconds',
      help: 'Seconds since the last checkpoint was written',
      labelNames: ['source'],
      registers,
      collect: () => all().forEach((s) => s.collectCheckpointAge()),
    });
    this.snapshotRows = new Gauge({ name: 'tributary_snapshot_rows', help: 'Rows emitted so far by the initial snapshot, per table', labelNames: ['source', 'table'], registers });
    this.snapshotDone = new Gauge({ name: 'tributary_snapshot_complete', help: '1 when the initial snapshot of the table finished', labelNames: ['source', 'table'], registers });
    this.errors = new Counter({ name: 'tributary_errors_total', help: 'Errors by source and kind (the error class)', labelNames: ['source', 'kind'], registers });
    this.state = new Gauge({ name: 'tributary_source_state', help: 'The state of each source (1 for the current one)', labelNames: ['source', 'state'], registers });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'tributary_' });
  }

  /** The metrics of one source; created on first use and cached, so callers may call this freely. */
  source(name: string): SourceMetrics {
    let metrics = this.sources.get(name);
    if (metrics === undefined) this.sources.set(name, (metrics = new SourceMetrics(name, this)));
    return metrics;
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Per-source facade: everything here is cheap enough to call once per batch. */
export class SourceMetrics {
  private readonly bySchema = new WeakMap<TableSchema, TableCounts>();
  private readonly byName = new Map<string, TableCounts>();
  private readonly produceLatency;
  private readonly producedBytes;
  private readonly producedRecords;
  private lagProvider: (() => SourceLag | undefined) | undefined;
  private queueProvider: (() => QueueDepth) | undefined;
  private checkpointPosition: string | undefined;
  private checkpointAt: number | undefined;

  constructor(
    readonly name: string,
    private readonly metrics: TributaryMetrics,
  ) {
    this.produceLatency = metrics.produceLatency.labels(name);
    this.producedBytes = metrics.producedBytes.labels(name);
    this.producedRecords = metrics.producedRecords.labels(name);
    this.state('starting');
  }

  /** Counts the change events of an acknowledged batch by table and op. */
  countEvents(events: readonly SourceEvent[]): void {
    for (const event of events) {
      if (event.type === 'change') this.tableCounts(event.schema).counts[event.op]++;
    }
  }

  /** One acknowledged batch: its record count, key+value bytes and the seconds the producer took. */
  produced(records: number, bytes: number, latencySeconds: number): void {
    this.producedRecords.inc(records);
    this.producedBytes.inc(bytes);
    this.produceLatency.observe(latencySeconds);
  }

  setLagSeconds(seconds: number): void {
    this.metrics.lagSeconds.set({ source: this.name }, Math.max(0, seconds));
  }

  /** Read at every scrape; a `seconds` it returns overrides the value derived from acknowledged batches. */
  onLag(provider: () => SourceLag | undefined): void {
    this.lagProvider = provider;
  }

  /** Read at every scrape, e.g. `() => pipeline.queueDepth`. */
  onQueueDepth(provider: () => QueueDepth): void {
    this.queueProvider = provider;
  }

  /** A position was written to the checkpoint store. */
  checkpointed(position: string): void {
    if (this.checkpointPosition !== undefined) this.metrics.checkpoint.remove(this.name, this.checkpointPosition);
    this.metrics.checkpoint.set({ source: this.name, position }, 1);
    this.checkpointPosition = position;
    this.checkpointAt = this.metrics.clock();
  }

  snapshotProgress(table: string, rows: number, done: boolean): void {
    this.metrics.snapshotRows.set({ source: this.name, table }, rows);
    this.metrics.snapshotDone.set({ source: this.name, table }, done ? 1 : 0);
  }

  error(kind: string): void {
    this.metrics.errors.inc({ source: this.name, kind });
  }

  state(state: SourceState): void {
    for (const s of SOURCE_STATES) this.metrics.state.set({ source: this.name, state: s }, s === state ? 1 : 0);
  }

  /** @internal scrape-time copy of the plain counts into the counter. */
  collectEvents(counter: Counter<'source' | 'table' | 'op'>): void {
    for (const { table, counts } of this.byName.values()) {
      for (const op of OPS) counter.inc({ source: this.name, table, op }, counts[op]);
    }
  }

  /** @internal */
  collectLag(): void {
    const lag = this.lagProvider?.();
    if (lag?.bytes !== undefined) this.metrics.lagBytes.set({ source: this.name }, lag.bytes);
    if (lag?.seconds !== undefined) this.setLagSeconds(lag.seconds);
  }

  /** @internal */
  collectQueue(): void {
    if (this.queueProvider === undefined) return;
    const depth = this.queueProvider();
    this.metrics.queueEvents.set({ source: this.name }, depth.events);
    this.metrics.queueBytes.set({ source: this.name }, depth.bytes);
  }

  /** @internal */
  collectCheckpointAge(): void {
    if (this.checkpointAt === undefined) return;
    this.metrics.checkpointAge.set({ source: this.name }, (this.metrics.clock() - this.checkpointAt) / 1000);
  }

  private tableCounts(schema: TableSchema): TableCounts {
    let entry = this.bySchema.get(schema);
    if (entry !== undefined) return entry;
    // A new schema object (first event, or a schema change): one name lookup, then cached by identity.
    const table = qualifiedName(schema.id);
    entry = this.byName.get(table);
    if (entry === undefined) this.byName.set(table, (entry = { table, counts: { c: 0, u: 0, d: 0, r: 0, t: 0 } }));
    this.bySchema.set(schema, entry);
    return entry;
  }
}

/** A bounded label for an error: its Tributary class (`ConnectionError`, ...), else `unexpected`. */
export function errorKind(error: unknown): string {
  return error instanceof TributaryError ? error.name : 'unexpected';
}

export interface InstrumentedDeps {
  readonly source: PipelineSource;
  readonly encoder: RecordEncoder;
  readonly sink: RecordSink;
  readonly store: PositionStore;
}

/**
 * Wraps what a Pipeline is built from so that every acknowledged batch is counted: events by table and op,
 * records, bytes, produce latency and lag seconds; every checkpoint write sets the checkpoint metrics; read,
 * encode and send errors count by kind (a read ended by shutdown does not). The encoder's output array is the
 * key that finds the batch's events again when the sink is asked to send it (the pipeline passes it through
 * unchanged).
 */
export function instrumentPipeline(deps: InstrumentedDeps, metrics: SourceMetrics, clock: () => number = Date.now): InstrumentedDeps {
  const pending = new WeakMap<OutgoingRecord[], readonly SourceEvent[]>();
  const counted = <T>(work: Promise<T>): Promise<T> =>
    work.catch((error: unknown) => {
      metrics.error(errorKind(error));
      throw error;
    });
  return {
    source: {
      events: (signal) => countedErrors(deps.source.events(signal), metrics, signal),
      confirm: (position) => counted(deps.source.confirm(position)),
    },
    encoder: {
      async encode(events) {
        const records = await counted(deps.encoder.encode(events));
        pending.set(records, events);
        return records;
      },
    },
    sink: {
      async send(records) {
        const started = performance.now();
        await counted(deps.sink.send(records));
        const events = pending.get(records) ?? [];
        metrics.countEvents(events);
        metrics.produced(records.length, recordBytes(records), (performance.now() - started) / 1000);
        const committedAt = lastSourceTime(events);
        if (committedAt !== undefined) metrics.setLagSeconds((clock() - committedAt) / 1000);
      },
    },
    store: {
      savePosition(source, position) {
        deps.store.savePosition(source, position);
        metrics.checkpointed(position);
      },
      markConfirmed: (source, position) => deps.store.markConfirmed(source, position),
    },
  };
}

/** Mirrors each table's snapshot progress into the metrics of the one source this store is handed to. */
export function instrumentSnapshotProgress(store: SnapshotProgressStore, metrics: SourceMetrics): SnapshotProgressStore {
  return {
    getSnapshot: (source) => store.getSnapshot(source),
    saveSnapshot: (source, state) => store.saveSnapshot(source, state),
    getTable: (source, table) => store.getTable(source, table),
    async saveTable(source, table, progress) {
      await store.saveTable(source, table, progress);
      metrics.snapshotProgress(table, progress.rows, progress.done);
    },
    clear: (source) => store.clear(source),
  };
}

async function* countedErrors(events: AsyncIterable<SourceEvent>, metrics: SourceMetrics, signal: AbortSignal): AsyncGenerator<SourceEvent> {
  try {
    yield* events;
  } catch (error) {
    if (!signal.aborted) metrics.error(errorKind(error));
    throw error;
  }
}

function recordBytes(records: readonly OutgoingRecord[]): number {
  let bytes = 0;
  for (const record of records) bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
  return bytes;
}

function lastSourceTime(events: readonly SourceEvent[]): number | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    if (event.type === 'change') return event.source.tsMs;
    if (event.type !== 'heartbeat') return event.tsMs;
  }
  return undefined;
}
