/**
 * Column defaults from MariaDB's information_schema: constants reach the TableSchema as neutral values, computed
 * ones do not; and a column added NOT NULL DEFAULT mid-stream registers a compatible schema, so the daemon keeps
 * going.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTableSchema, readCatalogTable } from '../../src/sources/mysql/catalog.js';
import { buildValueSchema } from '../../src/avro/encoder.js';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { adminConnection, uniqueName } from '../support/mysql.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

test('constant column defaults reach the TableSchema; computed ones do not', async () => {
  const table = uniqueName('my_defaults');
  const mysql = await adminConnection();
  try {
    await mysql.query(`CREATE TABLE ${table} (
      id int AUTO_INCREMENT PRIMARY KEY, qty int NOT NULL DEFAULT 5, neg int DEFAULT -7, big bigint DEFAULT 9007199254740993,
      price decimal(5,2) DEFAULT 0.00, label varchar(10) DEFAULT 'it''s', word varchar(10) DEFAULT 'NULL',
      day date DEFAULT '2024-01-01', at datetime(3) DEFAULT '2024-01-01 10:00:00.123', kind enum('a','b') DEFAULT 'b',
      flags bit(3) DEFAULT b'101', stamped timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP, touched datetime DEFAULT current_timestamp(),
      uid varchar(36) DEFAULT uuid(), sum int DEFAULT (1 + 2), plain int, nulled varchar(5) DEFAULT NULL)`);
    const schema = buildTableSchema(await readCatalogTable(mysql, { database: 'test', table }), { name: `test.${table}` });
    const defaults = Object.fromEntries(schema.columns.map((column) => [column.name, column.defaultValue]));
    assert.deepEqual(defaults, {
      id: undefined,
      qty: 5,
      neg: -7,
      big: 9007199254740993n,
      price: '0.00',
      label: "it's",
      word: 'NULL',
      day: Date.UTC(2024, 0, 1) / 86_400_000,
      at: BigInt(Date.UTC(2024, 0, 1, 10, 0, 0, 123)) * 1000n,
      kind: 'b',
      flags: new Uint8Array([5]),
      stamped: '1970-01-01T00:00:00Z', // Debezium: CURRENT_TIMESTAMP on a NOT NULL TIMESTAMP is the epoch
      touched: undefined,
      uid: undefined,
      sum: undefined,
      plain: undefined,
      nulled: undefined,
    });
    // Every default the catalog produced is one the Avro layer can write into the registered schema.
    assert.doesNotThrow(() => buildValueSchema('t.test.defaults', schema, 'mysql'));
  } finally {
    await mysql.query(`DROP TABLE ${table}`);
    await mysql.end();
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
  const name = uniqueName('my_add_default');
  const table = name;
  const topic = `${name}.test.${table}`;
  const mysql = await adminConnection();
  await mysql.query(`CREATE TABLE ${table} (id int PRIMARY KEY, note varchar(20) DEFAULT 'n/a')`);
  await mysql.query(`INSERT INTO ${table} VALUES (1, 'snapshot')`);
  const config = writeDaemonConfig(
    [{ name, kind: 'mysql', connection: { user: 'root' }, serverId: 10_000 + Math.floor(Math.random() * 50_000), tables: [{ name: `test.${table}` }] }],
    registry.url,
  );
  const daemon = new Daemon(config);
  try {
    await daemon.waitForLog(/streaming the binlog/);
    await mysql.query(`INSERT INTO ${table} (id) VALUES (2)`);
    await mysql.query(`ALTER TABLE ${table} ADD COLUMN c int NOT NULL DEFAULT 5`);
    await mysql.query(`INSERT INTO ${table} (id) VALUES (3)`);
    await mysql.query(`INSERT INTO ${table} (id, note, c) VALUES (4, 'explicit', 9)`);
    await mysql.query(`UPDATE ${table} SET note = 'updated' WHERE id = 1`);
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
    await mysql.query(`DROP TABLE ${table}`);
    await mysql.end();
  }
});
