/**
 * The daemon under measurement: `node dist/cli.js run -c FILE` as a child process (the built code, not tsx, so
 * its memory and CPU are what a user runs), with the schema registry served by the bench process, logs captured,
 * and its peak RSS read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { MemorySchemaStore } from '../../src/registry/memory-store.js';
import { startEmbeddedRegistry, type EmbeddedRegistry } from '../../src/registry/server.js';
import { silentLogger } from '../../src/ops/logger.js';
import { BROKER } from './kafka.js';

const CLI = path.resolve(import.meta.dirname, '../../dist/cli.js');

export function startRegistry(): Promise<EmbeddedRegistry> {
  return startEmbeddedRegistry({ host: '127.0.0.1', port: 0, store: new MemorySchemaStore(), logger: silentLogger() });
}

/**
 * A config for one source against the local broker and `registryUrl`, checkpoint in a fresh temp dir; `extra`
 * adds top-level sections (e.g. lake).
 */
export function writeConfig(source: Record<string, unknown>, registryUrl: string, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tributary-bench-'));
  const config = {
    sources: [source],
    kafka: { brokers: [BROKER], producer: producerOverrides() },
    registry: { mode: 'external', url: registryUrl },
    checkpoint: { path: path.join(dir, 'tributary.db') },
    logging: { level: 'info' },
    ...(process.env.BENCH_QUEUE_EVENTS === undefined ? {} : { pipeline: { queue: { maxEvents: Number(process.env.BENCH_QUEUE_EVENTS) } } }),
    ...extra,
  };
  const file = path.join(dir, 'tributary.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

/** `kafka.producer` settings from BENCH_BATCH_BYTES, BENCH_LINGER_MS and BENCH_COMPRESSION, for experiments. */
function producerOverrides(): Record<string, unknown> {
  const { BENCH_BATCH_BYTES: batchBytes, BENCH_LINGER_MS: lingerMs, BENCH_COMPRESSION: compression } = process.env;
  return {
    ...(batchBytes === undefined ? {} : { batchBytes: Number(batchBytes) }),
    ...(lingerMs === undefined ? {} : { lingerMs: Number(lingerMs) }),
    ...(compression === undefined ? {} : { compression }),
  };
}

export interface DaemonOptions {
  /** Write a V8 CPU profile of the daemon into this directory (node --cpu-prof). */
  readonly cpuProfDir?: string;
}

export class BenchDaemon {
  readonly logs: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(configFile: string, options: DaemonOptions = {}) {
    const flags = options.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`];
    flags.push(...(process.env.BENCH_DAEMON_FLAGS?.split(' ').filter(Boolean) ?? []));
    this.child = spawn(process.execPath, [...flags, CLI, 'run', '-c', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: process.env.NODE_OPTIONS ?? deployedNodeOptions() },
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        this.logs.push(...lines);
      });
    }
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitForLog(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    await waitFor(() => {
      if (this.logs.some((line) => pattern.test(line))) return true;
      if (!this.running) throw new Error(`daemon exited before logging ${pattern}:\n${this.tail()}`);
      return false;
    }, timeoutMs, `daemon log ${pattern}`);
  }

  /** Throws with the log's tail if the daemon is no longer running. */
  checkAlive(): void {
    if (!this.running) throw new Error(`daemon exited:\n${this.tail()}`);
  }

  /** Peak resident set (VmHWM) so far, in MiB. */
  peakRssMiB(): number {
    return statusKiB(this.pid, 'VmHWM') / 1024;
  }

  /** CPU time (user + system) the daemon has used so far, in ms: robust to other load on the machine. */
  cpuMs(): number {
    const fields = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  }

  rssMiB(): number {
    return statusKiB(this.pid, 'VmRSS') / 1024;
  }

  /** SIGSTOP: the daemon keeps its connections but reads nothing, so a backlog builds up in the server. */
  pause(): void {
    this.child.kill('SIGSTOP');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  /** SIGTERM and the exit code; fails loudly if the daemon logged an error on the way. */
  async stop(): Promise<number | null> {
    if (this.running) this.child.kill('SIGTERM');
    const code = await this.exited;
    // For looking into a run afterwards, e.g. with NODE_OPTIONS=--trace-gc.
    const logFile = process.env.BENCH_DAEMON_LOG;
    if (logFile !== undefined) appendFileSync(logFile, this.logs.join('\n') + '\n');
    return code;
  }

  tail(lines = 20): string {
    return this.logs.slice(-lines).join('\n');
  }
}

function statusKiB(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/** Polls `condition` every `everyMs` until it returns true; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The Node options the systemd unit and the Containerfile run Tributary with: what is measured runs as deployed. */
export function deployedNodeOptions(): string {
  const unit = readFileSync(new URL('../../deploy/tributary.service', import.meta.url), 'utf8');
  const options = /^Environment=NODE_OPTIONS=(.+)$/m.exec(unit)?.[1];
  if (options === undefined) throw new Error('deploy/tributary.service sets no NODE_OPTIONS');
  return options;
}
