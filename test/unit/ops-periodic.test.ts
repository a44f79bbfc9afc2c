import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runEvery } from '../../src/ops/periodic.js';

test('runEvery never overlaps runs, hands failures on and keeps going, and stops', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const errors: unknown[] = [];
  let runs = 0;
  let finish: (() => void) | undefined;
  const stop = runEvery(
    100,
    () => {
      runs++;
      if (runs === 2) return Promise.reject(new Error('server gone'));
      return new Promise<void>((resolve) => (finish = resolve));
    },
    (error) => errors.push(error),
    { immediately: true },
  );
  assert.equal(runs, 1, 'ran at once');
  t.mock.timers.tick(300);
  assert.equal(runs, 1, 'no second run while the first is pending');
  finish!();
  await new Promise((resolve) => setImmediate(resolve));
  t.mock.timers.tick(100);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(runs, 2);
  assert.deepEqual(errors.map((e) => (e as Error).message), ['server gone']);
  t.mock.timers.tick(100);
  assert.equal(runs, 3, 'a failure does not stop it');
  stop();
  finish!();
  t.mock.timers.tick(1000);
  assert.equal(runs, 3, 'nothing runs after stop');
});

test('runEvery waits one interval first unless asked to run at once', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let runs = 0;
  const stop = runEvery(50, async () => void runs++, () => undefined);
  assert.equal(runs, 0);
  t.mock.timers.tick(50);
  assert.equal(runs, 1);
  stop();
});
