import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorKind, instrumentPipeline, instrumentSnapshotProgress, TributaryMetrics } from '../../src/ops/metrics.js';
import type { SourceEvent } from '../../src/model/change.js';
import type { TableSchema } from '../../src/model/schema.js';
import { ConnectionError, SourceError } from '../../src/model/errors.js';
import { Pipeline, type OutgoingRecord } from '../../src/pipeline/pipeline.js';
import { silentLogger } from '../../src/ops/logger.js';
import { MemorySnapshotProgressStore } from '../../src/sources/source.js';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(match, `unparsable line ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

async function value(metrics: TributaryMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const samples = parse(await metrics.text()).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length,
  );
  assert.ok(samples.length <= 1, `${name} ${JSON.stringify(labels)} matched ${samples.length} samples`);
  return samples[0]?.value;
}

function schema(table: string): TableSchema {
  return { id: { database: 'test', schema: 'public', table }, columns: [], key: [] } as unknown as TableSchema;
}

function change(s: TableSchema, op: 'c' | 'u' | 'd' | 'r' | 't', tsMs = 0): SourceEvent {
  return { type: 'change', op, schema: s, source: { tsMs, snapshot: 'false' }, position: `p-${op}` } as unknown as SourceEvent;
}

describe('TributaryMetrics facade', () => {
  it('counts events per table and op across batches and schema objects of the same table', async () => {
    const metrics = new TributaryMetrics({ processMetrics: false });
    const pg = metrics.source('pg');
    assert.equal(metrics.source('pg'), pg, 'source facades are cached');
    const orders = schema('orders');
    const ordersAltered = schema('orders');
    pg.countEvents([change(orders, 'c'), change(orders, 'c'), change(schema('items'), 'u'), { type: 'heartbeat', position: 'h' }]);
    pg.countEvents([change(ordersAltered, 'd'), change(orders, 'c')]);
    assert.equal(await value(metrics, 'tributary_events_total', { source: 'pg', table: 'public.orders', op: 'c' }), 3);
    assert.equal(await value(metrics, 'tributary_events_total', { source: 'pg', table: 'public.orders', op: 'd' }), 1);
    assert.equal(await value(metrics, 'tributary_events_total', { source: 'pg', table: 'public.orders', op: 'u' }), 0);
    assert.equal(await value(metrics, 'tributary_events_total', { source: 'pg', table: 'public.items', op: 'u' }), 1);
    // A second scrape does not double the counts.
    assert.equal(await value(metrics, 'tributary_events_total', { source: 'pg', table: 'public.orders', op: 'c' }), 3);
  });

  it('keeps one checkpoint series per source, with its age', async () => {
    let now = 10_000;
    const metrics = new TributaryMetrics({ processMetrics: false, clock: () => now });
    const pg = metrics.source('pg');
    pg.checkpointed('{"lsn":"0/1"}');
    now = 12_500;
    pg.checkpointed('{"lsn":"0/2"}');
    now = 15_000;
    const samples = parse(await metrics.text()).filter((s) => s.name === 'tributary_checkpoint_info');
    assert.deepEqual(samples, [{ name: 'tributary_checkpoint_info', labels: { source: 'pg', position: '{\\"lsn\\":\\"0/2\\"}' }, value: 1 }]);
    assert.equal(await value(metrics, 'tributary_checkpoint_age_seconds', { source: 'pg' }), 2.5);
  });

  it('reads lag and queue depth from callbacks at scrape time', async () => {
    const metrics = new TributaryMetrics({ processMetrics: false });
    const pg = metrics.source('pg');
    let depth = { events: 3, bytes: 300 };
    pg.onQueueDepth(() => depth);
    pg.onLag(() => ({ bytes: 4096, seconds: 1.5 }));
    assert.equal(await value(metrics, 'tributary_queue_depth_events', { source: 'pg' }), 3);
    depth = { events: 0, bytes: 0 };
    assert.equal(await value(metrics, 'tributary_queue_depth_bytes', { source: 'pg' }), 0);
    assert.equal(await value(metrics, 'tributary_source_lag_bytes', { source: 'pg' }), 4096);
    assert.equal(await value(metrics, 'tributary_source_lag_seconds', { source: 'pg' }), 1.5);
  });

  it('records snapshot progress, errors by kind and a one-hot source state', async () => {
    const metrics = new TributaryMetrics({ processMetrics: false });
    const maria = metrics.source('maria');
    const progress = instrumentSnapshotProgress(new MemorySnapshotProgressStore(), maria);
    await progress.saveTable('whatever-key', 'test.orders', { lastKey: '[5]', rows: 5, done: false });
    await progress.saveTable('whatever-key', 'test.orders', { lastKey: '[9]', rows: 9, done: true });
    assert.equal(await value(metrics, 'tributary_snapshot_rows', { source: 'maria', table: 'test.orders' }), 9);
    assert.equal(await value(metrics, 'tributary_snapshot_complete', { source: 'maria', table: 'test.orders' }), 1);
    maria.error(errorKind(new ConnectionError('reset')));
    maria.error(errorKind(new Error('bug')));
    maria.error(errorKind(new ConnectionError('reset')));
    assert.equal(await value(metrics, 'tributary_errors_total', { source: 'maria', kind: 'ConnectionError' }), 2);
    assert.equal(await value(metrics, 'tributary_errors_total', { source: 'maria', kind: 'unexpected' }), 1);
    assert.equal(await value(metrics, 'tributary_source_state', { source: 'maria', state: 'starting' }), 1);
    maria.state('streaming');
    assert.equal(await value(metrics, 'tributary_source_state', { source: 'maria', state: 'starting' }), 0);
    assert.equal(await value(metrics, 'tributary_source_state', { source: 'maria', state: 'streaming' }), 1);
  });

  it('exports process metrics unless told not to', async () => {
    assert.match(await new TributaryMetrics().text(), /^tributary_process_resident_memory_bytes /m);
    assert.doesNotMatch(await new TributaryMetrics({ processMetrics: false }).text(), /process_resident_memory/);
  });
});

async function* failingEvents(): AsyncGenerator<SourceEvent> {
  yield { type: 'heartbeat', position: 'h' };
  throw new SourceError('replication slot is active for another process');
}

describe('instrumentPipeline', () => {
  it('counts only acknowledged batches, with bytes, latency, lag and checkpoints', async () => {
    let now = 50_000;
    const metrics = new TributaryMetrics({ processMetrics: false, clock: () => now });
    const pg = metrics.source('pg');
    const saved: string[] = [];
    let failNext = false;
    const orders = schema('orders');
    const deps = instrumentPipeline(
      {
        source: { events: () => failingEvents(), confirm: async () => undefined },
        encoder: { encode: async (events) => events.map((): OutgoingRecord => ({ topic: 't', key: Buffer.alloc(2), value: Buffer.alloc(10) })) },
        sink: {
          send: async () => {
            if (failNext) throw new ConnectionError('broker gone');
          },
        },
        store: { savePosition: (_s, p) => void saved.push(p), markConfirmed: () => undefined },
      },
      pg,
      () => now,
    );
    const batch = [change(orders, 'c', 48_000), change(orders, 'u', 49_000)];
    await deps.sink.send(await deps.encoder.encode(batch));
    failNext = true;
    await assert.rejects(deps.sink.send(await deps.encoder.encode([change(orders, 'd')])), /broker gone/);
    deps.store.savePosition('pg', 'pos-9');
    await assert.rejects(async () => {
      for await (const _ of deps.source.events(new AbortController().signal));
    }, /slot is active/);
    now = 53_000;

    assert.equal(await value(metrics, 'tributary_events_total', { source: 'pg', table: 'public.orders', op: 'c' }), 1);
    assert.equal(await value(metrics, 'tributary_events_total', { source: 'pg', table: 'public.orders', op: 'u' }), 1);
    assert.equal(await value(metrics, 'tributary_events_total', { source: 'pg', table: 'public.orders', op: 'd' }), 0, 'the failed batch is not counted');
    assert.equal(await value(metrics, 'tributary_produced_bytes_total', { source: 'pg' }), 24);
    assert.equal(await value(metrics, 'tributary_produced_records_total', { source: 'pg' }), 2);
    assert.equal(await value(metrics, 'tributary_produce_latency_seconds_count', { source: 'pg' }), 1);
    assert.equal(await value(metrics, 'tributary_produce_latency_seconds_bucket', { source: 'pg', le: '0.1' }), 1);
    assert.equal(await value(metrics, 'tributary_source_lag_seconds', { source: 'pg' }), 1, 'commit at 49 s, acknowledged at 50 s');
    assert.equal(await value(metrics, 'tributary_errors_total', { source: 'pg', kind: 'ConnectionError' }), 1);
    assert.equal(await value(metrics, 'tributary_errors_total', { source: 'pg', kind: 'SourceError' }), 1);
    assert.deepEqual(saved, ['pos-9']);
    assert.equal(await value(metrics, 'tributary_checkpoint_info', { source: 'pg', position: 'pos-9' }), 1);
    assert.equal(await value(metrics, 'tributary_checkpoint_age_seconds', { source: 'pg' }), 3);
  });
});

describe('instrumentPipeline inside a real Pipeline', () => {
  it('counts exactly the events the pipeline delivered, per table and op', async () => {
    const metrics = new TributaryMetrics({ processMetrics: false });
    const tables = [schema('orders'), schema('lines'), schema('refunds')];
    const ops = ['c', 'u', 'd'] as const;
    const events = Array.from({ length: 3000 }, (_, i) => ({ ...change(tables[i % 3]!, ops[i % 2 === 0 ? 0 : (i % 5) % 3]!), position: String(i) }) as SourceEvent);
    const expected = new Map<string, number>();
    for (const event of events) {
      if (event.type !== 'change') continue;
      const key = `${event.schema.id.schema}.${event.schema.id.table}/${event.op}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const source = {
      async *events() {
        yield* events;
      },
      confirm: async () => undefined,
    };
    const deps = instrumentPipeline(
      {
        source,
        encoder: { encode: async (batch) => batch.map(() => ({ topic: 't', key: null, value: Buffer.alloc(1) })) },
        sink: { send: () => new Promise<void>((resolve) => setImmediate(resolve)) },
        store: { savePosition: () => undefined, markConfirmed: () => undefined },
      },
      metrics.source('pg'),
    );
    const pipeline = new Pipeline({ name: 'pg', ...deps, logger: silentLogger() }, { queue: { maxItems: 100, maxBytes: 1 << 20 }, maxBatchEvents: 37 });
    metrics.source('pg').onQueueDepth(() => pipeline.queueDepth);
    await pipeline.run(new AbortController().signal);

    for (const [key, count] of expected) {
      const [table, op] = key.split('/') as [string, string];
      assert.equal(await value(metrics, 'tributary_events_total', { source: 'pg', table, op }), count, key);
    }
    assert.equal(await value(metrics, 'tributary_produced_records_total', { source: 'pg' }), 3000);
    assert.equal(await value(metrics, 'tributary_produce_latency_seconds_count', { source: 'pg' }), pipeline.stats.batches);
    assert.equal(await value(metrics, 'tributary_checkpoint_info', { source: 'pg', position: '2999' }), 1);
    assert.equal(await value(metrics, 'tributary_queue_depth_events', { source: 'pg' }), 0);
  });
});
