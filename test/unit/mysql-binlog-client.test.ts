/**
 * BinlogClient's packet tap over a stand-in for the binlog connection that behaves as mysql2's does (a paused
 * connection queues packets and hands them to handlePacket again on resume) and a stand-in for zongji's handling
 * of them: table maps and rows events are skipped, other events are emitted at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceError } from '../../src/model/errors.js';
import { BinlogClient, type RawBinlogEvent } from '../../src/sources/mysql/binlog-client.js';
import { binlogEvent, lenencStrings, tableMapBody, type TableMapSpec } from '../support/binlog-bytes.js';

interface Packet {
  readonly buffer: Buffer;
  readonly offset: number;
  readonly end: number;
}

/** mysql2's Connection as far as the tap and zongji use it (lib/base/connection.js handlePacket/pause/resume). */
class Connection {
  _paused = false;
  readonly _command = { constructor: { name: 'Binlog' } };
  private readonly queued: Packet[] = [];

  constructor(private readonly dispatch: (connection: Connection, packet: Packet) => void) {}

  handlePacket(packet: Packet): void {
    if (this._paused) this.queued.push(packet);
    else this.dispatch(this, packet);
  }

  pause(): void {
    this._paused = true;
  }

  resume(): void {
    this._paused = false;
    for (let packet = this.queued.shift(); packet !== undefined; packet = this.queued.shift()) {
      this.handlePacket(packet);
      if (this._paused) return;
    }
  }
}

const packet = (type: number, nextPosition: number, body: Buffer): Packet => {
  const buffer = Buffer.concat([Buffer.from([0x00]), binlogEvent(type, body, { nextPosition })]);
  return { buffer, offset: 0, end: buffer.length };
};
/** db.<table> with an INT primary key id and, optionally, more columns. */
const tableMapSpec = (tableId: number, table = 't', more: TableMapSpec['columns'] = []): TableMapSpec => ({
  tableId,
  table,
  columns: [[3], ...more],
  fields: [
    [1, Buffer.from([0])],
    [2, Buffer.from([45])], // utf8mb4 for any character columns
    [4, lenencStrings('id', ...more.map((_, i) => `c${i}`))],
    [8, Buffer.from([0])],
  ],
});
const tableMap = (tableId: number, nextPosition: number, table?: string, more?: TableMapSpec['columns']): Packet =>
  packet(19, nextPosition, tableMapBody(tableMapSpec(tableId, table, more)));
const writeRows = (tableId: number, nextPosition: number): Packet => packet(23, nextPosition, Buffer.from([tableId, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 5, 0, 0, 0]));
const xid = (nextPosition: number): Packet => packet(16, nextPosition, Buffer.alloc(8));

interface Harness {
  readonly client: BinlogClient;
  readonly connection: Connection;
  /** What the client queued: name and end position. */
  queued(): Promise<string[]>;
}

/** A client capturing db.t, with back-pressure from `highWater` queued events. */
function harness(highWater = 100): Harness {
  const client = new BinlogClient({
    connection: { host: 'unused', user: 'unused' },
    replicaServerId: 1,
    start: { file: 'f', pos: 4 },
    tables: { db: ['t'] },
    heartbeatMs: 60_000,
    highWater,
    checksum: true,
    flavor: 'mariadb',
  });
  const zongji = (client as unknown as { zongji: { connection: Connection | null; emit(name: string, event: unknown): void } }).zongji;
  const connection = new Connection((_conn, p) => {
    const event = p.buffer.subarray(p.offset + 1, p.end);
    if (event[4] === 16) zongji.emit('binlog', { getEventName: () => 'xid', timestamp: 0, nextPosition: event.readUInt32LE(13) });
  });
  zongji.connection = connection;
  (client as unknown as { tapPackets(connection: Connection): void }).tapPackets(connection);
  const signal = new AbortController().signal;
  return {
    client,
    connection,
    async queued() {
      const out: string[] = [];
      while (client.queued > 0) {
        const event = await client.next(signal);
        out.push(`${event.getEventName()}@${event.nextPosition}`);
      }
      return out;
    },
  };
}

const signal = new AbortController().signal;

test('a rows event never overtakes its table map across a back-pressure pause, nor is a packet read twice', async () => {
  const { client, connection, queued } = harness(2);
  // One socket chunk: the table map and rows event fill the queue and pause the connection; the rest waits in mysql2's queue.
  for (const p of [tableMap(7, 100), writeRows(7, 200), xid(300), tableMap(7, 400), writeRows(7, 500), xid(600)]) connection.handlePacket(p);
  assert.equal(client.queued, 2, 'paused at the high-water mark');
  assert.equal(connection._paused, true);
  assert.deepEqual(await queued(), ['tablemap@100', 'writerows@200', 'xid@300', 'tablemap@400', 'writerows@500', 'xid@600']);
  assert.equal(client.verifiedEvents, 6, 'each checksum checked once, when the packet was handled');
});

test('table maps and rows events of tables not captured are dropped', async () => {
  const { connection, queued } = harness();
  for (const p of [tableMap(8, 100, 'other'), writeRows(8, 200), tableMap(7, 300), writeRows(7, 400), writeRows(9, 450), xid(500)]) connection.handlePacket(p);
  assert.deepEqual(await queued(), ['tablemap@300', 'writerows@400', 'xid@500']);
});

test('a rows event carries its bytes, its table map and where it starts', async () => {
  const { client, connection } = harness();
  const rows = writeRows(7, 200);
  for (const p of [tableMap(7, 100), rows]) connection.handlePacket(p);
  const map = await client.next(signal);
  const event = await client.next(signal);
  assert.equal(event.getEventName(), 'writerows');
  assert.equal(event.tableMap, map.tableMap);
  assert.deepEqual([map.tableMap?.tableId, map.tableMap?.database, map.tableMap?.table, map.tableMap?.columns.map((c) => c.name)], [7, 'db', 't', ['id']]);
  assert.deepEqual(event.rowsEvent, rows.buffer.subarray(1));
  assert.equal(event.eventStart, 200 - (rows.buffer.length - 1));
  assert.equal(event.timestamp, 1_700_000_000_000);
});

test("a table id's table map is the same object for as long as its bytes after the header are the same", async () => {
  const { client, connection } = harness();
  const maps = async (...packets: Packet[]): Promise<RawBinlogEvent['tableMap'][]> => {
    for (const p of packets) connection.handlePacket(p);
    const out: RawBinlogEvent['tableMap'][] = [];
    while (client.queued > 0) out.push((await client.next(signal)).tableMap);
    return out;
  };
  const [first, again, wider, back, other] = await maps(
    tableMap(7, 100),
    tableMap(7, 900), // another position and checksum, the same body
    tableMap(7, 1000, 't', [[15, [40, 0]]]),
    tableMap(7, 1100),
    tableMap(8, 1200),
  );
  assert.equal(again, first);
  assert.notEqual(wider, first);
  assert.deepEqual(wider?.columns.map((c) => c.columnType), ['int', 'varchar(10)']);
  assert.notEqual(back, wider, 'parsed anew: only the last table map of a table id is kept');
  assert.deepEqual(back, first);
  assert.equal(other?.tableId, 8);
  // Table id 7 taken over by a table not captured: its rows are not ours any more.
  const [rows] = await maps(tableMap(7, 1300, 'other'), writeRows(7, 1400), writeRows(8, 1500));
  assert.equal(rows?.tableId, 8);
  assert.equal(client.queued, 0);
});

test('a table map that does not parse fails the connection with what is wrong with it', async () => {
  const { client, connection } = harness();
  const broken = tableMapBody({ ...tableMapSpec(7), fields: [[4, lenencStrings('id', 'extra')]] });
  connection.handlePacket(packet(19, 100, broken));
  await assert.rejects(client.next(signal), (error: unknown) => error instanceof SourceError && /db\.t \(table id 7\) names 2 columns where it has 1/.test(error.message));
});
