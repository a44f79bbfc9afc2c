/**
 * StreamState over binlog events captured from MariaDB 10.11 through BinlogClient (mysql-stream-events.json):
 * the control events as the client decoded them, the table maps and rows events as their bytes. A two-row INSERT
 * transaction, an UPDATE, a DELETE, ALTER TABLE … ADD COLUMN extra, and an INSERT after it. The catalog is a
 * stand-in that, like the real server by then, already describes the altered table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ChangeEvent, MysqlSourceInfo, SourceEvent } from '../../src/model/change.js';
import { silentLogger } from '../../src/ops/logger.js';
import { rawBinlogEvent, type RawBinlogEvent, type RawEventType } from '../../src/sources/mysql/raw-event.js';
import type { QueryConnection } from '../../src/sources/mysql/connection.js';
import { parseCheckpoint, serializeCheckpoint, type MysqlCheckpoint } from '../../src/sources/mysql/position.js';
import { rowsEventTableId } from '../../src/sources/mysql/rows-event.js';
import { alteredTable, StreamState, truncatedTable, type StreamOptions } from '../../src/sources/mysql/stream.js';
import { parseTableMap, type TableMap } from '../../src/sources/mysql/table-map.js';
import { binlogEvent, lenencStrings, tableMapBody } from '../support/binlog-bytes.js';

/** A captured event, with its table map event's bytes where the client queued its parse, and its fields left out where undefined. */
type Captured = Partial<Omit<RawBinlogEvent, 'tableMap'>> & Pick<RawBinlogEvent, 'type'> & { tableMap?: Buffer };

/** An event of `type`, with nothing in its header (timestamp, positions, GTID) unless `fields` says otherwise. */
function event(type: RawEventType, fields: Partial<RawBinlogEvent> = {}): RawBinlogEvent {
  return rawBinlogEvent(type, fields.timestamp ?? 0, fields.nextPosition ?? 0, fields.eventStart, fields.gtid, fields);
}

/** Parses each table map once per body, and gives rows events the table map in force, as BinlogClient does. */
function asClient(events: readonly Captured[]): RawBinlogEvent[] {
  const byBody = new Map<string, TableMap>();
  const byTableId = new Map<number, TableMap>();
  return events.map(({ type, tableMap: bytes, ...fields }) => {
    let tableMap: TableMap | undefined;
    if (bytes !== undefined) {
      const body = bytes.subarray(19, -4).toString('hex');
      tableMap = byBody.get(body) ?? parseTableMap(bytes, { checksum: true, flavor: 'mariadb' });
      byBody.set(body, tableMap);
      byTableId.set(tableMap.tableId, tableMap);
    }
    if (fields.rowsEvent !== undefined) tableMap = byTableId.get(rowsEventTableId(fields.rowsEvent));
    return event(type, { ...fields, tableMap });
  });
}

const captured = asClient(
  JSON.parse(readFileSync(new URL('./mysql-stream-events.json', import.meta.url), 'utf8'), (_k, v: unknown) =>
    v !== null && typeof v === 'object' && 'hex' in v ? Buffer.from((v as { hex: string }).hex, 'hex') : v,
  ) as Captured[],
);

const CURRENT_COLUMNS = [
  ['id', 'int(11)', 'int', 'NO'],
  ['extra', 'int(11)', 'int', 'NO'],
  ['name', 'varchar(20)', 'varchar', 'NO'],
  ['amount', 'decimal(10,2)', 'decimal', 'YES'],
  ['at', 'datetime(6)', 'datetime', 'YES'],
  ['data', 'blob', 'blob', 'YES'],
].map(([COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE]) => ({ COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE }));

/** A stand-in catalog describing `columns` with primary key id, counting the tables it is asked to describe. */
function catalogOf(columns: readonly object[]): QueryConnection & { reads: number } {
  const stand = {
    reads: 0,
    async query(sql: string) {
      if (sql.includes('information_schema.COLUMNS')) {
        stand.reads++;
        return [columns, []];
      }
      if (sql.includes('KEY_COLUMN_USAGE')) return [[{ COLUMN_NAME: 'id' }], []];
      return [[], []];
    },
  };
  return stand as unknown as QueryConnection & { reads: number };
}

const catalog = catalogOf(CURRENT_COLUMNS);

const rotate = captured[0]!;
/** The GTIDs of the first and last captured transactions, and of the one before them. */
const FIRST_GTID = captured[1]!.gtid!;
const LAST_GTID = captured.at(-1)!.gtid!;
const PREVIOUS_GTID = FIRST_GTID.replace(/\d+$/, (sequence) => String(Number(sequence) - 1));
const START: MysqlCheckpoint = { file: rotate.file!, pos: rotate.position!, gtids: PREVIOUS_GTID, skip: 0 };

function state(overrides: Partial<StreamOptions> = {}): StreamState {
  let now = 0;
  return new StreamState({
    connection: { host: 'unused', user: 'unused' },
    catalog,
    serverName: 'shop',
    flavor: 'mariadb',
    replicaServerId: 99,
    serverId: 1n,
    tables: [{ name: 'test.fixture_s' }],
    gtid: true,
    transactions: true,
    checksum: true,
    from: START,
    clock: () => (now += 1_000), // a second between calls: idle heartbeats are never held back
    logger: silentLogger(),
    ...overrides,
  });
}

async function run(s: StreamState, events: readonly RawBinlogEvent[]): Promise<SourceEvent[]> {
  const out: SourceEvent[] = [];
  for (const e of events) out.push(...(await s.handle(e)));
  return out;
}

const changes = (events: SourceEvent[]): ChangeEvent[] => events.filter((e): e is ChangeEvent => e.type === 'change');

test('captured events become changes, transaction boundaries and schema versions', async () => {
  const out = await run(state(), captured);
  assert.deepEqual(
    out.map((e) => (e.type === 'change' ? e.op : e.type)),
    ['begin', 'c', 'c', 'end', 'begin', 'u', 'end', 'begin', 'd', 'end', 'heartbeat', 'begin', 'c', 'end'],
  );
  const [c1, c2, u, d, c3] = changes(out);
  assert.deepEqual(c1!.after, { id: 1, name: 'héllo', amount: '12.34', at: 1704164645123456n, data: new Uint8Array([0, 0xff]) });
  assert.deepEqual(c2!.after, { id: 2, name: 'b', amount: null, at: null, data: null });
  assert.deepEqual(u!.before?.amount, '12.34');
  assert.deepEqual(u!.after?.amount, '-0.50');
  assert.deepEqual(d!.before?.id, 2);
  // Rows written before the ALTER use the table map's columns, not the catalog's current ones.
  assert.deepEqual(c1!.schema.columns.map((c) => c.name), ['id', 'name', 'amount', 'at', 'data']);
  assert.deepEqual(c1!.schema.key, ['id']);
  assert.deepEqual(c3!.schema.columns.map((c) => [c.name, c.nullable]), [
    ['id', false],
    ['extra', false],
    ['name', false],
    ['amount', true],
    ['at', true],
    ['data', true],
  ]);
  assert.deepEqual(c3!.after, { id: 3, extra: 7, name: 'c', amount: null, at: null, data: null });
  assert.equal(c1!.schema, d!.schema, 'one schema version until the table changes');

  const source = c1!.source as MysqlSourceInfo;
  assert.equal(source.gtid, FIRST_GTID);
  assert.equal(source.serverId, 1n);
  assert.equal(source.file, START.file);
  assert.equal(source.row, 0);
  assert.equal((c2!.source as MysqlSourceInfo).row, 1);
  assert.equal(c1!.transaction?.id, FIRST_GTID);
  assert.deepEqual([c1!.transaction?.totalOrder, c2!.transaction?.totalOrder], [1n, 2n]);

  const end = out[3]!;
  assert.ok(end.type === 'end');
  assert.deepEqual([...end.counts!], [['test.fixture_s', 2]]);
  assert.deepEqual(parseCheckpoint(c1!.position), { ...START, skip: 1 });
  assert.deepEqual(parseCheckpoint(c2!.position), { ...START, skip: 2 });
  const afterFirst = parseCheckpoint(end.position);
  assert.deepEqual(afterFirst, { file: START.file, pos: captured[4]!.nextPosition, gtids: FIRST_GTID, skip: 0 });
  assert.deepEqual(parseCheckpoint(u!.position), { ...afterFirst, pos: captured[5]!.eventStart!, skip: 1 });
  const last = parseCheckpoint(out.at(-1)!.position);
  assert.equal(last.gtids, LAST_GTID);
});

test('a resume mid-transaction drops the rows already delivered and nothing else', async () => {
  const out = await run(state({ from: { ...START, skip: 1 } }), captured);
  const ids = changes(out).map((e) => (e.after ?? e.before)!.id);
  assert.deepEqual(ids, [2, 1, 2, 3]);
});

test('after a reconnect mid-transaction the replayed transaction continues without repeating begin or rows', async () => {
  const s = state();
  const first = await run(s, captured.slice(0, 4)); // rotate, gtid, table map, the two-row insert
  s.prepareReconnect();
  assert.deepEqual(s.resumeStart(), { gtids: PREVIOUS_GTID });
  const second = await run(s, captured);
  assert.deepEqual(first.map((e) => e.type), ['begin', 'change', 'change']);
  assert.deepEqual(second.slice(0, 2).map((e) => e.type), ['end', 'begin']);
  const end = second[0]!;
  assert.ok(end.type === 'end');
  assert.deepEqual([...end.counts!], [['test.fixture_s', 2]]);
  assert.equal(changes(second).length, 3);
});

test('without GTIDs, or with an empty GTID position, the stream resumes by file and offset', () => {
  assert.deepEqual(state({ gtid: false }).resumeStart(), { file: START.file, pos: START.pos });
  assert.deepEqual(state({ from: { ...START, gtids: '' } }).resumeStart(), { file: START.file, pos: START.pos });
  assert.equal(serializeCheckpoint(START).includes('"skip":0'), true);
});

test('without transaction metadata, commits become heartbeats and changes carry no transaction', async () => {
  const out = await run(state({ transactions: false }), captured);
  assert.ok(out.every((e) => e.type === 'change' || e.type === 'heartbeat'));
  assert.ok(changes(out).every((e) => e.transaction === null));
  assert.equal(out.filter((e) => e.type === 'heartbeat').length, 5);
});

test('a table map handed out again costs no catalog read; after an ALTER of its table even the same one reads it anew', async () => {
  const stand = catalogOf(CURRENT_COLUMNS);
  const s = state({ catalog: stand });
  assert.equal(captured[6]!.tableMap, captured[2]!.tableMap, 'the client handed out one table map for three transactions');
  const before = changes(await run(s, captured.slice(0, 13))); // the INSERT, UPDATE and DELETE
  assert.equal(stand.reads, 1);
  // The ALTER (and its GTID), then the UPDATE's transaction again: the same table map object as before it.
  const after = changes(await run(s, [captured[13]!, captured[14]!, ...captured.slice(5, 9)]));
  assert.equal(stand.reads, 2);
  assert.notEqual(after[0]!.schema, before[0]!.schema, 'a new schema version');
  assert.deepEqual(after[0]!.after, before[2]!.after);
});

test("MariaDB 5.3's fractional temporals, which the table map cannot tell from classic ones, are read as the catalog describes them", async () => {
  const tableMap = parseTableMap(
    binlogEvent(
      19,
      tableMapBody({
        tableId: 5,
        database: 'test',
        table: 'hires',
        columns: [[3], [12]], // INT, classic DATETIME: no metadata
        fields: [[1, Buffer.from([0])], [4, lenencStrings('id', 'at')], [8, Buffer.from([0])]],
      }),
    ),
    { checksum: true, flavor: 'mariadb' },
  );
  // 2024-01-02 03:04:05.678 as DATETIME(3) stores it: the whole value in milliseconds, seven bytes big-endian.
  const at = Buffer.alloc(8);
  at.writeBigUInt64BE(((((((2024n * 13n + 1n) * 32n + 2n) * 24n + 3n) * 60n + 4n) * 60n + 5n) * 1000n + 678n));
  const rowsEvent = binlogEvent(23, Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 1, 0, 2, 0b11, 0]), Buffer.from([1, 0, 0, 0]), at.subarray(1)]));
  const columns = [
    { COLUMN_NAME: 'id', COLUMN_TYPE: 'int(11)', DATA_TYPE: 'int', IS_NULLABLE: 'NO' },
    { COLUMN_NAME: 'at', COLUMN_TYPE: 'datetime(3)', DATA_TYPE: 'datetime', IS_NULLABLE: 'YES' },
  ];
  const out = await run(state({ catalog: catalogOf(columns), tables: [{ name: 'test.hires' }] }), [
    event('mariadbgtid', { gtid: FIRST_GTID, standalone: false }),
    event('tablemap', { tableMap }),
    event('rows', { tableMap, rowsEvent }),
  ]);
  const [change] = changes(out);
  assert.deepEqual(change!.schema.columns.find((c) => c.name === 'at')?.type, { kind: 'timestamp', precision: 3 });
  assert.deepEqual(change!.after, { id: 1, at: 1704164645678000n });
});

test('statements inside BEGIN…COMMIT, such as SAVEPOINT, do not end the transaction', async () => {
  const gtid = captured[1]!;
  const savepoint = event('query', { ...gtid, query: 'SAVEPOINT `a`' });
  const out = await run(state(), [rotate, gtid, savepoint, ...captured.slice(2, 5)]);
  assert.deepEqual(out.map((e) => (e.type === 'change' ? e.op : e.type)), ['begin', 'c', 'c', 'end']);
  assert.equal(new Set(changes(out).map((e) => e.transaction?.id)).size, 1);
});

test('TRUNCATE statements name their table, qualified by the default database when they do not', () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ['TRUNCATE TABLE orders', 'shop', 'shop.orders'],
    ['truncate orders', 'shop', 'shop.orders'],
    ['TRUNCATE TABLE `other`.`my``table`', 'shop', 'other.my`table'],
    ['TRUNCATE TABLE other . orders;', undefined, 'other.orders'],
    ['TRUNCATE TABLE orders', undefined, undefined],
    ['CREATE TABLE truncate_log (id INT)', 'shop', undefined],
    ['DELETE FROM orders', 'shop', undefined],
  ];
  for (const [sql, db, expected] of cases) assert.equal(truncatedTable(sql, db), expected, sql);
});

test('ALTER TABLE statements name their table, so its next table map re-reads the catalog', () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ['ALTER TABLE orders MODIFY qty INT NULL', 'shop', 'shop.orders'],
    ['alter online ignore table `other`.`my``table` add column x int', 'shop', 'other.my`table'],
    ['ALTER TABLE IF EXISTS other.orders DROP COLUMN note', 'shop', 'other.orders'],
    ['ALTER TABLE orders ADD c INT', undefined, undefined],
    ['ALTER DATABASE shop CHARACTER SET utf8mb4', 'shop', undefined],
    ['CREATE TABLE alter_log (id INT)', 'shop', undefined],
  ];
  for (const [sql, db, expected] of cases) assert.equal(alteredTable(sql, db), expected, sql);
});
