import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { parseRowPosition, ReplayCheckpoint, replayProgressName, rowPosition } from '../../src/replay/checkpoint.js';

test('row positions carry rows, key and the last flag', () => {
  assert.deepEqual(parseRowPosition(rowPosition(42, '["17"]', false)), { rows: 42, key: '["17"]', last: false });
  assert.deepEqual(parseRowPosition(rowPosition(7, '[1,{"hex":"00ff"}]', true)), { rows: 7, key: '[1,{"hex":"00ff"}]', last: true });
});

test('an acknowledged position is what a rerun resumes after; a finished replay starts afresh', () => {
  const store = CheckpointStore.open(':memory:');
  const checkpoint = new ReplayCheckpoint(store, 'public.orders', 'orders-copy');
  assert.equal(checkpoint.resume(), undefined);
  checkpoint.begin({ first: '0/100', current: '0/100' }, 'lake', undefined);
  assert.equal(checkpoint.resume(), undefined, 'nothing acknowledged yet: nothing to continue after');
  checkpoint.savePosition('pipeline', rowPosition(2000, '[0,"2000"]', false));
  assert.deepEqual(checkpoint.resume(), { afterKey: '[0,"2000"]', rows: 2000, positions: { first: '0/100', current: '0/100' }, from: 'lake' });

  // A rerun at a new consistent point keeps the first one.
  const rerun = new ReplayCheckpoint(store, 'public.orders', 'orders-copy');
  const resume = rerun.resume();
  rerun.begin({ first: resume!.positions.first, current: '0/200' }, 'lake', resume);
  assert.deepEqual(rerun.resume()?.positions, { first: '0/100', current: '0/200' });
  rerun.savePosition('pipeline', rowPosition(3000, '["3000"]', true));
  assert.equal(rerun.resume(), undefined, 'done');
  const row = store.getSnapshot(replayProgressName('public.orders', 'orders-copy'), 'public.orders');
  assert.equal(row?.status, 'done');
  assert.equal(row?.rows, 3000);
  store.close();
});

test('progress is kept per table and target topic', () => {
  const store = CheckpointStore.open(':memory:');
  const a = new ReplayCheckpoint(store, 'public.orders', 'a');
  a.begin({ first: '0/1', current: '0/1' }, 'database', undefined);
  a.savePosition('p', rowPosition(5, '["5"]', false));
  assert.equal(new ReplayCheckpoint(store, 'public.orders', 'b').resume(), undefined);
  a.reset();
  assert.equal(a.resume(), undefined);
  store.close();
});

test('progress saved before replays could read the lake continues as a database replay', () => {
  const store = CheckpointStore.open(':memory:');
  store.saveSnapshotProgress(replayProgressName('public.orders', 'old'), 'public.orders', {
    lastKey: '["9"]',
    rows: 9,
    position: JSON.stringify({ first: '0/1', current: '0/1' }),
  });
  assert.equal(new ReplayCheckpoint(store, 'public.orders', 'old').resume()?.from, 'database');
  store.close();
});
