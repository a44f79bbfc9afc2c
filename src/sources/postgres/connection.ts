/**
 * Connections to PostgreSQL: plain query connections with fixed session settings (so every value arrives in
 * the text form text-values.ts reads), and the replication connection's CopyBoth stream with our own standby
 * status updates, so that only LSNs confirmed durable downstream are ever reported to the server.
 */
import pg from 'pg';
import type { Logger } from '../../ops/logger.js';
import { translatePgError } from './errors.js';
import { Lsn } from './position.js';

export interface PgConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password?: string;
  /** Passed to the driver as `ssl`: true, or tls.connect options (ca, rejectUnauthorized, ...). */
  readonly tls?: boolean | Record<string, unknown>;
}

/**
 * Output settings for both connection kinds; the walsender formats pgoutput's text values with them too.
 * lc_monetary C makes money read `$1,234.56`.
 */
const SESSION_OPTIONS = [
  'DateStyle=ISO',
  'IntervalStyle=iso_8601',
  'TimeZone=UTC',
  'bytea_output=hex',
  'extra_float_digits=3',
  'lc_monetary=C',
  'application_name=tributary',
]
  .map((setting) => `-c ${setting}`)
  .join(' ');

export async function connect(options: PgConnectionOptions, replication: boolean, logger: Logger): Promise<pg.Client> {
  const config = {
    host: options.host,
    port: options.port,
    database: options.database,
    user: options.user,
    password: options.password,
    ssl: options.tls,
    options: SESSION_OPTIONS,
    ...(replication ? { replication: 'database' } : {}),
  } as pg.ClientConfig;
  const client = new pg.Client(config);
  // An idle connection that drops emits 'error'; unheard, that would end the process. The next query fails.
  client.on('error', (error) => logger.warn({ err: error, replication }, 'PostgreSQL connection lost'));
  try {
    await client.connect();
  } catch (error) {
    throw translatePgError(error, `connecting to ${options.host}:${options.port}/${options.database}`, { user: options.user });
  }
  return client;
}

/** Quotes an SQL identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes an SQL string literal. */
export function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** What the walsender sends inside CopyData: a change payload at an LSN, or a keepalive. */
export type ReplicationFrame =
  | { readonly kind: 'data'; readonly lsn: Lsn; readonly walEnd: Lsn; readonly payload: Buffer }
  | { readonly kind: 'keepalive'; readonly walEnd: Lsn };

const XLOG_DATA = 0x77; // w
const KEEPALIVE = 0x6b; // k
const STANDBY_STATUS = 0x72; // r
const PG_EPOCH_MS = 946_684_800_000;
/** How long a stop waits for the server to end the COPY after ours: a bound on shutdown, not a delay. */
const END_COPY_TIMEOUT_MS = 5_000;

interface StreamOptions {
  readonly slot: string;
  readonly publication: string;
  readonly start: Lsn;
  /** Status updates are sent at least this often (with a reply request, so keepalives drive heartbeats). */
  readonly statusIntervalMs: number;
  /** Frames buffered before reading from the socket pauses. */
  readonly highWaterMark: number;
  readonly logger: Logger;
  readonly now: () => number;
  /** The server accepted START_REPLICATION and is streaming (before any frame: an idle slot sends none for a while). */
  readonly onStreaming?: () => void;
  /** The stream failed (once, as it happens, not when the consumer reaches the failure in the queue). */
  readonly onFailure?: (error: unknown) => void;
}

/**
 * START_REPLICATION on a replication connection, as a pull-based frame queue: the socket is paused while the
 * consumer is behind. The flush position reported to the server is only ever `confirmed`.
 */
export class ReplicationStream {
  private readonly frames: ReplicationFrame[] = [];
  private failure: unknown = undefined;
  private ended = false;
  /** No more frames for the consumer, but the connection stays up so that a last confirm reaches the server. */
  private halted = false;
  /** Data still arriving after the COPY was ended on our side: read and dropped. */
  private discarding = false;
  /** Settles when the server has ended START_REPLICATION (or it failed). */
  private streaming: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;
  private paused = false;
  private confirmed: Lsn;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: pg.Client,
    private readonly options: StreamOptions,
  ) {
    this.confirmed = Lsn.ZERO;
  }

  private get connection(): {
    on(event: 'copyData', listener: (message: { chunk: Buffer }) => void): void;
    on(event: 'replicationStart', listener: () => void): void;
    removeAllListeners(event: string): void;
    sendCopyFromChunk(chunk: Buffer): void;
    endCopyFrom(): void;
    stream: { pause(): void; resume(): void };
  } {
    return (this.client as unknown as { connection: ReplicationStream['connection'] }).connection;
  }

  start(): void {
    const { slot, publication, start } = this.options;
    this.connection.on('copyData', ({ chunk }) => this.onCopyData(chunk));
    this.connection.on('replicationStart', () => this.options.onStreaming?.());
    this.client.on('error', (error) => this.fail(error));
    const sql = `START_REPLICATION SLOT ${ident(slot)} LOGICAL ${start.toString()} (proto_version '1', publication_names ${literal(ident(publication))})`;
    this.streaming = this.client.query(sql).then(
      () => this.finish(),
      (error: unknown) => (this.ended ? undefined : this.fail(translatePgError(error, `streaming from slot "${slot}"`, { slot }))),
    );
    this.timer = setInterval(() => this.sendStatus(true), this.options.statusIntervalMs);
    this.timer.unref();
  }

  /** The next frame, or undefined when the stream ended; throws the stream's failure. */
  async next(): Promise<ReplicationFrame | undefined> {
    for (;;) {
      if (this.halted) return undefined;
      const frame = this.frames.shift();
      if (frame !== undefined) {
        if (this.paused && this.frames.length <= this.options.highWaterMark / 2) {
          this.paused = false;
          this.connection.stream.resume();
        }
        return frame;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Reports `lsn` as written, flushed and applied; never moves backwards. */
  confirm(lsn: Lsn): void {
    if (lsn.compare(this.confirmed) <= 0) return;
    this.confirmed = lsn;
    this.sendStatus(false);
  }

  /**
   * Stops handing out frames: next() returns undefined. Unlike stop(), the connection stays open, so the
   * checkpoint written after the pipeline drained can still be confirmed before close.
   */
  halt(): void {
    this.halted = true;
    this.wake?.();
  }

  /**
   * Ends the stream. A halted stream first ends the COPY and waits (briefly) until the server has ended it too: the
   * walsender reads our messages in order, so by then it has applied the last standby status, the final confirm.
   * Closing at once can lose that status while the walsender is blocked writing to us (seen: the slot 2.4 MB behind
   * a clean shutdown's checkpoint).
   */
  async stop(): Promise<void> {
    if (this.halted && !this.ended && this.failure === undefined) await this.endCopy();
    this.ended = true;
    clearInterval(this.timer);
    this.wake?.();
    await this.client.end().catch(() => undefined);
  }

  private async endCopy(): Promise<void> {
    this.discarding = true;
    this.frames.length = 0;
    try {
      this.connection.endCopyFrom();
    } catch {
      return;
    }
    if (this.paused) {
      this.paused = false;
      this.connection.stream.resume();
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.streaming, new Promise<void>((resolve) => (timer = setTimeout(resolve, END_COPY_TIMEOUT_MS)))]);
    clearTimeout(timer);
  }

  private onCopyData(chunk: Buffer): void {
    if (this.discarding) return;
    const code = chunk[0];
    if (code === XLOG_DATA) {
      // A copy: `chunk` is a view of pg-protocol's read buffer, which moves a partial message to the buffer's start
      // when the next socket read arrives, overwriting the bytes of frames still waiting in this queue.
      const payload = Buffer.from(chunk.subarray(25));
      this.push({ kind: 'data', lsn: Lsn.of(chunk.readBigUInt64BE(1)), walEnd: Lsn.of(chunk.readBigUInt64BE(9)), payload });
    } else if (code === KEEPALIVE) {
      const walEnd = Lsn.of(chunk.readBigUInt64BE(1));
      if (chunk[17] === 1) this.sendStatus(false);
      this.push({ kind: 'keepalive', walEnd });
    } else {
      this.options.logger.warn({ code }, 'unknown replication CopyData message ignored');
    }
  }

  private push(frame: ReplicationFrame): void {
    this.frames.push(frame);
    if (!this.paused && this.frames.length >= this.options.highWaterMark) {
      this.paused = true;
      this.connection.stream.pause();
    }
    this.signal();
  }

  private sendStatus(requestReply: boolean): void {
    if (this.ended) return;
    const message = Buffer.alloc(34);
    message[0] = STANDBY_STATUS;
    const lsn = this.confirmed.toBigInt();
    message.writeBigUInt64BE(lsn, 1);
    message.writeBigUInt64BE(lsn, 9);
    message.writeBigUInt64BE(lsn, 17);
    message.writeBigInt64BE(BigInt(this.options.now() - PG_EPOCH_MS) * 1000n, 25);
    message[33] = requestReply ? 1 : 0;
    try {
      this.connection.sendCopyFromChunk(message);
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    if (this.ended || this.failure !== undefined) return;
    this.failure = translatePgError(error, `streaming from slot "${this.options.slot}"`, { slot: this.options.slot });
    this.options.onFailure?.(this.failure);
    this.signal();
  }

  private finish(): void {
    this.ended = true;
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
