/**
 * Decodes binlog bytes captured from MariaDB 10.11 (binlog_checksum=CRC32): CREATE TABLE fixture_t (id INT
 * PRIMARY KEY, name VARCHAR(20), amount DECIMAL(10,2), at DATETIME(6)), then one INSERT, UPDATE and DELETE; and
 * control events built by hand in every form and cut short, read by our parsers and, where it has them, by zongji.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SourceError } from '../../src/model/errors.js';
import {
  BinlogEventType,
  checksumMatches,
  inflateEventPayload,
  parseEventHeader,
  parseFormatDescription,
  parseMariadbGtid,
  parseQuery,
  parseRotate,
  parseXid,
  readLengthEncoded,
} from '../../src/sources/mysql/binlog-event.js';
import { binlogEvent, compressedPayload, mariadbGtidBody, queryBody, uint64, type QuerySpec } from '../support/binlog-bytes.js';
import { zongjiDecoder } from '../support/zongji-decode.js';

const captured = (JSON.parse(readFileSync(new URL('./mysql-binlog-events.json', import.meta.url), 'utf8')) as { hex: string }[]).map((e) =>
  Buffer.from(e.hex, 'hex'),
);

test('captured events have consistent headers in stream order', () => {
  const types = captured.map((e) => parseEventHeader(e).type);
  assert.deepEqual(types, [
    BinlogEventType.ROTATE,
    BinlogEventType.FORMAT_DESCRIPTION,
    BinlogEventType.MARIADB_GTID,
    BinlogEventType.QUERY,
    ...[BinlogEventType.WRITE_ROWS_V1, BinlogEventType.UPDATE_ROWS_V1, BinlogEventType.DELETE_ROWS_V1].flatMap((rows) => [
      BinlogEventType.MARIADB_GTID,
      BinlogEventType.TABLE_MAP,
      rows,
      BinlogEventType.XID,
    ]),
  ]);
  let previousEnd = 0;
  for (const event of captured.slice(2)) {
    const header = parseEventHeader(event);
    assert.equal(header.length, event.length);
    assert.equal(header.serverId, 1);
    // Not always contiguous: MariaDB leaves out the Annotate_rows events a replica did not ask for.
    if (previousEnd > 0) assert.ok(header.nextPosition - header.length >= previousEnd, 'events move forward');
    previousEnd = header.nextPosition;
  }
});

test('every captured event passes its CRC32 check, and a flipped bit fails it', () => {
  for (const event of captured) assert.ok(checksumMatches(event));
  for (const index of [0, 10, 19, captured[6]!.length - 5, captured[6]!.length - 1]) {
    const damaged = Buffer.from(captured[6]!);
    damaged[index]! ^= 0x04;
    assert.equal(checksumMatches(damaged), false, `byte ${index}`);
  }
  assert.equal(checksumMatches(Buffer.alloc(10)), false);
});

test('control events decode', () => {
  const rotate = parseRotate(captured[0]!, true);
  assert.match(rotate.file, /^mariadb-bin\.\d{6}$/);
  assert.ok(rotate.position >= 4n);
  assert.equal(parseEventHeader(captured[0]!).nextPosition, 0, 'the dump opens with an artificial rotate');

  const format = parseFormatDescription(captured[1]!);
  assert.equal(format.binlogVersion, 4);
  assert.match(format.serverVersion, /^10\.11\.\d+-MariaDB/);
  assert.equal(format.headerLength, 19);
  assert.equal(format.checksumAlgorithm, 1);

  const ddlGtid = parseMariadbGtid(captured[2]!, true);
  assert.equal(ddlGtid.standalone, true);
  assert.equal(ddlGtid.domain, 0);
  assert.equal(ddlGtid.server, 1);
  const create = parseQuery(captured[3]!, true);
  assert.equal(create.database, 'test');
  assert.equal(create.errorCode, 0);
  assert.match(create.query, /^CREATE TABLE fixture_t/);

  const insertGtid = parseMariadbGtid(captured[4]!, true);
  assert.equal(insertGtid.standalone, false);
  assert.equal(insertGtid.sequence, ddlGtid.sequence + 1n);
  assert.equal(insertGtid.gtid, `0-1-${insertGtid.sequence}`);

  const xids = [7, 11, 15].map((i) => parseXid(captured[i]!, true));
  assert.ok(xids[0]! > 0n && xids[1]! > xids[0]! && xids[2]! > xids[1]!);
});

test('length-encoded integers', () => {
  const cases: [number[], number, number][] = [
    [[0x05], 5, 1],
    [[0xfa], 250, 1],
    [[0xfc, 0x34, 0x12], 0x1234, 3],
    [[0xfd, 0x56, 0x34, 0x12], 0x123456, 4],
    [[0xfe, 1, 0, 0, 0, 1, 0, 0, 0], 2 ** 32 + 1, 9],
  ];
  for (const [bytes, value, width] of cases) assert.deepEqual(readLengthEncoded(Buffer.from(bytes), 0), [value, width]);
  assert.throws(() => readLengthEncoded(Buffer.from([0xff]), 0), RangeError);
});

/** Every cut of an event's body short of whole, header and checksum kept: each must throw, not read garbage. */
function truncations(type: number, body: Buffer, whole: number): Buffer[] {
  return Array.from({ length: whole }, (_, cut) => binlogEvent(type, body.subarray(0, cut)));
}

test('query events: plain and compressed, read as zongji read them', () => {
  const zongji = zongjiDecoder(true);
  const cases: [string, string, QuerySpec][] = [
    ['BEGIN', 'BEGIN', {}],
    ['a statement in another database, with status variables', 'ALTER TABLE t ADD c INT', { threadId: 4_000_000_000, database: 'shop', status: Buffer.alloc(40, 7) }],
    ['no default database', 'CREATE DATABASE x', { database: '' }],
    ['multi-byte text', "INSERT INTO t VALUES ('héllo ✓')", { database: 'dé' }],
    ['compressed (log_bin_compress)', `UPDATE t SET note = '${'x'.repeat(300)}'`, { compressed: true }],
  ];
  for (const [name, statement, spec] of cases) {
    const type = spec.compressed === true ? BinlogEventType.MARIADB_QUERY_COMPRESSED : BinlogEventType.QUERY;
    const event = binlogEvent(type, queryBody(statement, spec));
    const parsed = parseQuery(event, true);
    assert.deepEqual(parsed, { threadId: spec.threadId ?? 41, database: spec.database ?? 'db', errorCode: 0, query: statement }, name);
    const theirs = zongji.decode(event);
    assert.deepEqual([theirs.slaveProxyId, theirs.schema, theirs.query], [parsed.threadId, parsed.database, parsed.query], `${name}: zongji`);
  }
  const withoutChecksum = binlogEvent(BinlogEventType.QUERY, queryBody('COMMIT'), { checksum: false });
  assert.equal(parseQuery(withoutChecksum, false).query, 'COMMIT');
});

test('a query event cut short anywhere before its statement fails', () => {
  const body = queryBody('COMMIT', { database: 'shop' });
  const statementStart = body.length - 'COMMIT'.length;
  for (const event of truncations(BinlogEventType.QUERY, body, statementStart)) assert.throws(() => parseQuery(event, true), RangeError);
  assert.equal(parseQuery(binlogEvent(BinlogEventType.QUERY, body.subarray(0, statementStart)), true).query, '', 'an empty statement is whole');
});

test("MariaDB's compressed payloads: what is wrong with one is named", () => {
  const good = compressedPayload(Buffer.from('COMMIT'));
  assert.equal(inflateEventPayload(good, 'p').toString(), 'COMMIT');
  const cases: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /^q has an unknown header byte 0x0$/],
    ['no compression bit', Buffer.concat([Buffer.from([0x03]), good.subarray(1)]), /unknown header byte 0x3/],
    ['another algorithm', Buffer.concat([Buffer.from([0x93]), good.subarray(1)]), /unknown header byte 0x93/],
    ['a length of five bytes', Buffer.concat([Buffer.from([0x85]), good.subarray(1)]), /unknown header byte 0x85/],
    ['cut inside its length', good.subarray(0, 3), /unknown header byte 0x83/],
    ['a length that is not the inflated one', Buffer.concat([Buffer.from([0x81, 99]), good.subarray(4)]), /^q inflates to 6 bytes, not the 99 it declares$/],
    ['not zlib', Buffer.from([0x81, 6, 1, 2, 3]), /^q does not inflate: /],
  ];
  for (const [name, payload, message] of cases) {
    assert.throws(() => inflateEventPayload(payload, 'q'), (error: unknown) => error instanceof SourceError && message.test(error.message), name);
  }
  const event = binlogEvent(BinlogEventType.MARIADB_QUERY_COMPRESSED, Buffer.concat([queryBody(''), Buffer.from([0x81, 1, 2])]));
  assert.throws(() => parseQuery(event, true), /compressed query event of thread 41 does not inflate/);
});

test('rotate events: the file and offset the binlog goes on at; cut short, they fail', () => {
  const body = Buffer.concat([uint64(4n), Buffer.from('mariadb-bin.000042')]);
  const event = binlogEvent(BinlogEventType.ROTATE, body, { nextPosition: 0 });
  assert.deepEqual(parseRotate(event, true), { position: 4n, file: 'mariadb-bin.000042' });
  const theirs = zongjiDecoder(true).decode(event);
  assert.deepEqual([theirs.binlogName, theirs.position], ['mariadb-bin.000042', 4]);
  assert.equal(parseRotate(binlogEvent(BinlogEventType.ROTATE, body, { checksum: false }), false).file, 'mariadb-bin.000042');
  for (const cut of truncations(BinlogEventType.ROTATE, body, 9)) assert.throws(() => parseRotate(cut, true), RangeError);
});

test('MariaDB GTID events: domain, server (from the header), sequence and FL_STANDALONE; cut short, they fail', () => {
  const cases: [bigint, number, number, number, boolean][] = [
    [1n, 0, 1, 0, false],
    [200_040n, 0, 1, 1, true], // DDL
    [2n ** 63n + 5n, 4_000_000_000, 3, 0x0c, false], // transactional, allow parallel
    [7n, 2, 99, 0x21, true], // standalone DDL flag set
  ];
  const zongji = zongjiDecoder(true);
  for (const [sequence, domain, server, flags, standalone] of cases) {
    const event = binlogEvent(BinlogEventType.MARIADB_GTID, mariadbGtidBody(sequence, domain, flags), { serverId: server });
    const parsed = parseMariadbGtid(event, true);
    assert.deepEqual(parsed, { domain, server, sequence, standalone, gtid: `${domain}-${server}-${sequence}` });
    assert.equal(zongji.decode(event).gtid, parsed.gtid, 'zongji');
  }
  for (const cut of truncations(BinlogEventType.MARIADB_GTID, mariadbGtidBody(1n), 13)) assert.throws(() => parseMariadbGtid(cut, true), RangeError);
});
