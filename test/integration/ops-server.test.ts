import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startOpsServer, type OpsServer } from '../../src/ops/http.js';
import { ReadinessTracker } from '../../src/ops/health.js';
import { TributaryMetrics } from '../../src/ops/metrics.js';
import { silentLogger } from '../../src/ops/logger.js';
import type { TableSchema } from '../../src/model/schema.js';
import type { SourceEvent } from '../../src/model/change.js';

describe('ops HTTP server', () => {
  const metrics = new TributaryMetrics();
  const tracker = new ReadinessTracker(['pg', 'maria'], { onChange: (source, state) => metrics.source(source).state(state) });
  let server: OpsServer;

  before(async () => {
    server = await startOpsServer({ host: '127.0.0.1', port: 0, metrics, readiness: () => tracker.report(), logger: silentLogger() });
  });
  after(() => server.close());

  it('binds where told and reports its URL', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('/healthz answers 200 whatever the sources do', async () => {
    const response = await fetch(`${server.url}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'ok\n');
  });

  it('/readyz is 503 naming the sources not streaming, then 200', async () => {
    tracker.set('pg', 'streaming');
    tracker.set('maria', 'reconnecting', 'connect ECONNREFUSED 127.0.0.1:3306');
    let response = await fetch(`${server.url}/readyz`);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('content-type'), 'application/json');
    const body = (await response.json()) as { ready: boolean; notReady: string[]; sources: { source: string; state: string; detail?: string }[] };
    assert.equal(body.ready, false);
    assert.deepEqual(body.notReady, ['maria']);
    assert.deepEqual(
      body.sources.map((s) => [s.source, s.state, s.detail]),
      [
        ['pg', 'streaming', undefined],
        ['maria', 'reconnecting', 'connect ECONNREFUSED 127.0.0.1:3306'],
      ],
    );
    tracker.set('maria', 'streaming');
    response = await fetch(`${server.url}/readyz`);
    assert.equal(response.status, 200);
    assert.deepEqual(((await response.json()) as { notReady: string[] }).notReady, []);
  });

  it('/metrics serves the Prometheus text of the registry', async () => {
    const orders = { id: { database: 'test', schema: 'public', table: 'orders' }, columns: [], key: [] } as unknown as TableSchema;
    const event = { type: 'change', op: 'c', schema: orders, source: { tsMs: 0, snapshot: 'false' }, position: 'p' } as unknown as SourceEvent;
    metrics.source('pg').countEvents([event, event, event]);
    const response = await fetch(`${server.url}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.match(text, /^tributary_events_total\{source="pg",table="public\.orders",op="c"\} 3$/m);
    assert.match(text, /^tributary_source_state\{source="maria",state="streaming"\} 1$/m);
    assert.match(text, /^# TYPE tributary_produce_latency_seconds histogram$/m);
    assert.match(text, /^tributary_process_resident_memory_bytes \d+/m);
  });

  it('answers 404 for other paths, 405 for other methods, and HEAD without a body', async () => {
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(`${server.url}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('closes promptly even with a kept-alive scrape connection open', async () => {
    const other = await startOpsServer({ host: '127.0.0.1', port: 0, metrics, readiness: () => tracker.report(), logger: silentLogger() });
    await (await fetch(`${other.url}/metrics`, { headers: { connection: 'keep-alive' } })).text();
    const started = Date.now();
    await other.close();
    assert.ok(Date.now() - started < 1000, `close took ${Date.now() - started} ms`);
    await assert.rejects(fetch(`${other.url}/healthz`));
  });

  it('names http.port and the fix when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(
        startOpsServer({ host: '127.0.0.1', port, metrics, readiness: () => tracker.report(), logger: silentLogger() }),
        (error: Error & { fix?: string }) => /already in use/.test(error.message) && /http\.port/.test(error.fix ?? ''),
      );
    } finally {
      blocker.close();
    }
  });
});
