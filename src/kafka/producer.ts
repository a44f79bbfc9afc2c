/**
 * The producer Tributary writes change events with: idempotent, acks=all, Java-compatible key partitioning,
 * and a send() that resolves only once the broker has acknowledged every record given to it.
 *
 * send() calls queue, one request is in flight, and the records that queued meanwhile go out together in the
 * next request, up to `batchBytes`. One request at a time keeps sequence numbers simple: a partition's next
 * sequence is known once the previous request is answered. (@platformatic/kafka's own idempotent producer, which
 * produce-session.ts replaces, is only correct this way: it reads a partition's sequence when it builds a request
 * and advances it when the response arrives, so two concurrent sends carry the same sequence and the broker
 * discards the second as a duplicate while both resolve, platformatic/kafka#326; bench/README.md shows the loss.)
 *
 * After any failed request the session (producer id and sequences) is thrown away: the broker may or may not
 * have written the failed batch, and reusing its sequence numbers could make the broker drop a later batch as a
 * duplicate. The next send() starts a new session; the caller re-sends from its last acknowledged position,
 * which may duplicate records (at-least-once, as Debezium) but never loses or reorders them.
 */
import { compressionsAlgorithms } from '@platformatic/kafka';
import { ConfigError, InvariantError, type TributaryError } from '../model/errors.js';
import type { Logger } from '../ops/logger.js';
import { toTributaryError } from './errors.js';
import { ProduceSession, type ProducerRecord } from './produce-session.js';
import type { KafkaSettings } from './settings.js';

export type { ProducerRecord };

export interface KafkaProducer {
  /**
   * Resolves when the broker has acknowledged all `records` (acks=all). Records keep their order within a
   * partition, also across calls. A rejection also rejects every send() queued behind it: restart from the
   * last acknowledged position. `records` and their buffers are read until the promise settles.
   */
  send(records: readonly ProducerRecord[]): Promise<void>;
  /** Waits for queued records to be acknowledged, then disconnects. */
  close(): Promise<void>;
}

interface PendingSend {
  /** Chunks of this call not yet acknowledged. */
  remaining: number;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

interface Chunk {
  /** The call's records, or a slice of them when the call exceeds `batchBytes`. */
  readonly records: readonly ProducerRecord[];
  readonly bytes: number;
  readonly call: PendingSend;
}

/** Per-record framing overhead of the v2 record format, roughly; only used to size requests. */
const RECORD_OVERHEAD_BYTES = 24;
/** Sequence numbers are int32 per partition and ProduceSession does not wrap them: renew well before. */
const SESSION_RECORD_LIMIT = 1_000_000_000;

export function createKafkaProducer(settings: KafkaSettings, logger: Logger): KafkaProducer {
  const { compression } = settings.producer;
  if (!compressionsAlgorithms[compression]?.available) {
    throw new ConfigError(`kafka.producer.compression: ${compression} is not available on Node ${process.version}`, {
      fix: 'use lz4, gzip or snappy (zstd needs Node 22.15 or newer)',
    });
  }
  return new BatchingProducer(settings, logger.child({ component: 'kafka-producer' }));
}

class BatchingProducer implements KafkaProducer {
  readonly #settings: KafkaSettings;
  readonly #logger: Logger;
  #queue: Chunk[] = [];
  #queuedBytes = 0;
  #draining = false;
  #lingerTimer: NodeJS.Timeout | undefined;
  #drained: (() => void) | undefined;
  #session: ProduceSession | undefined;
  #sessionRecords = 0;
  #closing: Promise<void> | undefined;

  constructor(settings: KafkaSettings, logger: Logger) {
    this.#settings = settings;
    this.#logger = logger;
  }

  send(records: readonly ProducerRecord[]): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(new InvariantError('KafkaProducer.send() after close()'));
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const call: PendingSend = { remaining: 0, settled: false, resolve, reject };
      for (const chunk of this.#chunk(records, call)) {
        call.remaining++;
        this.#queue.push(chunk);
        this.#queuedBytes += chunk.bytes;
      }
      this.#schedule();
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#queue.length > 0 || this.#draining) {
        await new Promise<void>((resolve) => {
          this.#drained = resolve;
          this.#schedule(true);
        });
      }
      await this.#endSession();
    })();
    return this.#closing;
  }

  /** Splits one call's records into request-sized chunks, so one huge call cannot exceed `batchBytes`. */
  #chunk(records: readonly ProducerRecord[], call: PendingSend): Chunk[] {
    const chunks: Chunk[] = [];
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < records.length; i++) {
      const size = recordSize(records[i]!);
      if (i > start && bytes + size > this.#settings.producer.batchBytes) {
        chunks.push({ records: records.slice(start, i), bytes, call });
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    chunks.push({ records: start === 0 ? records : records.slice(start), bytes, call });
    return chunks;
  }

  /** Starts draining now, or after `lingerMs` when the queue is still smaller than one request. */
  #schedule(now = false): void {
    if (this.#draining || this.#queue.length === 0) return;
    const { lingerMs, batchBytes } = this.#settings.producer;
    if (!now && lingerMs > 0 && this.#queuedBytes < batchBytes) {
      this.#lingerTimer ??= setTimeout(() => {
        this.#lingerTimer = undefined;
        void this.#drain();
      }, lingerMs);
      return;
    }
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#takeRequest();
        const records = batch.reduce((sum, chunk) => sum + chunk.records.length, 0);
        try {
          await this.#producer().produce(batch.map((chunk) => chunk.records));
          this.#sessionRecords += records;
          for (const chunk of batch) {
            if (--chunk.call.remaining === 0 && !chunk.call.settled) settle(chunk.call);
          }
        } catch (error) {
          const failure = toTributaryError(error, {
            action: `producing ${records} records to ${topicsOf(batch)}`,
            brokers: this.#settings.brokers,
          });
          this.#logger.warn({ err: failure, records }, 'Kafka produce failed; starting a new producer session');
          this.#failQueued(batch, failure);
          await this.#endSession();
        }
        if (this.#sessionRecords >= SESSION_RECORD_LIMIT) await this.#endSession();
      }
    } finally {
      this.#draining = false;
      this.#drained?.();
      this.#drained = undefined;
    }
  }

  /** The queued chunks for the next request: at least one, then as many as fit in `batchBytes`. */
  #takeRequest(): Chunk[] {
    const batch: Chunk[] = [];
    let bytes = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!;
      if (batch.length > 0 && bytes + next.bytes > this.#settings.producer.batchBytes) break;
      this.#queue.shift();
      batch.push(next);
      bytes += next.bytes;
    }
    this.#queuedBytes -= bytes;
    return batch;
  }

  /** Rejects the failed request and everything queued behind it, which must not overtake it. */
  #failQueued(batch: readonly Chunk[], failure: TributaryError): void {
    for (const chunk of [...batch, ...this.#queue]) {
      if (!chunk.call.settled) {
        chunk.call.settled = true;
        chunk.call.reject(failure);
      }
    }
    this.#queue = [];
    this.#queuedBytes = 0;
  }

  #producer(): ProduceSession {
    this.#session ??= new ProduceSession(this.#settings, this.#logger);
    return this.#session;
  }

  async #endSession(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    this.#sessionRecords = 0;
    if (session === undefined) return;
    try {
      await session.close();
    } catch (error) {
      this.#logger.debug({ err: error }, 'closing the Kafka producer session failed');
    }
  }
}

function settle(call: PendingSend): void {
  call.settled = true;
  call.resolve();
}

function recordSize(record: ProducerRecord): number {
  let size = RECORD_OVERHEAD_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  const { headers } = record;
  if (headers !== undefined) {
    for (const name in headers) size += Buffer.byteLength(name) + Buffer.byteLength(headers[name]!) + 4;
  }
  return size;
}

function topicsOf(chunks: readonly Chunk[]): string {
  return [...new Set(chunks.flatMap((chunk) => chunk.records.map((record) => record.topic)))].join(', ');
}
