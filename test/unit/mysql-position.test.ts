import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceError } from '../../src/model/errors.js';
import {
  advanceGtids,
  binlogDistance,
  checkpointSerializer,
  compareCoordinates,
  MariadbGtidPosition,
  MysqlGtidSet,
  parseCheckpoint,
  parseMariadbGtid,
  serializeCheckpoint,
} from '../../src/sources/mysql/position.js';

test('binlog coordinates order by file number, then offset', () => {
  const cases: [string, number, string, number, number][] = [
    ['mariadb-bin.000001', 900, 'mariadb-bin.000002', 4, -1],
    ['mariadb-bin.000010', 4, 'mariadb-bin.000009', 900, 1],
    ['mariadb-bin.000003', 100, 'mariadb-bin.000003', 100, 0],
    ['mariadb-bin.999999', 5, 'mariadb-bin.1000000', 4, -1],
  ];
  for (const [fa, pa, fb, pb, sign] of cases) {
    assert.equal(Math.sign(compareCoordinates({ file: fa, pos: pa }, { file: fb, pos: pb })), sign, `${fa}:${pa} vs ${fb}:${pb}`);
  }
  assert.throws(() => compareCoordinates({ file: 'nonumber', pos: 4 }, { file: 'x.000001', pos: 4 }), SourceError);
});

test('MariaDB GTID positions parse, advance per domain and serialize sorted by domain', () => {
  assert.deepEqual(parseMariadbGtid('0-1-42'), { domain: 0, server: 1, sequence: 42n });
  assert.throws(() => parseMariadbGtid('0-1'), SourceError);
  const pos = MariadbGtidPosition.parse('1-2-10,0-1-5');
  assert.equal(pos.toString(), '0-1-5,1-2-10');
  assert.equal(pos.with(parseMariadbGtid('0-1-6')).toString(), '0-1-6,1-2-10');
  assert.equal(pos.with(parseMariadbGtid('2-3-1')).toString(), '0-1-5,1-2-10,2-3-1');
  assert.equal(MariadbGtidPosition.parse('').toString(), '');
  assert.ok(pos.covers(parseMariadbGtid('0-1-5')));
  assert.ok(!pos.covers(parseMariadbGtid('0-1-6')));
  assert.ok(!pos.covers(parseMariadbGtid('0-9-1')), 'another server in the domain is not ordered against the watermark');
  assert.ok(!pos.covers(parseMariadbGtid('5-1-1')));
  assert.equal(MariadbGtidPosition.parse('0-1-18446744073709551615').toString(), '0-1-18446744073709551615');
  assert.throws(() => MariadbGtidPosition.parse('0-1-5,0-2-6'), /twice/);
});

test('MySQL GTID sets parse the documented forms, merge intervals and add transactions', () => {
  const uuid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
  const other = '4f22ab58-82db-22f2-af44-d91bb0530673';
  assert.equal(MysqlGtidSet.parse(`${uuid}:1-5`).toString(), `${uuid}:1-5`);
  assert.equal(MysqlGtidSet.parse(`${uuid}:1-3:11:47-49`).toString(), `${uuid}:1-3:11:47-49`);
  assert.equal(MysqlGtidSet.parse(`${uuid}:1-3:4-5, ${uuid.toUpperCase()}:7`).toString(), `${uuid}:1-5:7`);
  assert.equal(MysqlGtidSet.parse(`${other}:1,\n${uuid}:2`).toString(), `${uuid}:2,${other}:1`);
  const set = MysqlGtidSet.parse(`${uuid}:1-5:7`);
  assert.equal(set.with(`${uuid}:6`).toString(), `${uuid}:1-7`);
  assert.ok(set.contains(`${uuid}:7`));
  assert.ok(!set.contains(`${uuid}:6`));
  assert.ok(set.containsAll(MysqlGtidSet.parse(`${uuid}:2-4`)));
  assert.ok(!set.containsAll(MysqlGtidSet.parse(`${uuid}:5-6`)));
  assert.throws(() => MysqlGtidSet.parse(`${uuid}:5-3`), /ends before/);
  assert.throws(() => MysqlGtidSet.parse('not-a-uuid:1'), SourceError);
});

test('advanceGtids picks the flavour from the GTID form', () => {
  assert.equal(advanceGtids('0-1-5', '0-1-6'), '0-1-6');
  assert.equal(advanceGtids('', '0-1-1'), '0-1-1');
  const uuid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
  assert.equal(advanceGtids(`${uuid}:1-5`, `${uuid}:6`), `${uuid}:1-6`);
});

test('checkpoints round-trip through their JSON form and reject malformed text with the way out', () => {
  const cp = { file: 'mariadb-bin.000002', pos: 1234, gtids: '0-1-9', skip: 2 };
  assert.deepEqual(parseCheckpoint(serializeCheckpoint(cp)), cp);
  const snap = { ...cp, skip: 0, snapshot: true as const };
  assert.deepEqual(parseCheckpoint(serializeCheckpoint(snap)), snap);
  assert.deepEqual(parseCheckpoint(serializeCheckpoint({ ...cp, gtids: null })), { ...cp, gtids: null });
  for (const bad of ['nope', '{"file":"x"}', 'null', '{"file":"a.1","pos":"4","gtids":null,"skip":0}']) {
    assert.throws(
      () => parseCheckpoint(bad),
      (e: unknown) => e instanceof SourceError && /checkpoint/.test(e.fix ?? ''),
      bad,
    );
  }
});

test('binlog distance: bytes within one file and across files, the files between counted', () => {
  const logs = [
    { file: 'bin.000001', size: 1000 },
    { file: 'bin.000002', size: 2000 },
    { file: 'bin.000003', size: 3000 },
  ];
  const at = (file: string, pos: number) => ({ file, pos });
  assert.deepEqual(binlogDistance(logs, at('bin.000003', 700), at('bin.000003', 300)), { bytes: 400, files: 0, purged: false });
  assert.deepEqual(binlogDistance(logs, at('bin.000003', 700), at('bin.000001', 400)), { bytes: 600 + 2000 + 700, files: 2, purged: false });
  assert.deepEqual(binlogDistance(logs, at('bin.000002', 4), at('bin.000001', 1000)), { bytes: 4, files: 1, purged: false });
  assert.deepEqual(binlogDistance(logs, at('bin.000003', 700), at('bin.000003', 700)), { bytes: 0, files: 0, purged: false });
  // The current file not listed yet (it rotated between the two reads): every byte of the last listed file counts.
  assert.deepEqual(binlogDistance(logs, at('bin.000004', 120), at('bin.000002', 500)), { bytes: 1500 + 3000, files: 1, purged: false });
});

test('binlog distance within one file needs no file list, and is never negative', () => {
  assert.deepEqual(binlogDistance([], { file: 'bin.000009', pos: 5000 }, { file: 'bin.000009', pos: 1200 }), { bytes: 3800, files: 0, purged: false });
  // A confirmed position measured against an older reading of the server's end: zero, not negative.
  assert.deepEqual(binlogDistance([], { file: 'bin.000009', pos: 1200 }, { file: 'bin.000009', pos: 5000 }), { bytes: 0, files: 0, purged: false });
  const logs = [{ file: 'bin.000009', size: 6000 }];
  assert.deepEqual(binlogDistance(logs, { file: 'bin.000009', pos: 1200 }, { file: 'bin.000010', pos: 300 }), { bytes: null, files: 0, purged: false });
});

test('binlog distance flags a confirmed file the server already purged', () => {
  const logs = [
    { file: 'bin.000002', size: 2000 },
    { file: 'bin.000003', size: 3000 },
  ];
  assert.deepEqual(binlogDistance(logs, { file: 'bin.000003', pos: 700 }, { file: 'bin.000001', pos: 400 }), { bytes: null, files: 2, purged: true });
});

test('checkpointSerializer writes what serializeCheckpoint writes, for every skip', () => {
  const starts = [
    { file: 'mariadb-bin.000002', pos: 1234, gtids: '0-1-9', skip: 0 },
    { file: 'binlog.000001', pos: 4, gtids: null, skip: 7 },
    { file: 'we"ird\\name.000003', pos: 99, gtids: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5', skip: 0 },
    { file: 'mariadb-bin.000002', pos: 1234, gtids: '0-1-9', skip: 0, snapshot: true as const },
  ];
  for (const start of starts) {
    const after = checkpointSerializer(start);
    for (const skip of [0, 1, 10, 123_456]) assert.equal(after(skip), serializeCheckpoint({ ...start, skip }), `${start.file} ${skip}`);
  }
});
