import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { manualClock, tempDir } from '../support/checkpoint-fixtures.js';

const tmp = tempDir();
after(() => tmp.remove());
let counter = 0;
const freshPath = () => tmp.file(`store-${++counter}.db`);

describe('checkpoint store: source positions', () => {
  it('stores, replaces and reloads positions per source', () => {
    const path = freshPath();
    const clock = manualClock();
    const store = CheckpointStore.open(path, { clock: clock.read });
    assert.equal(store.getPosition('pg'), undefined);
    clock.set(1001);
    store.savePosition('pg', '{"lsn":"0/10"}');
    clock.set(1002);
    store.savePosition('my', '{"file":"binlog.000001","pos":4}');
    clock.set(1003);
    store.savePosition('pg', '{"lsn":"0/20"}');
    assert.deepEqual(store.getPosition('pg'), { position: '{"lsn":"0/20"}', updatedAt: 1003 });
    store.close();

    const reopened = CheckpointStore.open(path);
    assert.deepEqual(reopened.getPosition('pg'), { position: '{"lsn":"0/20"}', updatedAt: 1003 });
    assert.deepEqual(reopened.getPosition('my'), { position: '{"file":"binlog.000001","pos":4}', updatedAt: 1002 });
    reopened.close();
  });

  it('keeps the confirmed position beside the stored one', () => {
    const clock = manualClock();
    const store = CheckpointStore.open(':memory:', { clock: clock.read });
    clock.set(1001);
    store.savePosition('pg', 'B');
    clock.set(1002);
    store.markConfirmed('pg', 'A');
    assert.deepEqual(store.getPosition('pg'), { position: 'B', updatedAt: 1001 });
    assert.deepEqual(store.getConfirmedPosition('pg'), { position: 'A', updatedAt: 1002 });
    clock.set(1003);
    store.savePosition('pg', 'C');
    assert.deepEqual(store.getConfirmedPosition('pg'), { position: 'A', updatedAt: 1002 }, 'saving keeps the confirmed one');

    clock.set(1004);
    store.markConfirmed('fresh', 'X');
    assert.deepEqual(store.getPosition('fresh'), { position: 'X', updatedAt: 1004 });
    store.savePosition('never-confirmed', 'Y');
    assert.equal(store.getConfirmedPosition('never-confirmed'), undefined);
    assert.equal(store.getConfirmedPosition('unknown'), undefined);

    assert.deepEqual(store.listPositions(), [
      { source: 'fresh', stored: { position: 'X', updatedAt: 1004 }, confirmed: { position: 'X', updatedAt: 1004 } },
      { source: 'never-confirmed', stored: { position: 'Y', updatedAt: 1004 }, confirmed: undefined },
      { source: 'pg', stored: { position: 'C', updatedAt: 1003 }, confirmed: { position: 'A', updatedAt: 1002 } },
    ]);
    store.close();
  });

  it('commits all writes of a transaction together or none of them', () => {
    const store = CheckpointStore.open(':memory:');
    store.savePosition('a', '1');
    assert.throws(
      () =>
        store.transaction(() => {
          store.savePosition('a', '2');
          store.saveSnapshotProgress('a', 't', { lastKey: '[1]', rows: 1, position: '2' });
          throw new Error('sink failed');
        }),
      /sink failed/,
    );
    assert.equal(store.getPosition('a')?.position, '1');
    assert.equal(store.getSnapshot('a', 't'), undefined);

    const result = store.transaction(() => {
      store.savePosition('a', '3');
      store.saveTableSchema('a', 't', '{"v":1}', '3');
      return 'ok';
    });
    assert.equal(result, 'ok');
    assert.equal(store.getPosition('a')?.position, '3');
    assert.equal(store.getLatestTableSchema('a', 't')?.version, 1);
    store.close();
  });
});

describe('checkpoint store: snapshot progress', () => {
  it('round-trips progress, completion and reset', () => {
    const path = freshPath();
    const clock = manualClock();
    const store = CheckpointStore.open(path, { clock: clock.read });
    assert.equal(store.getSnapshot('pg', 'public.orders'), undefined);
    clock.set(1001);
    store.saveSnapshotProgress('pg', 'public.orders', { lastKey: '[100]', rows: 100, position: '{"lsn":"0/5"}' });
    clock.set(1002);
    store.saveSnapshotProgress('pg', 'public.orders', { lastKey: '[200,"x"]', rows: 200, position: '{"lsn":"0/5"}' });
    store.close();

    clock.set(2000);
    const reopened = CheckpointStore.open(path, { clock: clock.read });
    assert.deepEqual(reopened.getSnapshot('pg', 'public.orders'), {
      status: 'running',
      lastKey: '[200,"x"]',
      rows: 200,
      position: '{"lsn":"0/5"}',
      startedAt: 1001,
      finishedAt: null,
      updatedAt: 1002,
    });

    reopened.completeSnapshot('pg', 'public.orders', { rows: 250, lastKey: '[250,"z"]' });
    clock.set(2001);
    reopened.completeSnapshot('pg', 'public.empty', { rows: 0, position: '{"lsn":"0/5"}' });
    assert.deepEqual(reopened.listSnapshots('pg'), [
      {
        table: 'public.empty',
        status: 'done',
        lastKey: null,
        rows: 0,
        position: '{"lsn":"0/5"}',
        startedAt: 2001,
        finishedAt: 2001,
        updatedAt: 2001,
      },
      {
        table: 'public.orders',
        status: 'done',
        lastKey: '[250,"z"]',
        rows: 250,
        position: '{"lsn":"0/5"}',
        startedAt: 1001,
        finishedAt: 2000,
        updatedAt: 2000,
      },
    ]);

    clock.set(3000);
    reopened.saveSnapshotProgress('pg', 'public.orders', { lastKey: null, rows: 0, position: '{"lsn":"0/9"}' });
    assert.deepEqual(
      reopened.getSnapshot('pg', 'public.orders'),
      { status: 'running', lastKey: null, rows: 0, position: '{"lsn":"0/9"}', startedAt: 3000, finishedAt: null, updatedAt: 3000 },
      'progress after completion starts a new run',
    );

    reopened.saveSnapshotProgress('other', 'public.orders', { lastKey: null, rows: 0, position: null });
    assert.equal(reopened.resetSnapshot('pg', 'public.empty'), 1);
    assert.deepEqual(
      reopened.listSnapshots('pg').map((s) => s.table),
      ['public.orders'],
    );
    assert.equal(reopened.resetSnapshot('pg'), 1);
    assert.deepEqual(reopened.listSnapshots('pg'), []);
    assert.equal(reopened.getSnapshot('other', 'public.orders')?.status, 'running', 'other sources are untouched');
    reopened.close();
  });
});

describe('checkpoint store: table schema history', () => {
  it('appends versions only when the schema changes', () => {
    const path = freshPath();
    const clock = manualClock();
    const store = CheckpointStore.open(path, { clock: clock.read });
    assert.equal(store.getLatestTableSchema('pg', 'public.t'), undefined);
    assert.deepEqual(store.listTableSchemas('pg', 'public.t'), []);
    assert.equal(store.saveTableSchema('pg', 'public.t', '{"columns":["id"]}', 'P1'), 1);
    clock.set(1001);
    assert.equal(store.saveTableSchema('pg', 'public.t', '{"columns":["id"]}', 'P2'), 1, 'identical: no new version');
    assert.equal(store.saveTableSchema('pg', 'public.t', '{"columns":["id","name"]}', 'P3'), 2);
    assert.equal(store.saveTableSchema('pg', 'public.u', '{"columns":["id"]}', 'P3'), 1, 'versions are per table');
    assert.equal(store.saveTableSchema('my', 'public.t', '{"columns":["id"]}', 'P3'), 1, 'and per source');
    store.close();

    const reopened = CheckpointStore.open(path);
    assert.deepEqual(reopened.listTableSchemas('pg', 'public.t'), [
      { version: 1, schemaJson: '{"columns":["id"]}', position: 'P1', recordedAt: 1000 },
      { version: 2, schemaJson: '{"columns":["id","name"]}', position: 'P3', recordedAt: 1001 },
    ]);
    assert.deepEqual(reopened.getLatestTableSchema('pg', 'public.t'), {
      version: 2,
      schemaJson: '{"columns":["id","name"]}',
      position: 'P3',
      recordedAt: 1001,
    });
    assert.equal(
      reopened.saveTableSchema('pg', 'public.t', '{"columns":["id"]}', 'P4'),
      3,
      'a schema changed back is a new version',
    );
    reopened.close();
  });
});
