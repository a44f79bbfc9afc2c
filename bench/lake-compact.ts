/**
 * Lake compaction throughput and memory: a base table of BASE rows compacted from its change topic, then
 * CHANGES changes (updates of random keys, 10% deletes, some inserts) merged onto it. Each compaction runs in
 * a child process so that its peak RSS is its own, not the producer's.
 *
 *   node --import tsx bench/lake-compact.ts [BASE=5000000] [CHANGES=1000000]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactTable, type TableTarget } from '../src/lake/compactor.js';
import { DEFAULT_MEMORY_LIMIT } from '../src/lake/index.js';
import { deployedNodeOptions } from './lib/daemon.js';
import { javaConsumerPerformance } from './lib/kafka-tools.js';
import { createLogger } from '../src/ops/logger.js';
import { ChangeFeed, column, deps, pgTable, startTestRegistry, target } from '../test/support/lake.js';

const table = pgTable('bench', [
  column('id', { kind: 'int64' }, false),
  column('customer', { kind: 'string' }),
  column('total', { kind: 'decimal', precision: 12, scale: 2 }),
  column('created', { kind: 'timestamp', precision: 6 }),
  column('status', { kind: 'string' }),
]);

interface ChildArgs {
  readonly target: TableTarget;
  readonly registryUrl: string;
  readonly memoryLimit: string;
}

if (process.argv[2] === 'child') {
  const args = JSON.parse(process.argv[3] ?? '{}') as ChildArgs;
  const started = performance.now();
  const peak = { heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.external = Math.max(peak.external, m.external);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  }, 50);
  const results = await compactTable(args.target, deps(args.registryUrl, { memoryLimit: args.memoryLimit, threads: 2, maxChangesPerSnapshot: 10_000_000, logger: createLogger('info', process.stderr) }));
  const ms = performance.now() - started;
  clearInterval(sampler);
  process.stderr.write(`peak JS heap ${Math.round(peak.heapUsed / 1e6)} MB, external ${Math.round(peak.external / 1e6)} MB, array buffers ${Math.round(peak.arrayBuffers / 1e6)} MB\n`);
  const changes = results.reduce((s, r) => s + r.changes, 0);
  process.stdout.write(`${JSON.stringify({ ms, changes, maxRssMb: process.resourceUsage().maxRSS / 1024, results })}\n`);
} else {
  const base = Number(process.argv[2] ?? 5_000_000);
  const changes = Number(process.argv[3] ?? 1_000_000);
  const memoryLimit = process.env.LAKE_MEMORY_LIMIT ?? DEFAULT_MEMORY_LIMIT;
  const registry = await startTestRegistry();
  const lake = await mkdtemp(join(tmpdir(), 'tributary-lake-bench-'));
  const feed = new ChangeFeed(registry.client, table);
  await feed.createTopic();
  const row = (id: number, status: string) => ({ id: BigInt(id), customer: `customer-${id % 10_007}`, total: `${id % 100_000}.${id % 100}`, created: 1_700_000_000_000_000n + BigInt(id), status });
  const produce = async (count: number, make: (i: number) => void): Promise<void> => {
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      make(i);
      if (i % 50_000 === 49_999) await feed.flush();
    }
    await feed.flush();
    console.log(`produced ${count} changes in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };
  await produce(base, (i) => feed.upsert(row(i, 'new'), 'r'));
  feed.rows.clear(); // the bench does not check rows; keep the producer's memory flat
  const t = target(lake, feed);
  const run = (label: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [...(process.env.LAKE_CHILD_NODE_ARGS?.split(' ') ?? []), '--import', 'tsx', 'bench/lake-compact.ts', 'child', JSON.stringify({ target: t, registryUrl: registry.registry.url, memoryLimit })], {
        stdio: ['ignore', 'pipe', 'inherit'],
        // As `tributary compact` runs (the bin's shebang, the deploy unit): an explicit heap limit.
        env: { ...process.env, NODE_OPTIONS: process.env.NODE_OPTIONS ?? deployedNodeOptions() },
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.on('exit', (code) => {
        if (code !== 0) return reject(new Error(`${label}: child exited with ${code}`));
        const r = JSON.parse(out) as { ms: number; changes: number; maxRssMb: number; results: { filesWritten: number; filesKept: number; rows: number }[] };
        const last = r.results.at(-1);
        console.log(
          `${label}: ${r.changes} change records in ${(r.ms / 1000).toFixed(1)} s = ${Math.round(r.changes / (r.ms / 1000))} records/s; ` +
            `peak RSS ${Math.round(r.maxRssMb)} MB; files written ${last?.filesWritten}, kept ${last?.filesKept}; rows ${last?.rows}`,
        );
        resolve();
      });
    });
  await run(`base (${base} rows)`);
  // The limit: Kafka's own consumer reading the same topic.
  const limit = await javaConsumerPerformance(t.topic, base);
  console.log(`Kafka ConsumerPerformance on the base topic: ${Math.round(limit.recordsPerSecond)} records/s = the read limit`);
  let next = base;
  // Changes: 80% updates of random existing keys, 10% deletes, 10% new keys; deletes of keys already deleted are skipped by the feed.
  await produce(changes, (i) => {
    const r = i % 10;
    const id = Math.floor(Math.random() * base);
    if (r === 0) feed.upsert(row(next++, 'new'));
    else if (r === 1) {
      feed.rows.set(String(id), {});
      feed.delete({ id: BigInt(id) });
    } else feed.upsert(row(id, 'updated'), 'u');
  });
  await run(`changes (${changes} onto ${base})`);
  await feed.close();
  await registry.registry.close();
  await rm(lake, { recursive: true, force: true });
}
