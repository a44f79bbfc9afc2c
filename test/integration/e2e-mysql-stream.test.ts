/**
 * MariaDB → Kafka through `tributary run`: snapshot and stream under concurrent writes, ALTER TABLE mid-stream,
 * transaction metadata, and bad input. Everything read back by the independent consumer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readDecoded, type DecodedRecord } from '../support/debezium-consumer.js';
import { readTopic } from '../support/kafka.js';
import { adminConnection, uniqueName } from '../support/mysql.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

const serverId = (): number => 10_000 + Math.floor(Math.random() * 50_000);

function mysqlConfig(name: string, tables: string[], options: Record<string, unknown> = {}): string {
  return writeDaemonConfig(
    [{ name, kind: 'mysql', connection: { user: 'root' }, serverId: serverId(), tables: tables.map((t) => ({ name: `test.${t}` })), ...options }],
    registry.url,
  );
}

type Row = Record<string, unknown>;

/** The `id` of a Confluent-framed Avro key {id: int}: a zig-zag varint after the 5-byte header. */
export function rawKeyId(key: Buffer | null): number | null {
  if (key === null) return null;
  let n = 0;
  let shift = 0;
  for (let i = 5; i < key.length; i++, shift += 7) {
    n += (key[i]! & 0x7f) * 2 ** shift;
    if ((key[i]! & 0x80) === 0) break;
  }
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

/**
 * Applies change events to a table image, failing on any event that does not follow from the image: an insert of
 * an existing key, an update or delete whose `before` differs from the image. A gap or a duplicate shows here.
 */
function rebuild(records: readonly DecodedRecord[], key: string): Map<unknown, Row> {
  const image = new Map<unknown, Row>();
  for (const [i, record] of records.entries()) {
    const event = record.value;
    if (event === null) continue; // tombstone
    const id = (event.after ?? event.before)![key];
    const where = `record ${i} (${event.op} ${String(id)})`;
    switch (event.op) {
      case 'r':
      case 'c':
        assert.ok(!image.has(id), `${where}: the row already exists`);
        image.set(id, event.after!);
        break;
      case 'u':
        assert.deepEqual(event.before, image.get(id), `${where}: before does not match the table image`);
        image.set(id, event.after!);
        break;
      case 'd':
        assert.deepEqual(event.before, image.get(id), `${where}: before does not match the table image`);
        image.delete(id);
        break;
      default:
        assert.fail(`${where}: unexpected op`);
    }
  }
  return image;
}

test('snapshot and stream under concurrent writes rebuild the table exactly', async () => {
  const mysql = await adminConnection();
  const writer = await adminConnection();
  const name = uniqueName('e2e_my_conc');
  const table = name;
  await mysql.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(40))`);
  const initialRows = 10_000;
  const values = Array.from({ length: initialRows }, (_, i) => `(${i + 1}, 0, 'seed')`);
  await mysql.query(`INSERT INTO ${table} VALUES ${values.join(',')}`);
  const config = writeDaemonConfig(
    [{ name, kind: 'mysql', connection: { user: 'root' }, serverId: serverId(), snapshotChunkRows: 200, tables: [{ name: `test.${table}` }] }],
    registry.url,
  );
  let writing = true;
  let writes = 0;
  let writesAtStreaming = -1;
  // Random inserts, updates and deletes in small transactions, from before the daemon starts until well after
  // it streams, so some land during the snapshot.
  const load = (async () => {
    let nextId = initialRows + 1;
    while (writing || writes < writesAtStreaming + 300 || writesAtStreaming < 0) {
      const id = 1 + Math.floor(Math.random() * (nextId - 1));
      await writer.query('BEGIN');
      await writer.query(`UPDATE ${table} SET v = v + 1, note = ? WHERE id = ?`, [`w${writes}`, id]);
      await writer.query(`INSERT INTO ${table} VALUES (?, 0, 'new')`, [nextId++]);
      if (writes % 3 === 0) await writer.query(`DELETE FROM ${table} WHERE id = ?`, [1 + Math.floor(Math.random() * (nextId - 1))]);
      await writer.query('COMMIT');
      writes++;
    }
  })();
  const daemon = new Daemon(config);
  try {
    await daemon.waitForLog(/snapshot started/);
    const writesAtSnapshot = writes;
    await daemon.waitForLog(/streaming the binlog/);
    writesAtStreaming = writes;
    assert.ok(writesAtStreaming > writesAtSnapshot, 'writes committed while the snapshot was read');
    writing = false;
    await load;
    await mysql.query(`INSERT INTO ${table} VALUES (0, -1, 'last')`);
    const [rows] = await mysql.query(`SELECT id, v, note FROM ${table} ORDER BY id`);
    const expected = new Map((rows as Row[]).map((r) => [r.id, { id: r.id, v: r.v, note: r.note }]));
    const records = await readDecoded(registry.url, `${name}.test.${table}`, (r) => rawKeyId(r[r.length - 1]?.key ?? null) === 0, 90_000);
    assert.ok(records.every((r) => r.partition === 0), 'one partition: the topic order is the change order');
    const snapshotted = records.filter((r) => r.value?.op === 'r').length;
    console.log(`concurrent: ${writes} write transactions (${writesAtStreaming} before streaming), ${snapshotted} snapshot rows, ${records.length} records`);
    assert.deepEqual(rebuild(records, 'id'), expected);
    assert.equal(await daemon.stop(), 0);
  } finally {
    writing = false;
    writesAtStreaming = Math.max(writesAtStreaming, 0);
    await load.catch(() => undefined);
    if (daemon.running) daemon.kill('SIGKILL');
    await mysql.query(`DROP TABLE ${table}`);
    await Promise.all([mysql.end(), writer.end()]);
  }
});

test('ALTER TABLE add, drop, retype and make nullable mid-stream loses nothing and registers new schema versions', async () => {
  const mysql = await adminConnection();
  const writer = await adminConnection();
  const name = uniqueName('e2e_my_alter');
  const table = name;
  const topic = `${name}.test.${table}`;
  await mysql.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, a INT NOT NULL, b VARCHAR(20))`);
  await mysql.query(`INSERT INTO ${table} VALUES (1, 1, 'snap')`);
  const daemon = new Daemon(mysqlConfig(name, [table]));
  let writing = true;
  let nextId = 1000;
  // Inserts into the column every version keeps, racing the ALTERs.
  const load = (async () => {
    while (writing) {
      const id = nextId++;
      await writer.query(`INSERT INTO ${table} (id, a) VALUES (?, ?)`, [id, id]);
    }
  })();
  try {
    await daemon.waitForLog(/streaming the binlog/);
    await mysql.query(`INSERT INTO ${table} VALUES (2, 2, 'v1')`);
    await mysql.query(`ALTER TABLE ${table} ADD COLUMN c DECIMAL(6,2) DEFAULT 7.5`);
    await mysql.query(`INSERT INTO ${table} (id, a, b, c) VALUES (3, 3, 'v2', 1.25)`);
    await mysql.query(`UPDATE ${table} SET b = 'v2-upd' WHERE id = 2`);
    await mysql.query(`ALTER TABLE ${table} DROP COLUMN b`);
    await mysql.query(`INSERT INTO ${table} (id, a, c) VALUES (4, 4, 2.5)`);
    await mysql.query(`ALTER TABLE ${table} MODIFY COLUMN a BIGINT NOT NULL`);
    await mysql.query(`INSERT INTO ${table} (id, a, c) VALUES (5, 9007199254740993, 3.75)`);
    await mysql.query(`UPDATE ${table} SET a = -9223372036854775808 WHERE id = 4`);
    // Once the daemon has read the BIGINT NOT NULL version, only the nullability changes: the table map looks
    // the same, the schema must not.
    let scanned = 0;
    let id4 = 0;
    await readTopic(topic, {
      timeoutMs: 30_000,
      until: (r) => {
        for (; scanned < r.length; scanned++) if (rawKeyId(r[scanned]!.key) === 4) id4++;
        return id4 === 2;
      },
    });
    await mysql.query(`ALTER TABLE ${table} MODIFY COLUMN a BIGINT NULL`);
    await mysql.query(`INSERT INTO ${table} (id, a, c) VALUES (6, NULL, 0.01)`);
    writing = false;
    await load;
    await mysql.query(`INSERT INTO ${table} (id, a) VALUES (0, 0)`);
    const records = await readDecoded(registry.url, topic, (r) => rawKeyId(r[r.length - 1]?.key ?? null) === 0, 20_000);
    // DECIMAL(6,2) as Connect's Decimal: the unscaled value in the fewest big-endian two's complement bytes
    const decimal = (cents: number): Buffer => {
      let hex = cents.toString(16);
      if (hex.length % 2 === 1) hex = `0${hex}`;
      if (Number.parseInt(hex[0]!, 16) >= 8) hex = `00${hex}`;
      return Buffer.from(hex, 'hex');
    };
    const byId = (id: number) => records.filter((r) => r.key?.id === id).map((r) => [r.value?.op, r.value?.before, r.value?.after]);
    assert.deepEqual(byId(1), [['r', null, { id: 1, a: 1, b: 'snap' }]]);
    assert.deepEqual(byId(2), [
      ['c', null, { id: 2, a: 2, b: 'v1' }],
      ['u', { id: 2, a: 2, b: 'v1', c: decimal(750) }, { id: 2, a: 2, b: 'v2-upd', c: decimal(750) }],
    ]);
    assert.deepEqual(byId(3), [['c', null, { id: 3, a: 3, b: 'v2', c: decimal(125) }]]);
    assert.deepEqual(byId(5), [['c', null, { id: 5, a: 9007199254740993n, c: decimal(375) }]]);
    assert.deepEqual(byId(4), [
      ['c', null, { id: 4, a: 4, c: decimal(250) }],
      ['u', { id: 4, a: 4n, c: decimal(250) }, { id: 4, a: -9223372036854775808n, c: decimal(250) }],
    ]);
    assert.deepEqual(byId(6), [['c', null, { id: 6, a: null, c: decimal(1) }]]);
    // Every racing insert arrived exactly once, whichever schema version it was written under.
    const raced = records.filter((r) => (r.key?.id as number) >= 1000);
    assert.deepEqual(raced.map((r) => r.key?.id), Array.from({ length: nextId - 1000 }, (_, i) => 1000 + i));
    for (const r of raced) assert.equal(BigInt(r.value!.after!.a as number), BigInt(r.key!.id as number));
    console.log(`alter: ${raced.length} inserts raced the four ALTERs`);
    const versions = (await (await fetch(`${registry.url}/subjects/${topic}-value/versions`)).json()) as number[];
    assert.equal(versions.length, 5, `value schema versions: ${JSON.stringify(versions)}`);
    assert.equal(await daemon.stop(), 0);
  } catch (error) {
    console.log(daemon.tail(20));
    throw error;
  } finally {
    writing = false;
    await load.catch(() => undefined);
    if (daemon.running) daemon.kill('SIGKILL');
    await mysql.query(`DROP TABLE ${table}`);
    await Promise.all([mysql.end(), writer.end()]);
  }
});

test('transactions: true emits BEGIN/END on <prefix>.transaction and a transaction block on each event', async () => {
  const mysql = await adminConnection();
  const name = uniqueName('e2e_my_tx');
  const [t1, t2] = [`${name}_a`, `${name}_b`];
  await mysql.query(`CREATE TABLE ${t1} (id INT PRIMARY KEY); CREATE TABLE ${t2} (id INT PRIMARY KEY)`);
  const daemon = new Daemon(mysqlConfig(name, [t1, t2], { transactions: true }));
  try {
    await daemon.waitForLog(/streaming the binlog/);
    await mysql.query(`BEGIN; INSERT INTO ${t1} VALUES (1), (2); INSERT INTO ${t2} VALUES (1); UPDATE ${t1} SET id = 3 WHERE id = 2; COMMIT`);
    await mysql.query(`INSERT INTO ${t2} VALUES (2)`);
    const [[gtidRow]] = (await mysql.query('SELECT @@gtid_binlog_pos AS pos')) as unknown as [[{ pos: string }]];
    const txs = await readDecoded<{ id: string }, Record<string, unknown>>(registry.url, `${name}.transaction`, (r) => r.length >= 4);
    const a = await readDecoded(registry.url, `${name}.test.${t1}`, (r) => r.length >= 5); // c, c, then the key update: d, tombstone, c
    const b = await readDecoded(registry.url, `${name}.test.${t2}`, (r) => r.length >= 2);
    const [begin1, end1, begin2, end2] = txs.map((r) => r.value!);
    const first = begin1!.id as string;
    assert.match(first, /^\d+-\d+-\d+$/, 'a MariaDB GTID as the transaction id');
    assert.deepEqual(txs.map((r) => [r.key!.id, r.value!.status]), [[first, 'BEGIN'], [first, 'END'], [begin2!.id, 'BEGIN'], [begin2!.id, 'END']]);
    assert.ok(gtidRow.pos.split(',').includes(String(end2!.id)), `${String(end2!.id)} is the last GTID ${gtidRow.pos}`);
    assert.equal(end1!.event_count, 5n);
    assert.deepEqual(end1!.data_collections, [
      { data_collection: `test.${t1}`, event_count: 4n },
      { data_collection: `test.${t2}`, event_count: 1n },
    ]);
    assert.equal(end2!.event_count, 1n);
    const events = [...a.filter((r) => r.value !== null), ...b.filter((r) => r.value !== null)].map((r) => r.value!);
    const firstTx = events.filter((e) => e.transaction?.id === first);
    assert.deepEqual(
      firstTx.map((e) => [e.op, e.source.table, e.transaction!.total_order, e.transaction!.data_collection_order]).sort((x, y) => Number(x[2]) - Number(y[2])),
      [['c', t1, 1n, 1n], ['c', t1, 2n, 2n], ['c', t2, 3n, 1n], ['d', t1, 4n, 3n], ['c', t1, 5n, 4n]],
    );
    assert.equal(events.find((e) => e.source.table === t2 && e.after?.id === 2)?.transaction?.id, begin2!.id);
    assert.equal(await daemon.stop(), 0);
  } finally {
    if (daemon.running) daemon.kill('SIGKILL');
    await mysql.query(`DROP TABLE ${t1}, ${t2}`);
    await mysql.end();
  }
});

test('bad input stops tributary run with an error that names the thing and the fix', { timeout: 60_000 }, async () => {
  const mysql = await adminConnection();
  const name = uniqueName('e2e_my_bad');
  await mysql.query(`CREATE TABLE ${name} (id INT PRIMARY KEY, note TEXT)`);
  const source = (extra: Record<string, unknown>, table: Record<string, unknown> = { name: `test.${name}` }) => ({
    name: uniqueName('e2e_my_bad'),
    kind: 'mysql',
    connection: { user: 'root' },
    serverId: serverId(),
    tables: [table],
    ...extra,
  });
  const cases: [what: string, source: unknown, message: RegExp, fix: RegExp][] = [
    ['missing table', source({}, { name: `test.${name}_missing` }), new RegExp(`table test\\.${name}_missing does not exist`), /fix: create the table/],
    ['missing column', source({}, { name: `test.${name}`, columns: { exclude: ['nope'] } }), new RegExp(`column nope listed for table test\\.${name}`), /fix: use one of: id, note/],
    ['wrong password', source({ connection: { user: 'root', password: 'not-the-password' } }), /login refused/, /fix: check connection\.user and connection\.password/],
  ];
  try {
    await Promise.all(
      cases.map(async ([what, config, message, fix]) => {
        const daemon = new Daemon(writeDaemonConfig([config], registry.url));
        try {
          const code = await daemon.exited;
          const output = daemon.logs.join('\n');
          assert.equal(code, 1, `${what}:\n${output}`);
          assert.match(output, message, what);
          assert.match(output, fix, what);
          assert.doesNotMatch(output, /streaming the binlog|snapshot started/, what);
        } finally {
          if (daemon.running) daemon.kill('SIGKILL');
        }
      }),
    );
  } finally {
    await mysql.query(`DROP TABLE ${name}`);
    await mysql.end();
  }
});
