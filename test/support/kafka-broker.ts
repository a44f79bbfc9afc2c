/**
 * A private single-node KRaft Kafka broker for one test, so the test can stop, kill and restart it without
 * touching the shared broker on 9092. It runs from the jars `scripts/stack` resolved into .stack/kafka/lib, with
 * the stack's server.properties on a free broker/controller port pair, a temp data dir and its own logs.
 * `restart()` keeps the port and the data dir: to clients it is the same broker coming back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { probeBrokers } from '../../src/kafka/admin.js';
import type { KafkaSettings } from '../../src/kafka/settings.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const LIB = path.join(ROOT, '.stack/kafka/lib');
const TEMPLATE = path.join(ROOT, 'scripts/kafka/server.properties');
const LOG4J = path.join(ROOT, 'scripts/kafka/log4j2.properties');
const HOST = '127.0.0.1';
/** Small and quick to start (C1 only): the test machine is shared, and a test broker holds a few MB. */
const JVM_OPTIONS = ['-Xms128m', '-Xmx512m', '-XX:+UseG1GC', '-XX:TieredStopAtLevel=1'];
/**
 * After a kill -9 the restarted controller still sees the dead incarnation's registration and makes the new one
 * wait out its session (9 s by default); a short session lets the killed broker come back in a few seconds.
 */
const OVERRIDES = ['broker.heartbeat.interval.ms=500', 'broker.session.timeout.ms=2000'];

export interface KafkaBrokerOptions {
  readonly startTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
}

export class KafkaBroker {
  /** `host:port` of the PLAINTEXT listener, fixed for the broker's lifetime. */
  readonly address: string;
  readonly dir: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private formatted = false;
  private readonly killOnExit = (): void => void this.child?.kill('SIGKILL');

  private constructor(
    readonly port: number,
    readonly controllerPort: number,
    private readonly options: KafkaBrokerOptions,
  ) {
    this.address = `${HOST}:${port}`;
    this.dir = mkdtempSync(path.join(tmpdir(), 'tributary-kafka-'));
    mkdirSync(this.logsDir, { recursive: true });
    const properties = readFileSync(TEMPLATE, 'utf8')
      .replaceAll(`${HOST}:9092`, `${HOST}:${port}`)
      .replaceAll(`${HOST}:9093`, `${HOST}:${controllerPort}`)
      .replace('@DATA_DIR@', this.dataDir)
      .concat(`\n# kafka-broker.ts\n${OVERRIDES.join('\n')}\n`);
    if (!properties.includes(`PLAINTEXT://${HOST}:${port}`) || !properties.includes(`CONTROLLER://${HOST}:${controllerPort}`)) {
      throw new Error(`${TEMPLATE} no longer has the 127.0.0.1:9092/9093 listeners this helper rewrites; update kafka-broker.ts`);
    }
    writeFileSync(this.propertiesFile, properties);
    // A test that dies without cleaning up must not leave a JVM behind.
    process.once('exit', this.killOnExit);
  }

  /** A broker on a free port pair, formatted and answering metadata requests. */
  static async start(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
    const [port, controllerPort] = await freePorts(2);
    const broker = new KafkaBroker(port!, controllerPort!, options);
    try {
      await broker.start();
    } catch (error) {
      await broker.destroy();
      throw error;
    }
    return broker;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Settings for Tributary's own clients (probe, admin, producer) against this broker. */
  settings(): KafkaSettings {
    return { brokers: [this.address], clientId: 'tributary-test', producer: { compression: 'lz4', lingerMs: 0, batchBytes: 1_048_576 } };
  }

  /** Starts the JVM (formatting the data dir the first time) and resolves once a metadata request is answered. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`broker ${this.address} is already running (pid ${this.pid})`);
    if (!this.formatted) {
      await this.format();
      this.formatted = true;
    }
    const out = openSync(path.join(this.logsDir, 'stdout.log'), 'a');
    try {
      this.child = spawn('java', [...this.jvm(), 'kafka.Kafka', this.propertiesFile], { stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    const child = this.child;
    this.exited = once(child, 'exit').then(() => undefined);
    await this.waitReady(child);
  }

  /** SIGTERM (a controlled shutdown), then waits for the JVM to exit. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** SIGKILL: the broker dies at once, without flushing or closing anything. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** Stop (or kill), then start again on the same port and data dir. */
  async restart(how: 'stop' | 'kill' = 'stop'): Promise<void> {
    await (how === 'stop' ? this.stop() : this.kill());
    await this.start();
  }

  /** Kills the broker and removes its data and logs. */
  async destroy(): Promise<void> {
    await this.kill();
    process.off('exit', this.killOnExit);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The end of the broker's console and server logs, for failure messages. */
  tail(lines = 30): string {
    return ['stdout.log', 'server.log']
      .map((file) => {
        try {
          return readFileSync(path.join(this.logsDir, file), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
        } catch {
          return '';
        }
      })
      .filter((text) => text !== '')
      .join('\n');
  }

  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  private get logsDir(): string {
    return path.join(this.dir, 'logs');
  }

  private get propertiesFile(): string {
    return path.join(this.dir, 'server.properties');
  }

  private jvm(): string[] {
    return [...JVM_OPTIONS, '-cp', `${LIB}/*`, `-Dlog4j2.configurationFile=${LOG4J}`, `-Dkafka.logs.dir=${this.logsDir}`];
  }

  private async format(): Promise<void> {
    const log = path.join(this.logsDir, 'format.log');
    const out = openSync(log, 'a');
    let child: ChildProcess;
    try {
      child = spawn('java', [...this.jvm(), 'kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId(), '-c', this.propertiesFile], {
        stdio: ['ignore', out, out],
      });
    } finally {
      closeSync(out);
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`formatting KRaft storage in ${this.dataDir} failed (exit ${code}):\n${readFileSync(log, 'utf8')}`);
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 90_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`broker ${this.address} exited while starting (${child.exitCode ?? child.signalCode}):\n${this.tail()}`);
      }
      try {
        await probeBrokers(this.settings(), 2000);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`broker ${this.address} did not answer a metadata request in time: ${String(error)}\n${this.tail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    child.kill(signal);
    const timeoutMs = this.options.stopTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`broker ${this.address} did not exit within ${timeoutMs} ms of ${signal}:\n${this.tail()}`)), timeoutMs);
    });
    try {
      await Promise.race([this.exited, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `count` distinct ports the OS considers free right now. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer();
      server.listen(0, HOST);
      await once(server, 'listening');
      return server;
    }),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** A KRaft cluster id as `kafka-storage random-uuid` prints it: 16 random bytes, base64url, not starting with "-". */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
