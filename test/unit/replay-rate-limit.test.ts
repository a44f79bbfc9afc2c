import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../src/replay/rate-limit.js';

test('tokens are free while the bucket holds them, then the wait covers the debt', async () => {
  let now = 0;
  const bucket = new TokenBucket(1000, () => now); // holds 100 tokens
  for (let i = 0; i < 100; i++) assert.equal(bucket.take(1), undefined);
  const started = performance.now();
  const wait = bucket.take(10); // 10 tokens short: 10 ms at 1000/s
  assert.ok(wait instanceof Promise);
  await wait;
  assert.ok(performance.now() - started >= 9, 'slept for the missing tokens');
  now += 1000; // a second later the bucket is full again, not fuller
  for (let i = 0; i < 100; i++) assert.equal(bucket.take(1), undefined);
  assert.ok(bucket.take(1) instanceof Promise);
});

test('a replay limited to N rows/s takes about rows/N seconds', async () => {
  const bucket = new TokenBucket(5000);
  const started = performance.now();
  for (let i = 0; i < 2500; i++) {
    const wait = bucket.take(1);
    if (wait !== undefined) await wait;
  }
  const seconds = (performance.now() - started) / 1000;
  // 2500 rows at 5000/s with a 500-row head start: ~0.4 s.
  assert.ok(seconds > 0.3 && seconds < 1.5, `${seconds} s`);
});

test('a rate that is not positive is refused', () => {
  assert.throws(() => new TokenBucket(0), RangeError);
  assert.throws(() => new TokenBucket(Number.NaN), RangeError);
});
