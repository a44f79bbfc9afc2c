/**
 * BinlogClient's packet tap over a stand-in for the binlog connection that behaves as mysql2's does (a paused
 * connection queues packets and hands them to handlePacket again on resume) and a stand-in for zongji's handling
 * of them: a table map whose columns zongji must look up pauses the connection until it is emitted, rows events
 * are skipped, other events are emitted at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinlogClient, type RawBinlogEvent, type ZongjiTable } from '../../src/sources/mysql/binlog-client.js';
import { binlogEvent } from '../support/binlog-bytes.js';

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

const TABLE: ZongjiTable = { parentSchema: 'db', tableName: 't', columnSchemas: [{ COLUMN_NAME: 'id', COLUMN_TYPE: 'int' }], columns: [{ name: 'id', type: 3, charset: null }] };

const packet = (type: number, nextPosition: number, body: Buffer): Packet => {
  const buffer = Buffer.concat([Buffer.from([0x00]), binlogEvent(type, body, { nextPosition })]);
  return { buffer, offset: 0, end: buffer.length };
};
const tableMap = (tableId: number, nextPosition: number): Packet => packet(19, nextPosition, Buffer.from([tableId, 0, 0, 0, 0, 0, 1, 0]));
const writeRows = (tableId: number, nextPosition: number): Packet => packet(23, nextPosition, Buffer.from([tableId, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 5, 0, 0, 0]));
const xid = (nextPosition: number): Packet => packet(16, nextPosition, Buffer.alloc(8));

interface Harness {
  readonly client: BinlogClient;
  readonly connection: Connection;
  /** What the client queued: name and end position. */
  queued(): Promise<string[]>;
}

/** A client whose zongji looks table maps up asynchronously (and maps the ids in `captured` only). */
function harness(captured: readonly number[]): Harness {
  const client = new BinlogClient({
    connection: { host: 'unused', user: 'unused' },
    replicaServerId: 1,
    start: { file: 'f', pos: 4 },
    tables: { db: ['t'] },
    heartbeatMs: 60_000,
    highWater: 100,
    checksum: true,
  });
  const zongji = (client as unknown as { zongji: { tableMap: Record<number, ZongjiTable>; connection: Connection | null; emit(name: string, event: unknown): void } }).zongji;
  const emit = (name: string, nextPosition: number, fields: Partial<RawBinlogEvent> = {}): void => {
    zongji.emit('binlog', { getEventName: () => name, timestamp: 0, nextPosition, ...fields });
  };
  const connection = new Connection((conn, p) => {
    const event = p.buffer.subarray(p.offset + 1, p.end);
    const type = event[4];
    const nextPosition = event.readUInt32LE(13);
    if (type === 19) {
      const tableId = event[19]!;
      conn.pause();
      setImmediate(() => {
        if (captured.includes(tableId)) zongji.tableMap[tableId] = TABLE;
        emit('tablemap', nextPosition, { tableId, tableMap: zongji.tableMap });
        conn.resume();
      });
    } else if (type === 16) emit('xid', nextPosition);
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

test('a rows event never overtakes the table map zongji is still looking up, nor is it read twice', async () => {
  const { client, connection, queued } = harness([7]);
  // One socket chunk: the table map pauses the connection at once, so the rest waits in mysql2's queue.
  for (const p of [tableMap(7, 100), writeRows(7, 200), xid(300)]) connection.handlePacket(p);
  assert.equal(client.queued, 0, 'nothing before the table map');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(await queued(), ['tablemap@100', 'writerows@200', 'xid@300']);
  assert.equal(client.verifiedEvents, 3, 'each checksum checked once, when the packet was handled');
});

test('rows events of a table zongji keeps no table map for (not captured) are dropped', async () => {
  const { connection, queued } = harness([7]);
  for (const p of [tableMap(8, 100), writeRows(8, 200), tableMap(7, 300), writeRows(7, 400), xid(500)]) connection.handlePacket(p);
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(await queued(), ['tablemap@100', 'tablemap@300', 'writerows@400', 'xid@500']);
});

test('a rows event carries its bytes, its table map and where it starts', async () => {
  const { client, connection } = harness([7]);
  const rows = writeRows(7, 200);
  for (const p of [tableMap(7, 100), rows]) connection.handlePacket(p);
  await new Promise((resolve) => setImmediate(resolve));
  const signal = new AbortController().signal;
  await client.next(signal);
  const event = await client.next(signal);
  assert.equal(event.getEventName(), 'writerows');
  assert.equal(event.table, TABLE);
  assert.equal(event.tableId, 7);
  assert.deepEqual(event.rowsEvent, rows.buffer.subarray(1));
  assert.equal(event.eventStart, 200 - (rows.buffer.length - 1));
  assert.equal(event.timestamp, 1_700_000_000_000);
});
