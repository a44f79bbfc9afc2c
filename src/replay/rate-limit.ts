/**
 * A token bucket for `--rate N` (rows per second): a row takes a token; when none is left the reader sleeps
 * until enough have accrued, so a limited replay costs timers, not a busy loop. The bucket holds a tenth of a
 * second of tokens, so bursts stay short and the rate is even at any scale a dashboard looks at.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export class TokenBucket {
  private readonly capacity: number;
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError(`rate must be a positive number, got ${perSecond}`);
    this.capacity = Math.max(1, perSecond / 10);
    this.tokens = this.capacity;
    this.refilledAt = now();
  }

  /** Takes `n` tokens: undefined when they were there, else a promise that resolves once they have accrued. */
  take(n = 1, signal?: AbortSignal): Promise<void> | undefined {
    this.refill();
    this.tokens -= n;
    if (this.tokens >= 0) return undefined;
    const waitMs = (-this.tokens / this.perSecond) * 1000;
    return sleep(waitMs, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
  }
}
