/**
 * `tributary replay --from lake` on PostgreSQL end to end: a type-rich table streamed by the daemon (snapshot,
 * then inserts, updates and deletes), compacted into the lake and replayed from it to a new topic. An
 * independent consumer finds the same table there as in the live topic, event for event the same as a replay
 * from the database gives (but for processing times and the position each was read at), under the live topic's
 * schemas.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { readDecoded } from '../support/debezium-consumer.js';
import { admin, dropSlotAndPublication, uniqueName } from '../support/postgres.js';
import { assertLiveSchemas, assertSameEvents, replayBoth, tableFromTopic, text } from '../support/replay-lake.js';

let registry: TestRegistry;
let lake: string;
before(async () => {
  registry = await startTestRegistry();
  lake = mkdtempSync(join(tmpdir(), 'tributary-replay-lake-'));
});
after(async () => {
  await registry.close();
  rmSync(lake, { recursive: true, force: true });
});

const ROWS = 20_000;

/** Column, type, and the value of row g (SQL over g); every column is null in row 0. */
const COLUMNS: [string, string, string][] = [
  ['c_num_ps', 'numeric(12,4)', `(g * 1.0001 - 5000)`],
  ['c_num', 'numeric', `CASE WHEN g % 7 = 0 THEN NULL ELSE g / 7.0 END`],
  ['c_money', 'money', `(g * 1.25 - 100)::numeric::money`],
  ['c_real', 'real', `g / 3.0`],
  ['c_double', 'double precision', `g * 1.1`],
  ['c_int2', 'smallint', `(g % 30000) - 15000`],
  ['c_int8', 'bigint', `g::bigint * 1000000007 * (CASE WHEN g % 2 = 0 THEN -1 ELSE 1 END)`],
  ['c_bool', 'boolean', `g % 2 = 0`],
  ['c_text', 'text', `'héllo ✓ ' || g`],
  ['c_char', 'char(5)', `'ab'`],
  ['c_bytea', 'bytea', `decode(md5(g::text), 'hex')`],
  ['c_date', 'date', `date '1969-12-25' + g`],
  ['c_time', 'time', `time '00:00:00' + g * interval '1.234567 second'`],
  ['c_time3', 'time(3)', `time '00:00:00' + g * interval '3.123 second'`],
  ['c_timetz', 'timetz', `(time '00:00:00' + g * interval '1.5 second')::timetz`],
  ['c_ts', 'timestamp', `timestamp '1969-12-31 12:00:00' + g * interval '1.000001 second'`],
  ['c_ts3', 'timestamp(3)', `timestamp '2024-01-01 00:00:00' + g * interval '1.001 second'`],
  ['c_tstz', 'timestamptz', `timestamptz '2024-01-01 00:00:00+05:30' + g * interval '1.5 second'`],
  ['c_tstz3', 'timestamptz(3)', `timestamptz '2024-07-01 00:00:00-07' + g * interval '0.12 second'`],
  ['c_tstz0', 'timestamptz(0)', `timestamptz '1960-01-01 00:00:00+00' + g * interval '1 day'`],
  ['c_interval', 'interval', `g * interval '1 mon 1 day 1.000001 second'`],
  ['c_uuid', 'uuid', `md5(g::text)::uuid`],
  ['c_json', 'json', `json_build_object('g', g, 'note', 'x  y')`],
  ['c_jsonb', 'jsonb', `jsonb_build_object('g', g, 'list', jsonb_build_array(1, 'a'))`],
  ['c_int_arr', 'int[]', `ARRAY[g, NULL, -g]`],
  ['c_text_arr', 'text[]', `ARRAY['a ' || g, NULL, 'c,d']`],
  ['c_num_arr', 'numeric[]', `ARRAY[g / 4.0, NULL]`],
  ['c_date_arr', 'date[]', `ARRAY[date '2024-01-01' + g]`],
  ['c_tstz_arr', 'timestamptz[]', `ARRAY[timestamptz '2024-01-01 00:00:00+00' + g * interval '0.5 second']`],
  ['c_enum', 'ENUM', `(ARRAY['sad', 'ok', 'happy'])[g % 3 + 1]`],
  ['c_bit', 'bit(16)', `(g % 65536)::bit(16)`],
  ['c_bit1', 'bit(1)', `(g % 2)::bit(1)`],
  ['c_varbit', 'varbit(20)', `(g % 1000)::bit(10)::varbit(20)`],
  ['c_xml', 'xml', `xmlelement(name a, g)`],
  ['c_inet', 'inet', `('10.0.' || (g % 256) || '.1/24')::inet`],
];

test('a PostgreSQL table streamed, compacted and replayed from the lake: the same table, the same events as from the database', async () => {
  const name = uniqueName('replay_lake_pg');
  const mood = `${name}_mood`;
  const table = `public.${name}`;
  const liveTopic = `${name}.public.${name}`;
  const pg = await admin();
  const columns = COLUMNS.map(([column, type]) => `${column} ${type === 'ENUM' ? mood : type}`).join(', ');
  const values = COLUMNS.map(([, type, value]) => (type === 'ENUM' ? `(${value})::${mood}` : `(${value})::${type}`)).join(', ');
  const insert = (from: number, to: number): string =>
    `INSERT INTO ${name} (id, ${COLUMNS.map(([c]) => c).join(', ')}) SELECT g, ${values} FROM generate_series(${from}, ${to}) g`;
  await pg.query(`CREATE TYPE ${mood} AS ENUM ('sad', 'ok', 'happy')`);
  // Defaults go into the schema, so the replay must rebuild them too.
  await pg.query(
    `CREATE TABLE ${name} (id int PRIMARY KEY, ${columns}, d_text text NOT NULL DEFAULT 'dflt', d_num numeric(6,2) DEFAULT 1.50, d_int int DEFAULT 42)`,
  );
  await pg.query(`INSERT INTO ${name} (id) VALUES (0)`);
  await pg.query(insert(1, ROWS));
  // Values at the edges: ±infinity timestamps, the largest numbers, empty arrays and bytes.
  await pg.query(
    `INSERT INTO ${name} (id, c_tstz, c_tstz3, c_ts, c_date, c_int8, c_num, c_num_ps, c_bytea, c_int_arr, c_text, c_json)
     VALUES (-1, 'infinity', '-infinity', 'infinity', 'infinity', 9223372036854775807, 123456789012345678901234567890.123456789, -99999999.9999, '', '{}', '', '[]')`,
  );
  const file = writeDaemonConfig(
    [{ name, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, tables: [{ name: table }] }],
    registry.url,
    { lake: { path: join(lake, name) } },
  );
  const config = loadConfig(file);
  const daemon = new Daemon(file);
  try {
    // Changes after the snapshot: the lake merges them, the database has them, the live topic carries them.
    const snapshotRows = ROWS + 2;
    await daemon.waitForLog(/streaming changes/, 90_000);
    await pg.query(insert(ROWS + 1, ROWS + 500));
    await pg.query(`UPDATE ${name} SET c_text = 'updated ' || id, c_num = -c_num, c_tstz = c_tstz + interval '1 hour' WHERE id % 10 = 0`);
    await pg.query(`DELETE FROM ${name} WHERE id % 17 = 0 AND id > 0`);
    const last = ROWS + 500;
    const updated = Math.floor(last / 10) + 1; // ids 0, 10, 20, …
    const deleted = Math.floor(last / 17);
    const tableRows = snapshotRows + 500 - deleted;
    // Every change in the live topic: snapshot reads, inserts, updates, deletes with their tombstones.
    const liveRecords = snapshotRows + 500 + updated + 2 * deleted;
    const live = await readDecoded(registry.url, liveTopic, (r) => r.length >= liveRecords, 90_000);
    assert.equal(await daemon.stop(), 0);

    const both = await replayBoth(config, table, registry.url);
    assert.equal(both.lake.result.from, 'lake');
    assert.equal(both.lake.result.completed, true);
    assert.equal(both.lake.result.totalRows, tableRows);
    assert.equal(both.lake.records.length, tableRows, 'no duplicates in an uninterrupted replay');

    // The table the live topic describes, row for row and value for value.
    const replayed = tableFromTopic(both.lake.records);
    const expected = tableFromTopic(live);
    assert.equal(replayed.size, expected.size);
    for (const [key, row] of expected) assert.equal(replayed.get(key), row, `row ${key}`);

    assertSameEvents(both.lake.records, both.database.records);
    await assertLiveSchemas(registry.url, liveTopic, [both.lake.topic, both.database.topic]);

    // Snapshot markers, and the lake snapshot's position: the last change it holds, before the database read's.
    const lsn = (position: string): bigint => {
      const [hi, lo] = position.split('/').map((part) => BigInt(`0x${part}`));
      return (hi! << 32n) | lo!;
    };
    const lakeLsn = lsn(both.lake.result.positions.current);
    assert.ok(lakeLsn <= lsn(both.database.result.positions.current));
    assert.equal(lakeLsn, BigInt(String(live.findLast((r) => r.value !== null)!.value!.source.lsn)));
    both.lake.records.forEach((record, index) => {
      assert.equal(record.value!.source.snapshot, index === both.lake.records.length - 1 ? 'last' : 'true');
      assert.equal(record.value!.source.lsn, lakeLsn);
      assert.equal(record.value!.op, 'r');
    });
    // Key order, as the table's integer key.
    const ids = both.lake.records.map((r) => (r.key as { id: number }).id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.match(text(replayed.get(text({ id: -1 }))), /infinity/);
  } finally {
    if (daemon.running) daemon.kill('SIGKILL');
    await daemon.exited;
    await dropSlotAndPublication(`tributary_${name}`, `tributary_${name}`);
    await pg.query(`DROP TABLE IF EXISTS ${name}`);
    await pg.query(`DROP TYPE IF EXISTS ${mood}`);
    await pg.end();
  }
});
