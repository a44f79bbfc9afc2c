/**
 * Decodes binlog bytes captured from MariaDB 10.11 (binlog_checksum=CRC32): CREATE TABLE fixture_t (id INT
 * PRIMARY KEY, name VARCHAR(20), amount DECIMAL(10,2), at DATETIME(6)), then one INSERT, UPDATE and DELETE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  BinlogEventType,
  checksumMatches,
  parseEventHeader,
  parseFormatDescription,
  parseMariadbGtid,
  parseQuery,
  parseRotate,
  parseXid,
  readLengthEncoded,
} from '../../src/sources/mysql/binlog-event.js';

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
