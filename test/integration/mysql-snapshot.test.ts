import { test } from 'node:test';
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import type { SourceEvent } from '../../src/model/change.js';
import { compareCoordinates, parseCheckpoint } from '../../src/sources/mysql/position.js';
import { MemorySnapshotProgressStore } from '../../src/sources/source.js';
import { adminConnection, EventCollector, mysqlSource, uniqueName } from '../support/mysql.js';

async function masterPosition(admin: mysql.Connection): Promise<{ file: string; pos: number }> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
  return { file: String(rows[0]!.File), pos: Number(rows[0]!.Position) };
}

/** Whether some event's checkpoint is at or past `target` (the stream has read everything up to it). */
function reached(events: SourceEvent[], target: { file: string; pos: number }): boolean {
  return events.some((e) => {
    const p = parseCheckpoint(e.position);
    return p.snapshot !== true && p.skip === 0 && compareCoordinates(p, target) >= 0;
  });
}

test('snapshot with concurrent writes, then streaming, reproduces the table exactly', async () => {
  const admin = await adminConnection();
  const table = uniqueName('snap');
  await admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, v INT NOT NULL)`);
  const initial = Array.from({ length: 300 }, (_, i) => `(${i + 1}, ${i})`).join(',');
  await admin.query(`INSERT INTO ${table} VALUES ${initial}`);
  const progress = new MemorySnapshotProgressStore();
  const source = mysqlSource({ name: 'snap-source', tables: [{ name: `test.${table}` }], snapshot: 'initial', snapshotChunkRows: 3, progress });
  const collector = new EventCollector(source);
  try {
    await collector.until(() => collector.changes().length > 0);
    // Writes racing the snapshot: updates, deletes and inserts on both sides of the snapshot's progress.
    for (let i = 0; i < 60; i++) {
      const id = 1 + ((i * 37) % 300);
      if (i % 3 === 0) await admin.query(`UPDATE ${table} SET v = v + 1000 WHERE id = ?`, [id]);
      else if (i % 3 === 1) await admin.query(`DELETE FROM ${table} WHERE id = ?`, [id]);
      else await admin.query(`INSERT INTO ${table} VALUES (?, ?)`, [1000 + i, i]);
    }
    const end = await masterPosition(admin);
    await collector.until((events) => reached(events, end), 30_000);

    const snapshotRows = collector.changes().filter((e) => e.op === 'r');
    // The snapshot sees the table as it was when it began, whatever the writers did while it was being read.
    assert.deepEqual(
      snapshotRows.map((e) => [e.after!.id, e.after!.v]),
      Array.from({ length: 300 }, (_, i) => [i + 1, i]),
    );
    assert.equal(snapshotRows.at(-1)!.source.snapshot, 'last');
    assert.ok(snapshotRows.slice(0, -1).every((e) => e.source.snapshot === 'true'));
    assert.equal(parseCheckpoint(snapshotRows[0]!.position).snapshot, true);
    assert.equal(parseCheckpoint(snapshotRows.at(-1)!.position).snapshot, undefined);

    const replica = new Map<number, unknown>();
    for (const e of collector.changes()) {
      if (e.op === 'd') replica.delete(e.before!.id as number);
      else replica.set(e.after!.id as number, e.after!.v);
    }
    const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT id, v FROM ${table} ORDER BY id`);
    assert.deepEqual(
      [...replica].sort((a, b) => a[0] - b[0]),
      rows.map((r) => [r.id, r.v]),
    );
    // No duplicate: every streamed change applies to a state the snapshot or earlier changes produced.
    const streamed = collector.changes().filter((e) => e.op !== 'r');
    assert.equal(streamed.length, 60);

    // Progress: every table done; the snapshot completes once its last row is confirmed downstream.
    const tableProgress = await progress.getTable('snap-source', `test.${table}`);
    assert.deepEqual(tableProgress, { lastKey: null, rows: snapshotRows.length, done: true });
    assert.equal((await progress.getSnapshot('snap-source'))?.completed, false);
    await source.confirm(snapshotRows[0]!.position);
    assert.equal((await progress.getSnapshot('snap-source'))?.completed, false);
    await source.confirm(snapshotRows.at(-1)!.position);
    const state = await progress.getSnapshot('snap-source');
    assert.equal(state?.completed, true);
    assert.equal(state?.consistentPoint, snapshotRows.at(-1)!.position);
  } finally {
    await collector.stop();
    await source.close();
    await admin.query(`DROP TABLE ${table}`);
    await admin.end();
  }
});

test('initial_only ends after the snapshot; an empty table yields a heartbeat at the stream position', async () => {
  const admin = await adminConnection();
  const table = uniqueName('empty');
  await admin.query(`CREATE TABLE ${table} (id INT PRIMARY KEY)`);
  const source = mysqlSource({ tables: [{ name: `test.${table}` }], snapshot: 'initial_only' });
  const events: SourceEvent[] = [];
  try {
    for await (const e of source.events(new AbortController().signal)) events.push(e);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'heartbeat');
    assert.equal(parseCheckpoint(events[0]!.position).snapshot, undefined);
  } finally {
    await source.close();
    await admin.query(`DROP TABLE ${table}`);
    await admin.end();
  }
});
