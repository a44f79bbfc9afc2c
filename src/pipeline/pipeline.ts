/**
 * Wires one source to Kafka: source → bounded queue → encoder → producer → in-order checkpoint → confirm.
 * The pipeline owns ordering (one writer, batches acknowledged in order), batching, back-pressure (the queue
 * blocks the reader) and the checkpoint rule: a position is written to the store, and then confirmed to the
 * database, only after Kafka acknowledged every event up to it.
 */
import type { Logger } from '../ops/logger.js';
import type { SourceEvent } from '../model/change.js';
import { BoundedQueue, type QueueLimits } from './bounded-queue.js';
import { AckTracker } from './ack-tracker.js';
import { estimateEventBytes } from './event-size.js';

export interface OutgoingRecord {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

export interface PipelineSource {
  events(signal: AbortSignal): AsyncIterable<SourceEvent>;
  confirm(position: string): Promise<void>;
}

export interface RecordEncoder {
  /** Encodes a batch in order; may register new schemas first, so it is async. */
  encode(events: readonly SourceEvent[]): Promise<OutgoingRecord[]>;
}

export interface RecordSink {
  /** Resolves when the broker acknowledged every record. */
  send(records: OutgoingRecord[]): Promise<void>;
}

export interface PositionStore {
  savePosition(source: string, position: string): void;
  markConfirmed(source: string, position: string): void;
}

export interface PipelineOptions {
  readonly queue: QueueLimits;
  readonly maxBatchEvents?: number;
  readonly maxBatchBytes?: number;
  /** Batches sent and not yet acknowledged; ordering per partition is kept by the idempotent producer. */
  readonly maxInFlightBatches?: number;
  /**
   * Record bytes sent and not yet acknowledged. Kafka requests go out one at a time (src/kafka/producer.ts), so
   * what is in flight behind the current request is what the next one can carry: this keeps requests full.
   */
  readonly maxInFlightBytes?: number;
  /** How often the acknowledged position is written and confirmed. */
  readonly checkpointIntervalMs?: number;
}

export interface PipelineStats {
  events: number;
  records: number;
  batches: number;
  checkpoint: string | undefined;
}

export interface PipelineDeps {
  /** The source's name in the config: the key of its checkpoint. */
  readonly name: string;
  readonly source: PipelineSource;
  readonly encoder: RecordEncoder;
  readonly sink: RecordSink;
  readonly store: PositionStore;
  readonly logger: Logger;
}

export class Pipeline {
  readonly stats: PipelineStats = { events: 0, records: 0, batches: 0, checkpoint: undefined };
  private readonly queue: BoundedQueue<SourceEvent>;
  private readonly tracker = new AckTracker();
  private confirmed: string | undefined;
  private checkpointing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: PipelineDeps,
    private readonly options: PipelineOptions,
  ) {
    this.queue = new BoundedQueue(options.queue);
  }

  get queueDepth(): { events: number; bytes: number } {
    return { events: this.queue.size, bytes: this.queue.sizeBytes };
  }

  /** Runs until the source ends or `signal` aborts, then drains, checkpoints and returns. */
  async run(signal: AbortSignal): Promise<void> {
    // A failed send stops the reader too: no point reading what cannot be delivered.
    const stop = new AbortController();
    const reading = this.read(AbortSignal.any([signal, stop.signal])).finally(() => this.queue.close());
    const writing = this.write().catch((error: unknown) => {
      stop.abort(error);
      this.queue.close();
      throw error;
    });
    const timer = setInterval(() => void this.checkpoint(), this.options.checkpointIntervalMs ?? 1000);
    timer.unref();
    try {
      const [read, written] = await Promise.allSettled([reading, writing]);
      if (written.status === 'rejected') throw written.reason;
      if (read.status === 'rejected') throw read.reason;
    } finally {
      clearInterval(timer);
      await this.checkpoint();
    }
  }

  private async read(signal: AbortSignal): Promise<void> {
    for await (const event of this.deps.source.events(signal)) {
      const bytes = estimateEventBytes(event);
      // Most events find room: offer() spares them the promise that waiting for space costs.
      if ((!this.queue.offer(event, bytes) && !(await this.queue.put(event, bytes))) || signal.aborted) break;
    }
  }

  private async write(): Promise<void> {
    const maxInFlight = this.options.maxInFlightBatches ?? 4;
    const maxInFlightBytes = this.options.maxInFlightBytes ?? Number.POSITIVE_INFINITY;
    const inFlight = new Set<Promise<void>>();
    let inFlightBytes = 0;
    let failure: unknown;
    for (;;) {
      const batch = await this.queue.take(this.options.maxBatchEvents ?? 2000, this.options.maxBatchBytes ?? 4 << 20);
      if (batch.length === 0 || failure !== undefined) break;
      const records = await this.deps.encoder.encode(batch);
      const bytes = recordBytes(records);
      // Encoded while earlier batches were in flight, sent once there is room: with one batch in flight (replay),
      // encoding still overlaps Kafka's round trip.
      while (inFlight.size >= maxInFlight || inFlightBytes >= maxInFlightBytes) await Promise.race(inFlight);
      if (failure !== undefined) break;
      const seq = this.tracker.begin(batch[batch.length - 1]?.position);
      this.stats.events += batch.length;
      this.stats.records += records.length;
      this.stats.batches++;
      inFlightBytes += bytes;
      const sending = this.deps.sink.send(records).then(
        () => this.onAcked(seq),
        (error: unknown) => void (failure ??= error),
      );
      inFlight.add(sending);
      void sending.finally(() => {
        inFlight.delete(sending);
        inFlightBytes -= bytes;
      });
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
  }

  private onAcked(seq: number): void {
    const position = this.tracker.ack(seq);
    if (position !== undefined) this.stats.checkpoint = position;
  }

  /** Store first, then confirm: after a crash the store is never behind what the database was told. */
  private checkpoint(): Promise<void> {
    this.checkpointing = this.checkpointing.then(async () => {
      const position = this.stats.checkpoint;
      if (position === undefined || position === this.confirmed) return;
      const { name, source, store, logger } = this.deps;
      store.savePosition(name, position);
      await source.confirm(position);
      store.markConfirmed(name, position);
      this.confirmed = position;
      logger.debug({ source: name, position }, 'checkpoint confirmed');
    });
    return this.checkpointing;
  }
}

function recordBytes(records: readonly OutgoingRecord[]): number {
  let bytes = 0;
  for (const record of records) bytes += (record.key?.length ?? 0) + (record.value?.length ?? 0);
  return bytes;
}
