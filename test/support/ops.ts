/**
 * Reading a running daemon's ops endpoint in end-to-end tests: where it listens, `/readyz` answers recorded as
 * they change, samples of `/metrics` and the lag gauge after a catch-up.
 */
import assert from 'node:assert/strict';
import { SERVER_POSITION_POLL_MS } from '../../src/sources/source.js';
import type { Daemon } from './daemon.js';

/** The ops URL the daemon logged on start. */
export async function opsUrl(daemon: Daemon): Promise<string> {
  const line = await daemon.waitForLog(/tributary started/);
  const url = (JSON.parse(line) as { ops?: unknown }).ops;
  assert.equal(typeof url, 'string', `no ops url in ${line}`);
  return url as string;
}

export interface Readiness {
  readonly status: number;
  /** Every source's state, comma-separated. */
  readonly states: string;
}

export async function readiness(ops: string): Promise<Readiness> {
  const response = await fetch(`${ops}/readyz`);
  const body = (await response.json()) as { sources: { state: string }[] };
  return { status: response.status, states: body.sources.map((s) => s.state).join(',') };
}

/** Polls `/readyz` every `intervalMs` in the background and keeps every distinct answer, in order. */
export class ReadinessRecorder {
  readonly seen: Readiness[] = [];
  private polling = true;
  private readonly done: Promise<void>;

  constructor(ops: string, intervalMs = 20) {
    this.done = (async () => {
      while (this.polling) {
        const now = await readiness(ops);
        const last = this.seen.at(-1);
        if (last?.status !== now.status || last.states !== now.states) this.seen.push(now);
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    })();
  }

  /** Whether an answer from index `from` on was 503 and a later one 200 again. */
  wentDownAndUp(from = 0): boolean {
    const down = this.seen.findIndex((r, i) => i >= from && r.status === 503);
    return down >= 0 && this.seen.slice(down).some((r) => r.status === 200);
  }

  async stop(): Promise<void> {
    this.polling = false;
    await this.done;
  }
}

/** The value of `metric{source="<source>"}` in a `/metrics` scrape, or undefined when the sample is absent. */
export async function scrapeSourceGauge(ops: string, metric: string, source: string): Promise<number | undefined> {
  const text = await (await fetch(`${ops}/metrics`)).text();
  for (const line of text.split('\n')) {
    const match = /^(\w+)\{source="([^"]*)"\} (\S+)$/.exec(line);
    if (match?.[1] === metric && match[2] === source) return Number(match[3]);
  }
  return undefined;
}

/**
 * Waits until `tributary_source_lag_bytes` of `source` is at most `limit` in a reading the source took after
 * `caughtUp()` first held (the source reads the server's position every SERVER_POSITION_POLL_MS). Returns
 * every value scraped meanwhile.
 */
export async function waitForLagAtMost(ops: string, source: string, limit: number, caughtUp: () => Promise<boolean>, timeoutMs = 60_000): Promise<number[]> {
  const lags: number[] = [];
  let caughtUpAt = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lag = await scrapeSourceGauge(ops, 'tributary_source_lag_bytes', source);
    if (lag !== undefined) lags.push(lag);
    if (caughtUpAt === 0 && (await caughtUp())) caughtUpAt = Date.now();
    if (lag !== undefined && lag <= limit && caughtUpAt > 0 && Date.now() > caughtUpAt + SERVER_POSITION_POLL_MS + 500) return lags;
    if (Date.now() > deadline) throw new Error(`lag of ${source} not at most ${limit} bytes after catching up (${caughtUpAt > 0 ? 'caught up' : 'never caught up'}; lags ${JSON.stringify(lags)})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
