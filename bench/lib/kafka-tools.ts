/**
 * Kafka's own Java performance tools, run from the local broker's jars (.stack/kafka/lib), as the physical limits
 * the benches print next to their figures: ProducerPerformance writes as many records of the same size with the
 * daemon's producer settings, ConsumerPerformance reads the same topic the compactor reads. Both share this
 * machine's cores with the broker, as the code under test does.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BROKER } from './kafka.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLASSPATH = '.stack/kafka/lib/*';

export interface ToolRun {
  readonly recordsPerSecond: number;
  readonly peakRssMb: number;
  /** The tool's own summary line. */
  readonly summary: string;
}

/** VmHWM of a process in MiB; 0 once it is gone. */
export function vmHwmMb(pid: number | 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : 0;
}

/** Runs a command from the repository root; resolves with its stdout and peak RSS, rejects on a non-zero exit. */
export function runProcess(command: string, args: readonly string[]): Promise<{ stdout: string; peakRssMb: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let peakRssMb = 0;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const poll = setInterval(() => {
      try {
        peakRssMb = Math.max(peakRssMb, vmHwmMb(child.pid!));
      } catch {
        // The process is exiting; the last sample stands.
      }
    }, 50);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      if (code === 0) resolve({ stdout, peakRssMb });
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}\n${stdout}`));
    });
  });
}

/**
 * ProducerPerformance: `records` records of `recordBytes` to `topic` (created by the broker's defaults if
 * missing), idempotent with acks=all, plus `props` (e.g. compression.type=lz4, batch.size, linger.ms).
 */
export async function javaProducerPerformance(topic: string, records: number, recordBytes: number, props: readonly string[] = []): Promise<ToolRun> {
  const { stdout, peakRssMb } = await runProcess('java', [
    '-cp',
    CLASSPATH,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    topic,
    '--num-records',
    String(records),
    '--record-size',
    String(recordBytes),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${BROKER}`,
    'acks=all',
    'enable.idempotence=true',
    ...props,
  ]);
  // Final line: "1000000 records sent, 412371.1 records/sec (117.98 MB/sec), ..."
  const summary = stdout.trim().split('\n').pop() ?? '';
  return { recordsPerSecond: Number(/([\d.]+) records\/sec/.exec(summary)?.[1] ?? NaN), peakRssMb, summary };
}

/**
 * ConsumerPerformance: reads `records` records of `topic` from the start in a fresh group. The rate is the tool's
 * fetch.nMsg.sec, which leaves out the group join, as the compactor's reader joins none.
 */
export async function javaConsumerPerformance(topic: string, records: number): Promise<ToolRun> {
  const { stdout, peakRssMb } = await runProcess('java', [
    '-cp',
    CLASSPATH,
    'org.apache.kafka.tools.ConsumerPerformance',
    '--bootstrap-server',
    BROKER,
    '--topic',
    topic,
    '--messages',
    String(records),
    '--group',
    `bench-perf-${Date.now()}`,
    '--hide-header',
  ]);
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms,
  // fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const summary = stdout.trim().split('\n').pop() ?? '';
  const fields = summary.split(',').map((f) => f.trim());
  return { recordsPerSecond: Number(fields[9] ?? NaN), peakRssMb, summary };
}
