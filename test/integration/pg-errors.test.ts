import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceError } from '../../src/model/errors.js';
import { admin, PG, sourceOptions, sql, startSource, streaming, uniqueName } from '../support/postgres.js';

function assertSourceError(error: unknown, pattern: RegExp, fix: RegExp): true {
  assert.ok(error instanceof SourceError, `expected a SourceError, got ${String(error)}`);
  assert.match(error.message, pattern);
  assert.match(error.fix ?? '', fix);
  return true;
}

test('a missing table is named, with the fix', async () => {
  const source = startSource(sourceOptions({ tables: [{ name: 'public.no_such_table_xyz' }] }));
  try {
    await assert.rejects(source.reader.next(), (error) => assertSourceError(error, /"public\.no_such_table_xyz" does not exist/, /remove/));
  } finally {
    await source.cleanup();
  }
});

test('an unknown column in the column selection is named', async () => {
  const table = uniqueName('t');
  await sql(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
  const source = startSource(sourceOptions({ tables: [{ name: table, columns: { include: ['id', 'nope'] } }] }));
  try {
    await assert.rejects(source.reader.next(), (error) => assertSourceError(error, /column "nope" named in columns\.include/, /columns\.include/));
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE ${table}`);
  }
});

test('a column type without mapping names table, column and type', async () => {
  const table = uniqueName('t');
  await sql(`CREATE TABLE ${table} (id int PRIMARY KEY, p point)`, `INSERT INTO ${table} VALUES (1, '(1,2)')`);
  const source = startSource(sourceOptions({ tables: [{ name: table }] }));
  try {
    await assert.rejects(source.reader.next(), (error) =>
      assertSourceError(error, new RegExp(`column "p" of table "public\\.${table}" has type point`), /exclude: \["p"\]/),
    );
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE ${table}`);
  }
});

test('a role without REPLICATION is told so', async () => {
  const role = uniqueName('norepl');
  const table = uniqueName('t');
  await sql(`CREATE ROLE ${role} LOGIN`, `CREATE TABLE ${table} (id int PRIMARY KEY)`);
  const source = startSource(sourceOptions({ tables: [{ name: table }], connection: { ...PG, user: role } }));
  try {
    await assert.rejects(source.reader.next(), (error) => assertSourceError(error, new RegExp(`role "${role}".*REPLICATION`), /WITH REPLICATION/));
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE ${table}`, `DROP ROLE ${role}`);
  }
});

test('a slot in use by another process is reported with its pid', async () => {
  const table = uniqueName('t');
  await sql(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
  const first = startSource(sourceOptions({ tables: [{ name: table }], snapshot: 'never' }));
  const second = startSource(sourceOptions({ tables: [{ name: table }], snapshot: 'never', slot: first.slot, publication: first.publication }));
  try {
    await streaming(first);
    const client = await admin();
    const pid = (await client.query<{ active_pid: number }>('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [first.slot])).rows[0]!.active_pid;
    await client.end();
    await assert.rejects(second.reader.next(), (error) => assertSourceError(error, new RegExp(`"${first.slot}" is in use by another process \\(pid ${pid}\\)`), /pg_terminate_backend/));
  } finally {
    await second.source.close();
    await first.cleanup();
    await sql(`DROP TABLE ${table}`);
  }
});

test('a publication owned by someone else is not altered', async () => {
  const owner = uniqueName('owner');
  const user = uniqueName('repl');
  const [table, other] = [uniqueName('t'), uniqueName('o')];
  const publication = uniqueName('pub');
  await sql(
    `CREATE ROLE ${owner}`,
    `CREATE ROLE ${user} LOGIN REPLICATION`,
    `CREATE TABLE ${table} (id int PRIMARY KEY)`,
    `CREATE TABLE ${other} (id int PRIMARY KEY)`,
    `GRANT SELECT ON ${table} TO ${user}`,
    `CREATE PUBLICATION ${publication} FOR TABLE ${other}`,
    `ALTER TABLE ${other} OWNER TO ${owner}`,
    `ALTER PUBLICATION ${publication} OWNER TO ${owner}`,
  );
  const source = startSource(sourceOptions({ tables: [{ name: table }], publication, connection: { ...PG, user } }));
  try {
    await assert.rejects(source.reader.next(), (error) =>
      assertSourceError(error, new RegExp(`publication "${publication}" is owned by "${owner}", not by "${user}"`), /OWNER TO/),
    );
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE ${table}, ${other}`, `DROP ROLE ${owner}`, `DROP ROLE ${user}`);
  }
});

test('an existing publication is altered to publish exactly the configured tables and columns', async () => {
  const [table, other] = [uniqueName('t'), uniqueName('o')];
  const publication = uniqueName('pub');
  await sql(`CREATE TABLE ${table} (id int PRIMARY KEY, a text, secret text)`, `CREATE TABLE ${other} (id int PRIMARY KEY)`, `CREATE PUBLICATION ${publication} FOR TABLE ${other}`);
  const source = startSource(sourceOptions({ tables: [{ name: table, columns: { exclude: ['secret'] } }], publication, snapshot: 'never' }));
  try {
    await streaming(source);
    const client = await admin();
    const published = await client.query('SELECT tablename, attnames::text[] AS attnames FROM pg_publication_tables WHERE pubname = $1', [publication]);
    await client.end();
    assert.deepEqual(published.rows, [{ tablename: table, attnames: ['id', 'a'] }]);
  } finally {
    await source.cleanup();
    await sql(`DROP TABLE ${table}, ${other}`);
  }
});
