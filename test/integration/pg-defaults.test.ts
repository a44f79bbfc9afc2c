/**
 * Column defaults from the PostgreSQL catalog: constants reach the TableSchema as neutral values, computed ones do
 * not; and a column added NOT NULL DEFAULT mid-stream registers a compatible schema, so the daemon keeps going.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/ops/logger.js';
import { connect } from '../../src/sources/postgres/connection.js';
import { PgCatalog } from '../../src/sources/postgres/catalog.js';
import { buildValueSchema } from '../../src/avro/encoder.js';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { admin, dropSlotAndPublication, PG, uniqueName } from '../support/postgres.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

test('constant column defaults reach the TableSchema; computed ones do not', async () => {
  const name = uniqueName('pg_defaults');
  const pg = await admin();
  const client = await connect(PG, false, silentLogger());
  try {
    await pg.query(`CREATE TABLE ${name} (
      id serial PRIMARY KEY, qty int NOT NULL DEFAULT 5, neg int DEFAULT -7, big bigint DEFAULT 9007199254740993,
      price numeric(5,2) DEFAULT 0.00, label text DEFAULT 'it''s', flag boolean NOT NULL DEFAULT true,
      day date DEFAULT '2024-01-01', at timestamptz DEFAULT '2024-01-01 10:00:00+02', tags int[] DEFAULT '{}',
      bytes bytea DEFAULT '\\x0102', span interval DEFAULT '1 hour', bits bit(3) DEFAULT B'101', doc jsonb DEFAULT '{}',
      created timestamptz DEFAULT now(), uid uuid DEFAULT gen_random_uuid(), sum int DEFAULT (1 + 2), plain text,
      doubled int GENERATED ALWAYS AS (qty * 2) STORED)`);
    const catalog = new PgCatalog(client, 'test');
    const table = await catalog.resolveTable({ name: `public.${name}` });
    const { schema } = await catalog.tableCodec(table.schema, table.table, table.columns, table.key);
    const defaults = Object.fromEntries(schema.columns.map((column) => [column.name, column.defaultValue]));
    assert.deepEqual(defaults, {
      id: undefined, // nextval()
      qty: 5,
      neg: -7,
      big: 9007199254740993n,
      price: '0.00',
      label: "it's",
      flag: true,
      day: Date.UTC(2024, 0, 1) / 86_400_000,
      at: '2024-01-01T08:00:00.000000Z',
      tags: [],
      bytes: new Uint8Array([1, 2]),
      span: 3_600_000_000n,
      bits: new Uint8Array([5]),
      doc: '{}',
      created: undefined,
      uid: undefined,
      sum: undefined,
      plain: undefined,
      doubled: undefined, // a generated column's expression is no default
    });
    // Every default the catalog produced is one the Avro layer can write into the registered schema.
    assert.doesNotThrow(() => buildValueSchema('t.test.defaults', schema, 'postgresql'));
  } finally {
    await pg.query(`DROP TABLE ${name}`);
    await Promise.all([pg.end(), client.end()]);
  }
});

/** The registered Avro field `column` of the table's Value record, from the latest value schema of `topic`. */
async function registeredField(topic: string, column: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${registry.url}/subjects/${topic}-value/versions/latest`);
  assert.equal(response.status, 200);
  const envelope = JSON.parse(((await response.json()) as { schema: string }).schema) as { fields: { name: string; type: unknown }[] };
  const beforeType = envelope.fields.find((f) => f.name === 'before')!.type as unknown[]; // defines Value; after names it
  const value = beforeType.find((t) => typeof t === 'object') as { fields: Record<string, unknown>[] };
  const field = value.fields.find((f) => f.name === column);
  assert.ok(field !== undefined, `${column} is in the registered schema`);
  return field;
}

test('ADD COLUMN ... NOT NULL DEFAULT mid-stream registers a compatible schema and the daemon keeps streaming', async () => {
  const name = uniqueName('pg_add_default');
  const topic = `${name}.public.${name}`;
  const pg = await admin();
  await pg.query(`CREATE TABLE ${name} (id int PRIMARY KEY, note text DEFAULT 'n/a')`);
  await pg.query(`INSERT INTO ${name} VALUES (1, 'snapshot')`);
  const config = writeDaemonConfig(
    [{ name, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, tables: [{ name: `public.${name}` }] }],
    registry.url,
  );
  const daemon = new Daemon(config);
  try {
    await daemon.waitForLog(/streaming changes/);
    await pg.query(`INSERT INTO ${name} (id) VALUES (2)`);
    await pg.query(`ALTER TABLE ${name} ADD COLUMN c int NOT NULL DEFAULT 5`);
    await pg.query(`INSERT INTO ${name} (id) VALUES (3)`);
    await pg.query(`INSERT INTO ${name} (id, note, c) VALUES (4, 'explicit', 9)`);
    await pg.query(`UPDATE ${name} SET note = 'updated' WHERE id = 1`);
    const records = await readDecoded(registry.url, topic, (r) => r.length >= 5);
    assert.deepEqual(records.map((r) => [r.value?.op, r.value?.after]), [
      ['r', { id: 1, note: 'snapshot' }],
      ['c', { id: 2, note: 'n/a' }],
      ['c', { id: 3, note: 'n/a', c: 5 }],
      ['c', { id: 4, note: 'explicit', c: 9 }],
      ['u', { id: 1, note: 'updated', c: 5 }],
    ]);
    // Debezium's shape: the default on the field and in connect.default; an optional field's union puts its type first.
    const c = await registeredField(topic, 'c');
    assert.deepEqual([c.type, c.default], [{ type: 'int', 'connect.default': 5 }, 5]);
    const note = await registeredField(topic, 'note');
    assert.deepEqual([note.type, note.default], [[{ type: 'string', 'connect.default': 'n/a' }, 'null'], 'n/a']);
    assert.equal(daemon.running, true, `the daemon is still running:\n${daemon.tail()}`);
    assert.equal(await daemon.stop(), 0);
  } finally {
    if (daemon.running) daemon.kill('SIGKILL');
    await dropSlotAndPublication(`tributary_${name}`, `tributary_${name}`);
    await pg.query(`DROP TABLE ${name}`);
    await pg.end();
  }
});
