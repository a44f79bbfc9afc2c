import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UNAVAILABLE, type ChangeEvent, type PostgresSourceInfo, type TransactionEvent } from '../../src/model/change.js';
import { decodePosition } from '../../src/sources/postgres/position.js';
import { changes, sourceOptions, sql, startSource, streaming, uniqueName, type TestSource } from '../support/postgres.js';

async function withTable(
  columns: string,
  setup: string[],
  options: { truncate?: boolean; transactions?: boolean },
  body: (source: TestSource, table: string) => Promise<void>,
): Promise<void> {
  const table = uniqueName('t');
  await sql(`CREATE TABLE ${table} (${columns})`, ...setup.map((statement) => statement.replaceAll('$T', table)));
  const source = startSource(sourceOptions({ tables: [{ name: `public.${table}` }], snapshot: 'never', ...options }));
  try {
    await streaming(source);
    await body(source, table);
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE IF EXISTS ${table}`);
  }
}

test('insert, update and delete stream in commit order with transaction boundaries', async () => {
  await withTable('id int PRIMARY KEY, name text NOT NULL, qty int', [], {}, async (source, table) => {
    await sql(
      `INSERT INTO ${table} VALUES (1, 'a', 10)`,
      `BEGIN`,
      `INSERT INTO ${table} VALUES (2, 'b', 20)`,
      `UPDATE ${table} SET qty = 11 WHERE id = 1`,
      `COMMIT`,
      `DELETE FROM ${table} WHERE id = 2`,
      `UPDATE ${table} SET id = 3 WHERE id = 1`,
    );
    let seen = 0;
    const events = await source.reader.until((event) => (event.type === 'change' && ++seen === 5 ? false : event.type === 'end' && seen === 5));
    const rows = changes(events);
    assert.deepEqual(
      rows.map((event) => [event.op, event.before, event.after]),
      [
        ['c', null, { id: 1, name: 'a', qty: 10 }],
        ['c', null, { id: 2, name: 'b', qty: 20 }],
        ['u', null, { id: 1, name: 'a', qty: 11 }],
        ['d', { id: 2, name: null, qty: null }, null],
        ['u', { id: 1, name: null, qty: null }, { id: 3, name: 'a', qty: 11 }],
      ],
    );
    const kinds = events.filter((event) => event.type !== 'heartbeat').map((event) => (event.type === 'change' ? event.op : event.type));
    assert.deepEqual(kinds, ['begin', 'c', 'end', 'begin', 'c', 'u', 'end', 'begin', 'd', 'end', 'begin', 'u', 'end']);
    const pair = events.filter((event) => event.type !== 'heartbeat').slice(3, 7);
    const [begin, insert, update, end] = pair as [TransactionEvent, ChangeEvent, ChangeEvent, TransactionEvent];
    assert.deepEqual(end.counts, new Map([[`public.${table}`, 2]]));
    const [insertInfo, updateInfo] = [insert.source, update.source] as [PostgresSourceInfo, PostgresSourceInfo];
    // Debezium's id is `<xid>:<LSN last seen>`: BEGIN's is its first change's, END's the commit's end LSN.
    const xid = String(insertInfo.txId);
    assert.equal(begin.id, `${xid}:${insertInfo.lsn}`);
    assert.deepEqual(insert.transaction, { id: begin.id, scope: begin.scope, totalOrder: 1n, dataCollectionOrder: 1n });
    assert.deepEqual(update.transaction, { id: `${xid}:${updateInfo.lsn}`, scope: begin.scope, totalOrder: 2n, dataCollectionOrder: 2n });
    assert.equal(end.id, `${xid}:${decodePosition(end.position).lsn.toBigInt()}`);
    assert.equal(end.scope, begin.scope);
    assert.ok(insertInfo.tsUs !== undefined && Number(insertInfo.tsUs / 1000n) === insertInfo.tsMs, 'tsUs is the commit time in µs');
    assert.equal(insertInfo.connector, 'postgresql');
    assert.equal(insertInfo.txId, updateInfo.txId);
    assert.equal(insertInfo.snapshot, 'false');
    assert.equal(insertInfo.table, table);
    assert.ok(insertInfo.lsn !== null && updateInfo.lsn !== null && insertInfo.lsn < updateInfo.lsn);
    const sequence = JSON.parse(updateInfo.sequence!) as string[];
    assert.equal(sequence[1], String(updateInfo.lsn));
    assert.deepEqual(insert.schema.key, ['id']);
    assert.equal(insert.schema, update.schema, 'the same schema object while the table is unchanged');
    assert.ok(Math.abs(insert.source.tsMs - Date.now()) < 60_000);
  });
});

test('REPLICA IDENTITY FULL gives the whole old row', async () => {
  await withTable('id int PRIMARY KEY, name text, qty int', ['ALTER TABLE $T REPLICA IDENTITY FULL'], {}, async (source, table) => {
    await sql(`INSERT INTO ${table} VALUES (1, 'a', 10)`, `UPDATE ${table} SET qty = 11 WHERE id = 1`, `DELETE FROM ${table}`);
    const rows = changes(await source.reader.take(3));
    assert.deepEqual(rows[1]!.before, { id: 1, name: 'a', qty: 10 });
    assert.deepEqual(rows[1]!.after, { id: 1, name: 'a', qty: 11 });
    assert.deepEqual(rows[2]!.before, { id: 1, name: 'a', qty: 11 });
  });
});

test('an unchanged TOASTed column is UNAVAILABLE in the new row', async () => {
  await withTable('id int PRIMARY KEY, big text, qty int', ['ALTER TABLE $T ALTER COLUMN big SET STORAGE EXTERNAL'], {}, async (source, table) => {
    await sql(`INSERT INTO ${table} VALUES (1, repeat('x', 10000), 1)`, `UPDATE ${table} SET qty = 2 WHERE id = 1`);
    const rows = changes(await source.reader.take(2));
    assert.equal((rows[0]!.after!.big as string).length, 10000);
    assert.equal(rows[1]!.after!.big, UNAVAILABLE);
    assert.equal(rows[1]!.after!.qty, 2);
  });
});

test('with REPLICA IDENTITY FULL the unchanged TOASTed value is taken from the old row', async () => {
  await withTable(
    'id int PRIMARY KEY, big text, qty int',
    ['ALTER TABLE $T ALTER COLUMN big SET STORAGE EXTERNAL', 'ALTER TABLE $T REPLICA IDENTITY FULL'],
    {},
    async (source, table) => {
      await sql(`INSERT INTO ${table} VALUES (1, repeat('y', 10000), 1)`, `UPDATE ${table} SET qty = 2 WHERE id = 1`);
      const rows = changes(await source.reader.take(2));
      assert.equal(rows[1]!.after!.big, 'y'.repeat(10000));
    },
  );
});

test('truncate emits one t event per table when enabled', async () => {
  await withTable('id int PRIMARY KEY', [], { truncate: true }, async (source, table) => {
    await sql(`INSERT INTO ${table} VALUES (1)`, `TRUNCATE ${table}`, `INSERT INTO ${table} VALUES (2)`);
    const rows = changes(await source.reader.take(3));
    assert.deepEqual(rows.map((event) => [event.op, event.before, event.after]), [
      ['c', null, { id: 1 }],
      ['t', null, null],
      ['c', null, { id: 2 }],
    ]);
  });
});

test('truncate is skipped when disabled', async () => {
  await withTable('id int PRIMARY KEY', [], { truncate: false }, async (source, table) => {
    await sql(`INSERT INTO ${table} VALUES (1)`, `TRUNCATE ${table}`, `INSERT INTO ${table} VALUES (2)`);
    const rows = changes(await source.reader.take(2));
    assert.deepEqual(rows.map((event) => event.op), ['c', 'c']);
  });
});

test('ADD COLUMN and DROP COLUMN mid-stream give new schemas', async () => {
  await withTable('id int PRIMARY KEY, a text', [], {}, async (source, table) => {
    await sql(
      `INSERT INTO ${table} VALUES (1, 'x')`,
      `ALTER TABLE ${table} ADD COLUMN b numeric(6,3) NOT NULL DEFAULT 1.5`,
      `INSERT INTO ${table} VALUES (2, 'y', 2.25)`,
      `ALTER TABLE ${table} DROP COLUMN a`,
      `INSERT INTO ${table} VALUES (3, 3)`,
    );
    const rows = changes(await source.reader.take(3));
    assert.deepEqual(rows.map((event) => event.after), [{ id: 1, a: 'x' }, { id: 2, a: 'y', b: '2.250' }, { id: 3, b: '3.000' }]);
    assert.deepEqual(rows[1]!.schema.columns.map((column) => [column.name, column.type, column.nullable, column.sourceType]), [
      ['id', { kind: 'int32' }, false, 'integer'],
      ['a', { kind: 'string' }, true, 'text'],
      ['b', { kind: 'decimal', precision: 6, scale: 3 }, false, 'numeric(6,3)'],
    ]);
    assert.notEqual(rows[0]!.schema, rows[1]!.schema);
    assert.notEqual(rows[1]!.schema, rows[2]!.schema);
  });
});

test('column selection and a configured key shape the rows and the publication', async () => {
  const table = uniqueName('t');
  await sql(`CREATE TABLE ${table} (id int PRIMARY KEY, code text NOT NULL, secret text, note text)`);
  const source = startSource(
    sourceOptions({ tables: [{ name: table, columns: { exclude: ['secret'] }, key: ['code'] }], snapshot: 'never' }),
  );
  try {
    await streaming(source);
    await sql(`INSERT INTO ${table} VALUES (1, 'c1', 's', 'n')`);
    const [row] = changes(await source.reader.take(1));
    assert.deepEqual(row!.after, { id: 1, code: 'c1', note: 'n' });
    assert.deepEqual(row!.schema.key, ['code']);
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE ${table}`);
  }
});

test('transactions disabled: no begin/end, no transaction block, a heartbeat at each commit', async () => {
  await withTable('id int PRIMARY KEY', [], { transactions: false }, async (source, table) => {
    await sql(`INSERT INTO ${table} VALUES (1)`);
    const events = await source.reader.until((event) => event.type === 'change');
    const next = await source.reader.next();
    assert.ok(events.every((event) => event.type === 'change' || event.type === 'heartbeat'));
    assert.equal((events.at(-1) as ChangeEvent).transaction, null);
    assert.equal(next.type, 'heartbeat');
  });
});

test('excluding a column of a REPLICA IDENTITY FULL table filters it without breaking writes on the source', async () => {
  const table = uniqueName('t');
  await sql(`CREATE TABLE ${table} (id int PRIMARY KEY, secret text, v int)`, `ALTER TABLE ${table} REPLICA IDENTITY FULL`);
  const source = startSource(sourceOptions({ tables: [{ name: table, columns: { exclude: ['secret'] } }], snapshot: 'never' }));
  try {
    await streaming(source);
    await sql(`INSERT INTO ${table} VALUES (1, 's', 1)`, `UPDATE ${table} SET v = 2`, `DELETE FROM ${table}`);
    const rows = changes(await source.reader.take(3));
    assert.deepEqual(rows.map((event) => [event.op, event.before, event.after]), [
      ['c', null, { id: 1, v: 1 }],
      ['u', { id: 1, v: 1 }, { id: 1, v: 2 }],
      ['d', { id: 1, v: 2 }, null],
    ]);
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE ${table}`);
  }
});
