/**
 * Runs `tributary run` as a real child process for end-to-end tests: a config file written to a temp dir, the
 * schema registry served by the test process (so it outlives daemon restarts and kill -9), logs captured, and
 * conditions waited on rather than slept for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { MemorySchemaStore } from '../../src/registry/memory-store.js';
import { startEmbeddedRegistry } from '../../src/registry/server.js';
import { silentLogger } from '../../src/ops/logger.js';
import { LOCAL_BROKER } from './kafka.js';

const CLI = path.resolve(import.meta.dirname, '../../src/cli.ts');

export interface TestRegistry {
  readonly url: string;
  close(): Promise<void>;
}

/** A schema registry on an ephemeral port, in memory, for one test file. */
export async function startTestRegistry(): Promise<TestRegistry> {
  return startEmbeddedRegistry({ host: '127.0.0.1', port: 0, store: new MemorySchemaStore(), logger: silentLogger() });
}

/**
 * Writes a config for `sources` (the YAML `sources` list as objects) pointing at the local broker and the given
 * registry, with the checkpoint in a fresh temp dir. `extra` merges top-level sections (e.g. pipeline).
 */
export function writeDaemonConfig(sources: unknown[], registryUrl: string, extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tributary-e2e-'));
  const config = {
    sources,
    kafka: { brokers: [LOCAL_BROKER], producer: { lingerMs: 2 } },
    registry: { mode: 'external', url: registryUrl },
    checkpoint: { path: path.join(dir, 'tributary.db') },
    logging: { level: 'info' },
    http: { port: 0 },
    ...extra,
  };
  const file = path.join(dir, 'tributary.yaml');
  writeFileSync(file, stringify(config));
  return file;
}

export class Daemon {
  readonly logs: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();

  constructor(configFile: string, env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', '-c', configFile], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        this.logs.push(...lines);
        for (const wake of this.waiters) wake();
      });
    }
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => {
      resolve(code);
      for (const wake of this.waiters) wake();
    }));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first log line matching `pattern`; rejects if the daemon exits or time runs out first. */
  waitForLog(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const line = this.logs.find((l) => pattern.test(l));
        if (line !== undefined) return done(() => resolve(line));
        if (!this.running) return done(() => reject(new Error(`daemon exited before logging ${pattern}:\n${this.tail()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no log line matched ${pattern} in ${timeoutMs} ms:\n${this.tail()}`))), timeoutMs);
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number | null> {
    if (this.running) this.kill('SIGTERM');
    return this.exited;
  }

  tail(lines = 30): string {
    return this.logs.slice(-lines).join('\n');
  }
}
