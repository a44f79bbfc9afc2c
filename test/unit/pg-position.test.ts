import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alreadyDelivered, decodePosition, encodePosition, Lsn } from '../../src/sources/postgres/position.js';
import { SourceError } from '../../src/model/errors.js';

test('Lsn parses, prints, compares and converts', () => {
  const lsn = Lsn.parse('16/B374D848');
  assert.equal(lsn.toString(), '16/B374D848');
  assert.equal(lsn.toBigInt(), (0x16n << 32n) | 0xb374d848n);
  assert.equal(Lsn.parse('0/0').toString(), '0/0');
  assert.equal(Lsn.parse('ff/1').toString(), 'FF/1');
  assert.equal(Lsn.of(lsn.toBigInt()).compare(lsn), 0);
  assert.equal(Lsn.parse('1/0').compare(Lsn.parse('0/FFFFFFFF')), 1);
  assert.equal(Lsn.parse('0/10').compare(Lsn.parse('0/11')), -1);
  assert.equal(Lsn.parse('0/10').max(Lsn.parse('0/11')).toString(), '0/11');
});

test('Lsn.bytesSince counts WAL bytes across the 4 GiB boundary and never goes negative', () => {
  assert.equal(Lsn.parse('0/1D9E648').bytesSince(Lsn.parse('0/1D9E5A8')), 0xa0);
  assert.equal(Lsn.parse('1/10').bytesSince(Lsn.parse('0/FFFFFFF0')), 0x20);
  assert.equal(Lsn.parse('16/B374D848').bytesSince(Lsn.ZERO), 0x16b374d848);
  assert.equal(Lsn.parse('0/10').bytesSince(Lsn.parse('0/10')), 0);
  // The server's position read before the last confirmation: no lag, rather than a negative one.
  assert.equal(Lsn.parse('0/10').bytesSince(Lsn.parse('0/11')), 0);
});

test('Lsn rejects malformed text', () => {
  for (const bad of ['', '16', '16/', '/1', 'x/1', '1/2/3', '123456789/0']) {
    assert.throws(() => Lsn.parse(bad), SourceError, bad);
  }
  assert.throws(() => Lsn.of(-1n), RangeError);
});

test('positions round-trip through their string form', () => {
  const cases = [
    { lsn: Lsn.parse('0/1D9E5A8') },
    { lsn: Lsn.parse('0/1D9E5A8'), commitLsn: Lsn.parse('0/1D9E648') },
    { lsn: Lsn.parse('1/0'), snapshot: 'last' as const },
  ];
  for (const position of cases) {
    const decoded = decodePosition(encodePosition(position));
    assert.equal(encodePosition(decoded), encodePosition(position));
  }
  assert.throws(() => decodePosition('nope'), SourceError);
  assert.throws(() => decodePosition('{"x":1}'), SourceError);
});

test('alreadyDelivered skips what a resume position covers and nothing more', () => {
  const at = (text: string): Lsn => Lsn.parse(text);
  // Resumed from a change in the transaction committing at 0/100, change 0/50.
  const mid = { lsn: at('0/50'), commitLsn: at('0/100') };
  assert.equal(alreadyDelivered(mid, at('0/90'), at('0/95')), true, 'earlier commit: delivered whole');
  assert.equal(alreadyDelivered(mid, at('0/100'), at('0/40')), true, 'same transaction, earlier change');
  assert.equal(alreadyDelivered(mid, at('0/100'), at('0/50')), true, 'same transaction, the change itself');
  assert.equal(alreadyDelivered(mid, at('0/100'), at('0/60')), false, 'same transaction, later change');
  assert.equal(alreadyDelivered(mid, at('0/100'), null), false, 'begin/commit of the same transaction are re-sent');
  assert.equal(alreadyDelivered(mid, at('0/110'), at('0/20')), false, 'later commit');
  // Resumed from a commit end or heartbeat at 0/100.
  const end = { lsn: at('0/100') };
  assert.equal(alreadyDelivered(end, at('0/F0'), at('0/10')), true);
  assert.equal(alreadyDelivered(end, at('0/100'), at('0/10')), false);
  // Snapshot positions never skip streamed changes.
  assert.equal(alreadyDelivered({ lsn: at('0/100'), snapshot: 'last' }, at('0/10'), at('0/10')), false);
});
