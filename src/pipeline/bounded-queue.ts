/**
 * A FIFO bounded by both item count and bytes, like Debezium's ChangeEventQueue: the producer side awaits
 * `put` while the queue is full, which is how a slow Kafka pauses reading from the database. A single item
 * larger than `maxBytes` is still admitted when the queue is empty, so one huge row cannot wedge the pipeline.
 */
import { invariant } from '../model/errors.js';

export interface QueueLimits {
  readonly maxItems: number;
  readonly maxBytes: number;
}

interface Entry<T> {
  readonly item: T;
  readonly bytes: number;
}

export class BoundedQueue<T> {
  private readonly entries: Entry<T>[] = [];
  private head = 0;
  private bytes = 0;
  private closed = false;
  private spaceWaiters: (() => void)[] = [];
  private itemWaiter: (() => void) | undefined;

  constructor(private readonly limits: QueueLimits) {
    invariant(limits.maxItems > 0 && limits.maxBytes > 0, 'queue limits must be positive');
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Adds the item at once if there is room (and the queue is open); false means call `put` and wait. */
  offer(item: T, bytes: number): boolean {
    if (this.closed || this.isFullFor(bytes)) return false;
    this.push(item, bytes);
    return true;
  }

  /** Resolves true once the item is in the queue, waiting while it is full; false if the queue was closed. */
  async put(item: T, bytes: number): Promise<boolean> {
    while (!this.closed && this.isFullFor(bytes)) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
    if (this.closed) return false;
    this.push(item, bytes);
    return true;
  }

  private isFullFor(bytes: number): boolean {
    return this.size > 0 && (this.size >= this.limits.maxItems || this.bytes + bytes > this.limits.maxBytes);
  }

  private push(item: T, bytes: number): void {
    this.entries.push({ item, bytes });
    this.bytes += bytes;
    const waiter = this.itemWaiter;
    this.itemWaiter = undefined;
    waiter?.();
  }

  /**
   * Takes up to `maxItems` items (and up to `maxBytes`, at least one item), waiting for the first one.
   * Returns an empty array only once the queue is closed and drained.
   */
  async take(maxItems: number, maxBytes = Number.POSITIVE_INFINITY): Promise<T[]> {
    while (this.size === 0) {
      if (this.closed) return [];
      invariant(this.itemWaiter === undefined, 'BoundedQueue supports a single consumer');
      await new Promise<void>((resolve) => (this.itemWaiter = resolve));
    }
    const batch: T[] = [];
    let batchBytes = 0;
    while (this.size > 0 && batch.length < maxItems) {
      const entry = this.entries[this.head] as Entry<T>;
      if (batch.length > 0 && batchBytes + entry.bytes > maxBytes) break;
      batch.push(entry.item);
      batchBytes += entry.bytes;
      this.head++;
    }
    this.bytes -= batchBytes;
    this.compact();
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
    return batch;
  }

  /** No more puts; `take` drains what is left and then returns []. */
  close(): void {
    this.closed = true;
    this.itemWaiter?.();
    this.itemWaiter = undefined;
    for (const wake of this.spaceWaiters) wake();
    this.spaceWaiters = [];
  }

  private compact(): void {
    // Shifting an array per take is O(n); drop the consumed prefix once it dominates instead.
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }
}
