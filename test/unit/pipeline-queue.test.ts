import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedQueue } from '../../src/pipeline/bounded-queue.js';
import { AckTracker } from '../../src/pipeline/ack-tracker.js';

test('put waits while the queue is full by count, and resumes after take', async () => {
  const queue = new BoundedQueue<number>({ maxItems: 2, maxBytes: 1000 });
  await queue.put(1, 1);
  await queue.put(2, 1);
  let third = false;
  const pending = queue.put(3, 1).then(() => (third = true));
  await Promise.resolve();
  assert.equal(third, false, 'third put must wait');
  assert.deepEqual(await queue.take(1), [1]);
  await pending;
  assert.equal(third, true);
  assert.deepEqual(await queue.take(10), [2, 3]);
});

test('put waits while the queue is full by bytes; an oversized item is admitted into an empty queue', async () => {
  const queue = new BoundedQueue<string>({ maxItems: 100, maxBytes: 10 });
  await queue.put('big', 50);
  let second = false;
  const pending = queue.put('small', 1).then(() => (second = true));
  await Promise.resolve();
  assert.equal(second, false);
  assert.equal(queue.sizeBytes, 50);
  assert.deepEqual(await queue.take(10), ['big']);
  await pending;
  assert.equal(queue.sizeBytes, 1);
});

test('take honours maxBytes but always returns at least one item', async () => {
  const queue = new BoundedQueue<string>({ maxItems: 100, maxBytes: 1000 });
  for (const s of ['a', 'b', 'c']) await queue.put(s, 40);
  assert.deepEqual(await queue.take(10, 50), ['a']);
  assert.deepEqual(await queue.take(10, 80), ['b', 'c']);
});

test('take waits for the first item, and returns [] once closed and drained', async () => {
  const queue = new BoundedQueue<number>({ maxItems: 10, maxBytes: 100 });
  const taking = queue.take(5);
  await queue.put(7, 1);
  assert.deepEqual(await taking, [7]);
  await queue.put(8, 1);
  queue.close();
  assert.deepEqual(await queue.take(5), [8]);
  assert.deepEqual(await queue.take(5), []);
});

test('keeps FIFO order across many puts and takes', async () => {
  const queue = new BoundedQueue<number>({ maxItems: 64, maxBytes: 1 << 20 });
  const seen: number[] = [];
  const consumer = (async () => {
    for (;;) {
      const batch = await queue.take(7);
      if (batch.length === 0) return;
      seen.push(...batch);
    }
  })();
  for (let i = 0; i < 5000; i++) await queue.put(i, 10);
  queue.close();
  await consumer;
  assert.deepEqual(seen, Array.from({ length: 5000 }, (_, i) => i));
});

test('checkpoint advances only over a contiguous prefix of acknowledged batches', () => {
  const tracker = new AckTracker();
  const a = tracker.begin('p1');
  const b = tracker.begin('p2');
  const c = tracker.begin(undefined);
  const d = tracker.begin('p4');
  assert.equal(tracker.ack(b), undefined, 'b acked before a: no advance');
  assert.equal(tracker.position, undefined);
  assert.equal(tracker.ack(a), 'p2');
  assert.equal(tracker.ack(d), undefined, 'c still in flight');
  assert.equal(tracker.ack(c), 'p4');
  assert.equal(tracker.pending, 0);
});

test('acknowledging a batch twice is an invariant violation', () => {
  const tracker = new AckTracker();
  const a = tracker.begin('p1');
  tracker.ack(a);
  assert.throws(() => tracker.ack(a), /acknowledged twice/);
});
