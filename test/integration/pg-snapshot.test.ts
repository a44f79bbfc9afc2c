import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeEvent, Row, SourceEvent } from '../../src/model/change.js';
import { MemorySnapshotProgressStore } from '../../src/sources/source.js';
import { admin, changes, dropSlotAndPublication, sourceOptions, sql, startSource, uniqueName, waitFor } from '../support/postgres.js';

function applyTo(state: Map<number, Row>, event: ChangeEvent): void {
  if (event.op === 'd') state.delete(event.before!.id as number);
  else {
    if (event.op === 'u' && event.before !== null) state.delete(event.before.id as number);
    state.set(event.after!.id as number, event.after!);
  }
}

async function tableRows(table: string): Promise<Map<number, Row>> {
  const client = await admin();
  try {
    const result = await client.query<{ id: number; v: number }>(`SELECT id, v FROM ${table} ORDER BY id`);
    return new Map(result.rows.map((row) => [row.id, { id: row.id, v: row.v }]));
  } finally {
    await client.end();
  }
}

test('snapshot plus concurrent writes: every row once, then the stream, no gap and no duplicate', async () => {
  const table = uniqueName('t');
  await sql(`CREATE TABLE ${table} (id int PRIMARY KEY, v int NOT NULL)`, `INSERT INTO ${table} SELECT g, g FROM generate_series(1, 50) g`);
  const source = startSource(sourceOptions({ tables: [{ name: table }], snapshotChunkRows: 7 }));
  try {
    const first = (await source.reader.next()) as ChangeEvent;
    assert.equal(first.op, 'r');
    // Writes while the snapshot is being read: none may appear in it, all must stream after it.
    await sql(
      `INSERT INTO ${table} SELECT g, g FROM generate_series(51, 80) g`,
      `UPDATE ${table} SET v = v + 1000 WHERE id <= 10`,
      `DELETE FROM ${table} WHERE id BETWEEN 11 AND 15`,
      `UPDATE ${table} SET v = v + 1 WHERE id = 60`,
    );
    const snapshot: ChangeEvent[] = [first];
    for (;;) {
      const event = await source.reader.next();
      if (event.type !== 'change') continue;
      snapshot.push(event);
      if (event.source.snapshot === 'last') break;
    }
    assert.deepEqual(snapshot.map((event) => event.after!.id), Array.from({ length: 50 }, (_, i) => i + 1), 'snapshot is the state at the consistent point');
    assert.ok(snapshot.slice(0, -1).every((event) => event.op === 'r' && event.source.snapshot === 'true'));
    assert.equal(snapshot.at(-1)!.source.snapshot, 'last');
    assert.ok(snapshot.every((event) => event.after!.v === event.after!.id), 'no concurrent update leaked into the snapshot');
    const streamed = changes(await source.reader.take(30 + 10 + 5 + 1));
    assert.deepEqual(streamed.map((event) => event.op).join(''), 'c'.repeat(30) + 'u'.repeat(10) + 'd'.repeat(5) + 'u');
    const state = new Map<number, Row>();
    for (const event of [...snapshot, ...streamed]) applyTo(state, event);
    assert.deepEqual(state, await tableRows(table));
    const progress = await source.progress.getTable('pgtest', `public.${table}`);
    assert.deepEqual(progress, { lastKey: null, rows: 50, done: true });
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE ${table}`);
  }
});

test('several tables: the last row of the last non-empty table is marked last; tables without a key page by ctid', async () => {
  const [a, b, c] = [uniqueName('ta'), uniqueName('tb'), uniqueName('tc')];
  await sql(
    `CREATE TABLE ${a} (id int PRIMARY KEY, v int)`,
    `CREATE TABLE ${b} (v int, w text)`,
    `CREATE TABLE ${c} (id int PRIMARY KEY)`,
    `INSERT INTO ${a} SELECT g, g FROM generate_series(1, 4) g`,
    `INSERT INTO ${b} SELECT g, 'w' || g FROM generate_series(1, 10) g`,
  );
  const source = startSource(sourceOptions({ tables: [{ name: a }, { name: b }, { name: c }], snapshotChunkRows: 3 }));
  try {
    const rows = changes(await source.reader.take(14));
    assert.deepEqual(rows.map((event) => event.source.table), [...Array(4).fill(a), ...Array(10).fill(b)]);
    assert.deepEqual(rows.map((event) => event.source.snapshot), [...Array(13).fill('true'), 'last']);
    assert.deepEqual(new Set(rows.slice(4).map((event) => event.after!.v)), new Set(Array.from({ length: 10 }, (_, i) => i + 1)));
    assert.deepEqual(rows[4]!.schema.key, []);
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE ${a}, ${b}, ${c}`);
  }
});

test('initial_only: snapshot, then the iterator ends and the slot is gone', async () => {
  const table = uniqueName('t');
  await sql(`CREATE TABLE ${table} (id int PRIMARY KEY)`, `INSERT INTO ${table} VALUES (1), (2)`);
  const options = sourceOptions({ tables: [{ name: table }], snapshot: 'initial_only' });
  const source = startSource(options);
  try {
    const rows = changes(await source.reader.take(2));
    assert.deepEqual(rows.map((event) => event.after), [{ id: 1 }, { id: 2 }]);
    await assert.rejects(source.reader.next(), /source ended/);
    const client = await admin();
    const slots = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [options.slot]);
    await client.end();
    assert.equal(slots.rowCount, 0);
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE ${table}`);
  }
});

test('an interrupted snapshot is redone from scratch; a confirmed one is not', async () => {
  const table = uniqueName('t');
  await sql(`CREATE TABLE ${table} (id int PRIMARY KEY)`, `INSERT INTO ${table} SELECT generate_series(1, 10)`);
  const progress = new MemorySnapshotProgressStore();
  const base = sourceOptions({ tables: [{ name: table }], snapshotChunkRows: 2, progress });
  try {
    const interrupted = startSource(base);
    await interrupted.reader.take(3);
    interrupted.abort.abort();
    await interrupted.source.close();
    assert.equal((await progress.getSnapshot('pgtest'))?.completed, false);

    const redo = startSource(base);
    const rows = changes(await redo.reader.take(10));
    assert.deepEqual(rows.map((event) => event.after!.id), Array.from({ length: 10 }, (_, i) => i + 1));
    await redo.source.confirm(rows.at(-1)!.position);
    assert.equal((await progress.getSnapshot('pgtest'))?.completed, true);
    await sql(`INSERT INTO ${table} VALUES (11)`);
    const [streamed] = changes(await redo.reader.take(1));
    assert.equal(streamed!.after!.id, 11);
    await redo.source.confirm(streamed!.position);
    redo.abort.abort();
    await redo.source.close();

    await sql(`INSERT INTO ${table} VALUES (12)`);
    const resumed = startSource({ ...base, startPosition: streamed!.position });
    const events: SourceEvent[] = changes(await resumed.reader.take(1));
    assert.deepEqual(events.map((event) => (event as ChangeEvent).after), [{ id: 12 }], 'no snapshot and no replay of id 11');
    resumed.abort.abort();
    await resumed.source.close();
  } finally {
    await dropSlotAndPublication(base.slot, base.publication);
    await sql(`DROP TABLE ${table}`);
  }
});

test('resuming from a change inside a transaction skips what was delivered and keeps the rest', async () => {
  const table = uniqueName('t');
  await sql(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
  const base = sourceOptions({ tables: [{ name: table }], snapshot: 'never' });
  try {
    const first = startSource(base);
    first.reader.prime();
    const client = await admin();
    await waitFor(async () => (await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [base.slot])).rowCount === 1, 'slot');
    await client.end();
    await sql('BEGIN', `INSERT INTO ${table} VALUES (1), (2), (3)`, 'COMMIT', `INSERT INTO ${table} VALUES (4)`);
    const rows = changes(await first.reader.take(4));
    first.abort.abort();
    await first.source.close();

    const resumed = startSource({ ...base, startPosition: rows[1]!.position });
    const again = changes(await resumed.reader.take(2));
    assert.deepEqual(again.map((event) => event.after!.id), [3, 4]);
    resumed.abort.abort();
    await resumed.source.close();
  } finally {
    await dropSlotAndPublication(base.slot, base.publication);
    await sql(`DROP TABLE ${table}`);
  }
});

test('a slot that vanished after a completed snapshot is an error, not a silent gap', async () => {
  const table = uniqueName('t');
  await sql(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
  const progress = new MemorySnapshotProgressStore();
  await progress.saveSnapshot('pgtest', { consistentPoint: '0/1', completed: true });
  const source = startSource(sourceOptions({ tables: [{ name: table }], progress }));
  try {
    await assert.rejects(source.reader.next(), (error: Error & { fix?: string }) => {
      assert.match(error.message, /disappeared after its snapshot was taken/);
      assert.match(error.fix ?? '', /reset/);
      return true;
    });
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE ${table}`);
  }
});
