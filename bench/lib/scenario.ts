/**
 * The measurement both source benches share: a daemon streaming one table is caught up (one warm-up row acked),
 * then paused with SIGSTOP while the workload commits, so the whole workload is a backlog in the database;
 * SIGCONT starts the clock, and it stops when Kafka's end offset says every row was acknowledged.
 * The reference tool then drains the same backlog alone, so the two never compete for the 2 cores.
 */
import { BenchDaemon, startRegistry, writeConfig } from './daemon.js';
import { TopicWatcher } from './kafka.js';
import { fmt, line, rate } from './report.js';

export interface ThroughputPlan {
  readonly label: string;
  readonly rows: number;
  /** The daemon's source config (the YAML `sources` entry). */
  readonly source: Record<string, unknown>;
  readonly topic: string;
  /** Inserts the warm-up row. */
  warmUp(): Promise<void>;
  /** Commits the measured rows while the daemon is paused. */
  workload(): Promise<void>;
  /** Drains the same rows with the reference tool; resolves with its wall time in ms. */
  reference(): Promise<number>;
  readonly referenceName: string;
  readonly cpuProfDir?: string;
}

export interface ThroughputResult {
  readonly rowsPerSec: number;
  readonly referenceRowsPerSec: number;
  readonly peakRssMiB: number;
}

export async function measureThroughput(plan: ThroughputPlan): Promise<ThroughputResult> {
  const registry = await startRegistry();
  const kafka = new TopicWatcher();
  const daemon = new BenchDaemon(writeConfig(plan.source, registry.url), { cpuProfDir: plan.cpuProfDir });
  try {
    await daemon.waitForLog(/streaming (changes|the binlog)/);
    await plan.warmUp();
    await kafka.until(plan.topic, 1, 60_000, () => daemon.checkAlive());
    const idleRss = daemon.peakRssMiB();

    daemon.pause();
    const loadStart = performance.now();
    try {
      await plan.workload();
    } finally {
      daemon.resume();
    }
    const loadMs = performance.now() - loadStart;
    const start = performance.now();
    const cpuBefore = daemon.cpuMs();
    const end = await kafka.until(plan.topic, 1 + plan.rows, 30 * 60_000, () => daemon.checkAlive());
    const ms = end - start;
    const peakRssMiB = daemon.peakRssMiB();
    const cpuUsPerRow = ((daemon.cpuMs() - cpuBefore) * 1000) / plan.rows;
    const code = await daemon.stop();
    if (code !== 0) throw new Error(`daemon exited ${code}:\n${daemon.tail()}`);

    const refMs = await plan.reference();
    const result = { rowsPerSec: rate(plan.rows, ms), referenceRowsPerSec: rate(plan.rows, refMs), peakRssMiB };
    line(`${plan.label}: workload committed`, `${fmt(plan.rows)} rows in ${fmt(loadMs)} ms (daemon paused)`);
    line(`${plan.label}: tributary`, `${fmt(result.rowsPerSec)} rows/s (${fmt(ms)} ms until all acked in Kafka)`);
    line(`${plan.label}: tributary CPU`, `${cpuUsPerRow.toFixed(1)} µs/row (daemon user+system time while draining)`);
    line(`${plan.label}: ${plan.referenceName}`, `${fmt(result.referenceRowsPerSec)} rows/s (${fmt(refMs)} ms) = the limit`);
    line(`${plan.label}: ratio`, `${(result.rowsPerSec / result.referenceRowsPerSec).toFixed(2)} × ${plan.referenceName}`);
    line(`${plan.label}: daemon peak RSS`, `${peakRssMiB.toFixed(0)} MiB (VmHWM; ${idleRss.toFixed(0)} MiB after warm-up)`);
    return result;
  } finally {
    if (daemon.running) {
      daemon.resume();
      await daemon.stop();
    }
    await kafka.drop([plan.topic]);
    await kafka.close();
    await registry.close();
  }
}
