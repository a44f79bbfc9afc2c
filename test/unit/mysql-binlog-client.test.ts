/**
 * BinlogClient's packet tap over a real mysql2 connection whose socket is a stream the test writes protocol packets
 * to, its command a stand-in for zongji's Binlog command that records the packets reaching it: binlog events are
 * decoded by the client and never reach the command, EOF and error packets do; mysql2 pauses, queues and resumes as
 * it does over a socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import mysql from 'mysql2';
import { ConnectionError, SourceError } from '../../src/model/errors.js';
import { BinlogEventType } from '../../src/sources/mysql/binlog-event.js';
import { BinlogClient, type BinlogClientOptions } from '../../src/sources/mysql/binlog-client.js';
import type { RawBinlogEvent } from '../../src/sources/mysql/raw-event.js';
import {
  binlogEvent,
  lenencStrings,
  mariadbGtidBody,
  queryBody,
  tableMapBody,
  taggedGtidBody,
  uint64,
  uuidBytes,
  type TableMapSpec,
} from '../support/binlog-bytes.js';

/** Stands in for zongji's Binlog command (the tap goes by the name), recording the packets mysql2 hands it. */
class Binlog {
  readonly received: Buffer[] = [];

  execute(packet: { buffer: Buffer; offset: number; end: number } | undefined): boolean {
    if (packet !== undefined) this.received.push(Buffer.from(packet.buffer.subarray(packet.offset, packet.end)));
    return false;
  }
}

/** The mysql2 internals the harness sets up (lib/base/connection.js). */
interface Mysql2Connection {
  _command: Binlog;
  _paused: boolean;
  sequenceId: number;
  on(event: 'warn', listener: (error: Error) => void): void;
}

interface Harness {
  readonly client: BinlogClient;
  readonly connection: Mysql2Connection;
  readonly command: Binlog;
  /** mysql2's warnings, such as packets out of order. */
  readonly warnings: string[];
  /** Writes the events to the socket as binlog packets (0x00, then the event), in one chunk, in sequence. */
  send(...events: Buffer[]): Promise<void>;
  /** Writes protocol packets as they are, in sequence. */
  sendPackets(...payloads: Buffer[]): Promise<void>;
  /** What the client queued, pulled: type@end position. */
  queued(): Promise<string[]>;
  /** The queued events, pulled. */
  drain(): Promise<RawBinlogEvent[]>;
  /** The next `count` events, waiting for those still in the socket: type@end position. */
  take(count: number): Promise<string[]>;
}

/** mysql2's classes as its JavaScript has them (its typings declare no ConnectionConfig class). */
const { Connection, ConnectionConfig } = mysql as unknown as {
  Connection: new (options: { config: object }) => Mysql2Connection;
  ConnectionConfig: new (options: { stream: PassThrough; isServer: boolean }) => object;
};

const signal = new AbortController().signal;
const MAX_PACKET_LENGTH = 0xff_ffff;

/** A client capturing db.t, with back-pressure from `highWater` queued events, reading a dump just sent. */
function harness(highWater = 100, options: Partial<BinlogClientOptions> = {}): Harness {
  const client = new BinlogClient({
    connection: { host: 'unused', user: 'unused' },
    replicaServerId: 1,
    start: { file: 'f', pos: 4 },
    tables: { db: ['t'] },
    heartbeatMs: 60_000,
    highWater,
    checksum: true,
    flavor: 'mariadb',
    ...options,
  });
  const socket = new PassThrough();
  // isServer: no handshake; the harness plays the server.
  const connection = new Connection({ config: new ConnectionConfig({ stream: socket, isServer: true }) });
  const command = new Binlog();
  connection._command = command;
  connection.sequenceId = 1; // the dump command went out as packet 0
  const warnings: string[] = [];
  connection.on('warn', (error) => warnings.push(error.message));
  (client as unknown as { zongji: { connection: unknown } }).zongji.connection = connection;
  (client as unknown as { tapPackets(connection: unknown): void }).tapPackets(connection);
  let sequenceId = 1;
  /** A payload as protocol packets: parts of 2^24 - 1 bytes and a shorter last one, each with its sequence id. */
  const frame = (payload: Buffer): Buffer => {
    const packets: Buffer[] = [];
    for (let at = 0; ; at += MAX_PACKET_LENGTH) {
      const part = payload.subarray(at, at + MAX_PACKET_LENGTH);
      const head = Buffer.alloc(4);
      head.writeUIntLE(part.length, 0, 3);
      head[3] = sequenceId++ % 256;
      packets.push(head, part);
      if (part.length < MAX_PACKET_LENGTH) return Buffer.concat(packets);
    }
  };
  const write = async (chunk: Buffer): Promise<void> => {
    socket.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  };
  const drain = async (): Promise<RawBinlogEvent[]> => {
    const out: RawBinlogEvent[] = [];
    while (client.queued > 0) out.push(await client.next(signal));
    return out;
  };
  return {
    client,
    connection,
    command,
    warnings,
    send: (...events) => write(Buffer.concat(events.map((event) => frame(Buffer.concat([Buffer.from([0x00]), event]))))),
    sendPackets: (...payloads) => write(Buffer.concat(payloads.map(frame))),
    drain,
    async take(count) {
      const out: string[] = [];
      while (out.length < count) {
        const event = await client.next(signal);
        out.push(`${event.type}@${event.nextPosition}`);
      }
      return out;
    },
    async queued() {
      return (await drain()).map((event) => `${event.type}@${event.nextPosition}`);
    },
  };
}

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
const tableMap = (tableId: number, nextPosition: number, table?: string, more?: TableMapSpec['columns']): Buffer =>
  binlogEvent(BinlogEventType.TABLE_MAP, tableMapBody(tableMapSpec(tableId, table, more)), { nextPosition });
const writeRows = (tableId: number, nextPosition: number): Buffer =>
  binlogEvent(BinlogEventType.WRITE_ROWS_V1, Buffer.from([tableId, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 5, 0, 0, 0]), { nextPosition });
const xid = (nextPosition: number): Buffer => binlogEvent(BinlogEventType.XID, uint64(9n), { nextPosition });
const mariadbGtid = (sequence: bigint, nextPosition: number, flags = 0): Buffer =>
  binlogEvent(BinlogEventType.MARIADB_GTID, mariadbGtidBody(sequence, 0, flags), { nextPosition });
const query = (statement: string, nextPosition: number, compressed = false): Buffer =>
  binlogEvent(compressed ? BinlogEventType.MARIADB_QUERY_COMPRESSED : BinlogEventType.QUERY, queryBody(statement, { threadId: 77, database: 'shop', compressed }), { nextPosition });
const rotate = (file: string, position: bigint, nextPosition: number): Buffer =>
  binlogEvent(BinlogEventType.ROTATE, Buffer.concat([uint64(position), Buffer.from(file)]), { nextPosition, timestamp: 0 });
const heartbeat = (nextPosition: number): Buffer => binlogEvent(BinlogEventType.HEARTBEAT, Buffer.from('bin.000002'), { nextPosition, timestamp: 0 });

const UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const mysqlGtid = (type: number, gno: bigint, nextPosition: number): Buffer =>
  binlogEvent(type, Buffer.concat([Buffer.from([1]), type === BinlogEventType.ANONYMOUS_GTID ? Buffer.alloc(16) : uuidBytes(UUID), uint64(gno)]), { nextPosition });
const xaPrepare = (nextPosition: number): Buffer =>
  binlogEvent(BinlogEventType.XA_PREPARE, Buffer.from([0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x78, 0x31]), { nextPosition });

test('a rows event never overtakes its table map across a back-pressure pause, nor is a packet read twice', async () => {
  const { client, connection, command, warnings, send, queued } = harness(2);
  // One socket chunk: the table map and rows event fill the queue and pause the connection; the rest waits in mysql2's queue.
  await send(tableMap(7, 100), writeRows(7, 200), xid(300), tableMap(7, 400), writeRows(7, 500), xid(600));
  assert.equal(client.queued, 2, 'paused at the high-water mark');
  assert.equal(connection._paused, true);
  assert.deepEqual(await queued(), ['tablemap@100', 'rows@200', 'xid@300', 'tablemap@400', 'rows@500', 'xid@600']);
  assert.equal(client.verifiedEvents, 6, 'each checksum checked once, when the packet was read');
  assert.equal(connection.sequenceId, 7, "mysql2's sequence id moved on one per packet");
  assert.deepEqual(command.received, [], "no binlog event reached zongji's command");
  assert.deepEqual(warnings, []);
});

test('packets held while the consumer lags (in the socket or in mysql2) are read in order on resume, without warnings', async () => {
  const { client, connection, warnings, send, take } = harness(2);
  await send(mariadbGtid(1n, 50), tableMap(7, 100), writeRows(7, 200));
  await send(xid(300), mariadbGtid(2n, 350)); // the socket is paused: these wait in it
  assert.equal(connection._paused, true);
  assert.equal(client.queued, 2);
  assert.deepEqual(await take(5), ['mariadbgtid@50', 'tablemap@100', 'rows@200', 'xid@300', 'mariadbgtid@350']);
  await send(xid(400));
  assert.deepEqual(await take(1), ['xid@400']);
  assert.equal(client.isPaused, false);
  assert.equal(connection.sequenceId, 7);
  assert.deepEqual(warnings, []);
});

test('table maps and rows events of tables not captured are dropped', async () => {
  const { send, queued } = harness();
  await send(tableMap(8, 100, 'other'), writeRows(8, 200), tableMap(7, 300), writeRows(7, 400), writeRows(9, 450), xid(500));
  assert.deepEqual(await queued(), ['tablemap@300', 'rows@400', 'xid@500']);
});

test('a rows event carries its bytes, its table map, where it starts and its GTID', async () => {
  const { client, send } = harness();
  const rows = writeRows(7, 200);
  await send(mariadbGtid(42n, 50), tableMap(7, 100), rows);
  await client.next(signal);
  const map = await client.next(signal);
  const event = await client.next(signal);
  assert.equal(event.type, 'rows');
  assert.equal(event.tableMap, map.tableMap);
  assert.deepEqual([map.tableMap?.tableId, map.tableMap?.database, map.tableMap?.table, map.tableMap?.columns.map((c) => c.name)], [7, 'db', 't', ['id']]);
  assert.deepEqual(event.rowsEvent, rows);
  assert.equal(event.eventStart, 200 - rows.length);
  assert.equal(event.timestamp, 1_700_000_000_000);
  assert.equal(event.gtid, '0-1-42');
});

test("a table id's table map is the same object for as long as its bytes after the header are the same", async () => {
  const { send, drain } = harness();
  const maps = async (...events: Buffer[]): Promise<RawBinlogEvent['tableMap'][]> => {
    await send(...events);
    return (await drain()).map((event) => event.tableMap);
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
  const rows = await maps(tableMap(7, 1300, 'other'), writeRows(7, 1400), writeRows(8, 1500));
  assert.deepEqual(rows.map((map) => map?.tableId), [8]);
});

/** Each event sent, and what the client queued for it (null: nothing), as type and the fields that matter to it. */
const CONTROL_EVENTS: [string, Buffer, Partial<RawBinlogEvent> | null][] = [
  ['the artificial rotate the dump opens with', rotate('bin.000001', 4n, 0), { type: 'rotate', file: 'bin.000001', position: 4, nextPosition: 0, eventStart: undefined, timestamp: 0, gtid: undefined }],
  ['format description', binlogEvent(BinlogEventType.FORMAT_DESCRIPTION, Buffer.alloc(90), { nextPosition: 256 }), null],
  ['GTID list', binlogEvent(BinlogEventType.MARIADB_GTID_LIST, Buffer.alloc(4), { nextPosition: 285 }), null],
  ['binlog checkpoint', binlogEvent(BinlogEventType.MARIADB_BINLOG_CHECKPOINT, Buffer.from([4, 0, 0, 0, 0x62, 0x69, 0x6e, 0x31]), { nextPosition: 320 }), null],
  ['MariaDB GTID', mariadbGtid(10n, 400), { type: 'mariadbgtid', gtid: '0-1-10', standalone: false, eventStart: 400 - 42 }],
  ['its table map', tableMap(7, 500), { type: 'tablemap', gtid: '0-1-10' }],
  ['its rows', writeRows(7, 600), { type: 'rows', gtid: '0-1-10' }],
  ['its XID, still of the transaction', xid(700), { type: 'xid', gtid: '0-1-10', nextPosition: 700, timestamp: 1_700_000_000_000 }],
  ['a heartbeat after it, of none', heartbeat(700), { type: 'heartbeat', gtid: undefined, nextPosition: 700 }],
  ['a standalone group', mariadbGtid(11n, 800, 1), { type: 'mariadbgtid', gtid: '0-1-11', standalone: true }],
  ['its DDL', query('ALTER TABLE t ADD c INT', 900), { type: 'query', gtid: '0-1-11', query: 'ALTER TABLE t ADD c INT', database: 'shop', threadId: 77 }],
  ['events after DDL keep its GTID until the next group', heartbeat(900), { type: 'heartbeat', gtid: '0-1-11' }],
  ['a group closed by COMMIT', mariadbGtid(12n, 1000), { type: 'mariadbgtid', gtid: '0-1-12' }],
  ['SAVEPOINT, inside it', query('SAVEPOINT a', 1050), { type: 'query', gtid: '0-1-12', query: 'SAVEPOINT a' }],
  ['COMMIT, still of it', query('COMMIT', 1100), { type: 'query', gtid: '0-1-12', query: 'COMMIT' }],
  ['after COMMIT', heartbeat(1100), { type: 'heartbeat', gtid: undefined }],
  ['a compressed query', query('  xa commit 0x31', 1200, true), { type: 'query', gtid: undefined, query: '  xa commit 0x31', database: 'shop' }],
  ['an XA transaction', mariadbGtid(13n, 1300), { type: 'mariadbgtid', gtid: '0-1-13' }],
  ['XA END', query("XA END X'7831'", 1350), { type: 'query', gtid: '0-1-13' }],
  ['XA PREPARE ends the group', xaPrepare(1400), null],
  ['after XA PREPARE', heartbeat(1400), { type: 'heartbeat', gtid: undefined }],
  ['a rotate to the next file', rotate('bin.000002', 4n, 1500), { type: 'rotate', file: 'bin.000002', position: 4, nextPosition: 1500 }],
];

test('control events decode to what the stream reads, each carrying the GTID of its event group', async () => {
  const { send, drain, command } = harness();
  await send(...CONTROL_EVENTS.map(([, event]) => event));
  const events = await drain();
  const expected = CONTROL_EVENTS.filter(([, , fields]) => fields !== null);
  assert.equal(events.length, expected.length);
  expected.forEach(([name, , fields], i) => {
    const event = events[i]!;
    for (const [key, value] of Object.entries(fields!)) assert.deepEqual(event[key as keyof RawBinlogEvent], value, `${name}: ${key}`);
  });
  assert.deepEqual(command.received, []);
  const keys = JSON.stringify(Object.keys(events[0]!));
  assert.ok(events.every((event) => JSON.stringify(Object.keys(event)) === keys), 'every event in one shape');
});

test("MySQL's GTID events: plain and tagged label their group, anonymous ones end the last GTID's", async () => {
  const { send, queued, drain } = harness(100, { flavor: 'mysql' });
  await send(
    mysqlGtid(BinlogEventType.GTID, 5n, 100),
    query('BEGIN', 150),
    xid(200),
    binlogEvent(BinlogEventType.GTID_TAGGED, taggedGtidBody({ uuid: UUID, gno: 3n, tag: 'tag_a' }), { nextPosition: 300 }),
    query('CREATE TABLE x (a INT)', 400),
    mysqlGtid(BinlogEventType.ANONYMOUS_GTID, 0n, 500),
    query('BEGIN', 550),
    xid(600),
  );
  const events = await drain();
  assert.deepEqual(
    events.map((event) => `${event.type}@${event.nextPosition} ${event.gtid}`),
    [`gtid@100 ${UUID}:5`, `query@150 ${UUID}:5`, `xid@200 ${UUID}:5`, `gtid@300 ${UUID}:tag_a:3`, `query@400 ${UUID}:tag_a:3`, 'query@550 undefined', 'xid@600 undefined'],
  );
  assert.deepEqual(await queued(), []);
});

test('a payload of 16 MiB and more, split over packets, moves the sequence id on by its parts', async () => {
  const { client, connection, send, take, warnings } = harness(1);
  const big = binlogEvent(BinlogEventType.ROWS_QUERY, Buffer.alloc(MAX_PACKET_LENGTH + 10), { nextPosition: 100 });
  // Paused by the first XID, mysql2 queues the others: the big one as a clone, which forgets its count of parts.
  await send(xid(50), big, xid(200));
  assert.equal(connection._paused, true);
  assert.deepEqual(await take(2), ['xid@50', 'xid@200']);
  assert.equal(client.verifiedEvents, 3);
  assert.equal(connection.sequenceId, 5, 'one packet, two, then one');
  assert.deepEqual(warnings, []);
});

test('a binlog packet out of sequence fails the connection, which is reopened', async () => {
  const { client, connection, send } = harness();
  connection.sequenceId = 5;
  await send(xid(100));
  await assert.rejects(client.next(signal), (error: unknown) => error instanceof ConnectionError && /binlog packet 1 arrived where 5 was due/.test(error.message));
});

test("EOF and error packets go to mysql2 and zongji's command, which end the dump", async () => {
  const { command, sendPackets, warnings } = harness();
  const eof = Buffer.from([0xfe, 0, 0, 0, 0]);
  const error = Buffer.concat([Buffer.from([0xff, 0xe4, 0x04, 0x23]), Buffer.from('HY000Could not find first log file')]);
  await sendPackets(eof, error);
  assert.deepEqual(command.received, [eof, error]);
  assert.deepEqual(warnings, []);
});

test('a failed event ends the queue: the events before it are delivered, none after it', async () => {
  const { client, send } = harness();
  const damaged = Buffer.from(xid(200));
  damaged[20]! ^= 1;
  await send(mariadbGtid(1n, 100), damaged, xid(300), mariadbGtid(2n, 400));
  assert.equal((await client.next(signal)).type, 'mariadbgtid');
  await assert.rejects(client.next(signal), (error: unknown) => error instanceof ConnectionError && /type 16 ending at 200 fails its CRC32 check/.test(error.message));
  assert.equal(client.queued, 0);
});

test('events that do not decode, or whose changes cannot be read, fail the connection naming what is wrong', async () => {
  const cases: [string, Buffer, new (...args: never[]) => Error, RegExp][] = [
    ['a truncated GTID', binlogEvent(BinlogEventType.MARIADB_GTID, Buffer.alloc(5), { nextPosition: 90 }), SourceError, /binlog event of type 162 ending at 90 does not decode: /],
    ['a query cut short', binlogEvent(BinlogEventType.QUERY, queryBody('').subarray(0, 14), { nextPosition: 91 }), SourceError, /type 2 ending at 91 does not decode: query event of 37 bytes ends before its statement/],
    ['an event longer than its packet says', binlogEvent(BinlogEventType.XID, uint64(1n)).subarray(0, 30), ConnectionError, /packet of 30 bytes holds an event of 31 bytes/],
    ['a compressed transaction', binlogEvent(BinlogEventType.TRANSACTION_PAYLOAD, Buffer.alloc(8)), SourceError, /compressed transaction \(event type 40\).*binlog_transaction_compression = OFF/s],
    ['a partial JSON update', binlogEvent(BinlogEventType.PARTIAL_UPDATE_ROWS, Buffer.alloc(8)), SourceError, /partial JSON update \(event type 39\)/],
    [
      'a table map that does not parse',
      binlogEvent(BinlogEventType.TABLE_MAP, tableMapBody({ ...tableMapSpec(7), fields: [[4, lenencStrings('id', 'extra')]] })),
      SourceError,
      /db\.t \(table id 7\) names 2 columns where it has 1/,
    ],
  ];
  for (const [name, event, kind, message] of cases) {
    const { client, send } = harness();
    await send(event);
    await assert.rejects(
      client.next(signal),
      (error: unknown) => error instanceof kind && message.test(`${(error as Error).message} ${(error as SourceError).fix ?? ''}`),
      name,
    );
  }
});
