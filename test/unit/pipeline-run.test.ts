import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline, type OutgoingRecord, type PipelineSource } from '../../src/pipeline/pipeline.js';
import type { SourceEvent } from '../../src/model/change.js';
import { silentLogger } from '../../src/ops/logger.js';

function heartbeat(i: number): SourceEvent {
  return { type: 'heartbeat', position: String(i) };
}

class ListSource implements PipelineSource {
  pulled = 0;
  readonly confirmed: string[] = [];
  constructor(private readonly count: number) {}
  async *events(signal: AbortSignal): AsyncIterable<SourceEvent> {
    for (let i = 1; i <= this.count && !signal.aborted; i++) {
      this.pulled++;
      yield heartbeat(i);
    }
  }
  async confirm(position: string): Promise<void> {
    this.confirmed.push(position);
  }
}

const encoder = {
  async encode(events: readonly SourceEvent[]): Promise<OutgoingRecord[]> {
    return events.map((e) => ({ topic: 't', key: null, value: Buffer.from(e.position) }));
  },
};

test('every event is sent in order, and the final checkpoint is the last position, stored before confirmed', async () => {
  const source = new ListSource(5000);
  const sent: string[] = [];
  const acked = new Set<string>();
  const log: string[] = [];
  const sink = {
    async send(records: OutgoingRecord[]): Promise<void> {
      for (const r of records) sent.push(String(r.value));
      // Acks arrive out of order between batches.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      for (const r of records) acked.add(String(r.value));
    },
  };
  const store = {
    savePosition(_s: string, position: string) {
      for (let i = 1; i <= Number(position); i++) assert.ok(acked.has(String(i)), `stored ${position} before ${i} was acked`);
      log.push(`save ${position}`);
    },
    markConfirmed(_s: string, position: string) {
      log.push(`confirmed ${position}`);
    },
  };
  const pipeline = new Pipeline({ name: 'unit', source, encoder, sink, store, logger: silentLogger() }, {
    queue: { maxItems: 100, maxBytes: 1 << 20 },
    maxBatchEvents: 37,
    checkpointIntervalMs: 5,
  });
  await pipeline.run(new AbortController().signal);
  assert.deepEqual(sent, Array.from({ length: 5000 }, (_, i) => String(i + 1)));
  assert.equal(pipeline.stats.checkpoint, '5000');
  assert.equal(source.confirmed.at(-1), '5000');
  assert.deepEqual(log.slice(-2), ['save 5000', 'confirmed 5000']);
});

test('a sink that does not acknowledge stops reading once the queue and the in-flight window are full', async () => {
  const source = new ListSource(1_000_000);
  const sink = { send: () => new Promise<void>(() => {}) };
  const store = { savePosition() {}, markConfirmed() {} };
  const pipeline = new Pipeline({ name: 'unit', source, encoder, sink, store, logger: silentLogger() }, {
    queue: { maxItems: 50, maxBytes: 1 << 20 },
    maxBatchEvents: 10,
    maxInFlightBatches: 2,
  });
  const controller = new AbortController();
  void pipeline.run(controller.signal);
  await new Promise((resolve) => setTimeout(resolve, 100));
  // 2 batches in flight + 1 being encoded + a full queue + the event waiting in put.
  assert.ok(source.pulled <= 10 * 3 + 50 + 1, `pulled ${source.pulled}`);
  assert.equal(pipeline.stats.checkpoint, undefined);
  controller.abort();
});

test('a failed send fails the run and nothing past it is checkpointed', async () => {
  const source = new ListSource(1000);
  let calls = 0;
  const sink = {
    async send(): Promise<void> {
      if (++calls === 3) throw new Error('broker gone');
    },
  };
  const saved: string[] = [];
  const store = { savePosition: (_s: string, p: string) => void saved.push(p), markConfirmed() {} };
  const pipeline = new Pipeline({ name: 'unit', source, encoder, sink, store, logger: silentLogger() }, {
    queue: { maxItems: 100, maxBytes: 1 << 20 },
    maxBatchEvents: 10,
    maxInFlightBatches: 1,
  });
  await assert.rejects(pipeline.run(new AbortController().signal), /broker gone/);
  assert.ok(saved.every((p) => Number(p) <= 20), `saved ${saved.join(',')}`);
});

test('unacknowledged record bytes are bounded by maxInFlightBytes, whatever the batch count allows', async () => {
  const source = new ListSource(2000);
  let outstanding = 0;
  let peak = 0;
  const pending: (() => void)[] = [];
  const sink = {
    send(records: OutgoingRecord[]): Promise<void> {
      const bytes = records.reduce((sum, r) => sum + (r.value?.length ?? 0), 0);
      outstanding += bytes;
      peak = Math.max(peak, outstanding);
      return new Promise<void>((resolve) => pending.push(() => ((outstanding -= bytes), resolve())));
    },
  };
  // Acknowledge one request at a time, as the Kafka producer does.
  const acker = setInterval(() => pending.shift()?.(), 1);
  const store = { savePosition() {}, markConfirmed() {} };
  const pipeline = new Pipeline({ name: 'unit', source, encoder, sink, store, logger: silentLogger() }, {
    queue: { maxItems: 50, maxBytes: 1 << 20 },
    maxBatchEvents: 10,
    maxInFlightBatches: 1000,
    maxInFlightBytes: 100,
  });
  await pipeline.run(new AbortController().signal);
  clearInterval(acker);
  assert.equal(pipeline.stats.checkpoint, '2000');
  // The batch that crosses the limit is still sent: at most the limit plus one batch (10 values of ≤ 4 bytes).
  assert.ok(peak <= 100 + 40, `peak ${peak} bytes in flight`);
  assert.ok(peak >= 100, `peak ${peak}: the window was never used`);
});
