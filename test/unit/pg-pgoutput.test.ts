import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePgoutput, pgTimeToEpochMs, PgoutputDecodeError, UNCHANGED_TOAST } from '../../src/sources/postgres/pgoutput.js';
import { Lsn } from '../../src/sources/postgres/position.js';

/** Builds message bytes field by field. */
class Bytes {
  private readonly parts: Buffer[] = [];
  u8(value: number): this {
    this.parts.push(Buffer.from([value]));
    return this;
  }
  char(text: string): this {
    return this.u8(text.charCodeAt(0));
  }
  i16(value: number): this {
    const buffer = Buffer.alloc(2);
    buffer.writeInt16BE(value);
    this.parts.push(buffer);
    return this;
  }
  i32(value: number): this {
    const buffer = Buffer.alloc(4);
    buffer.writeInt32BE(value);
    this.parts.push(buffer);
    return this;
  }
  i64(value: bigint): this {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64BE(value);
    this.parts.push(buffer);
    return this;
  }
  str(text: string): this {
    this.parts.push(Buffer.from(`${text}\0`, 'utf8'));
    return this;
  }
  text(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    this.char('t').i32(bytes.length);
    this.parts.push(bytes);
    return this;
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const tupleBytes = (bytes: Bytes): Bytes => bytes.i16(4).text('42').char('n').char('u').text('héllo');
const TUPLE = ['42', null, UNCHANGED_TOAST, 'héllo'];

const CASES: { name: string; bytes: Buffer; expected: unknown }[] = [
  {
    name: 'begin',
    bytes: new Bytes().char('B').i64(0x1d9e648n).i64(817_000_000_000_000n).i32(730).build(),
    expected: { tag: 'begin', finalLsn: Lsn.parse('0/1D9E648'), commitTimeUs: 817_000_000_000_000n, xid: 730 },
  },
  {
    name: 'commit',
    bytes: new Bytes().char('C').u8(0).i64(0x1d9e648n).i64(0x1d9e678n).i64(5n).build(),
    expected: { tag: 'commit', flags: 0, commitLsn: Lsn.parse('0/1D9E648'), endLsn: Lsn.parse('0/1D9E678'), commitTimeUs: 5n },
  },
  {
    name: 'relation',
    bytes: new Bytes().char('R').i32(16384).str('public').str('t').char('f').i16(2).u8(1).str('id').i32(23).i32(-1).u8(0).str('ts').i32(1184).i32(3).build(),
    expected: {
      tag: 'relation',
      oid: 16384,
      schema: 'public',
      name: 't',
      replicaIdentity: 'full',
      columns: [
        { flags: 1, name: 'id', typeOid: 23, typeMod: -1 },
        { flags: 0, name: 'ts', typeOid: 1184, typeMod: 3 },
      ],
    },
  },
  {
    name: 'type',
    bytes: new Bytes().char('Y').i32(70000).str('public').str('mood').build(),
    expected: { tag: 'type', oid: 70000, schema: 'public', name: 'mood' },
  },
  {
    name: 'insert',
    bytes: tupleBytes(new Bytes().char('I').i32(16384).char('N')).build(),
    expected: { tag: 'insert', relation: 16384, newTuple: TUPLE },
  },
  {
    name: 'update without old row',
    bytes: tupleBytes(new Bytes().char('U').i32(16384).char('N')).build(),
    expected: { tag: 'update', relation: 16384, oldTuple: null, oldIsKeyOnly: false, newTuple: TUPLE },
  },
  {
    name: 'update with full old row',
    bytes: tupleBytes(tupleBytes(new Bytes().char('U').i32(16384).char('O')).char('N')).build(),
    expected: { tag: 'update', relation: 16384, oldTuple: TUPLE, oldIsKeyOnly: false, newTuple: TUPLE },
  },
  {
    name: 'update with old key',
    bytes: tupleBytes(tupleBytes(new Bytes().char('U').i32(16384).char('K')).char('N')).build(),
    expected: { tag: 'update', relation: 16384, oldTuple: TUPLE, oldIsKeyOnly: true, newTuple: TUPLE },
  },
  {
    name: 'delete by key',
    bytes: tupleBytes(new Bytes().char('D').i32(16384).char('K')).build(),
    expected: { tag: 'delete', relation: 16384, oldTuple: TUPLE, oldIsKeyOnly: true },
  },
  {
    name: 'truncate',
    bytes: new Bytes().char('T').i32(2).u8(1).i32(16384).i32(16390).build(),
    expected: { tag: 'truncate', options: 1, relations: [16384, 16390] },
  },
  {
    name: 'origin',
    bytes: new Bytes().char('O').i64(7n).str('node1').build(),
    expected: { tag: 'origin', originLsn: Lsn.of(7n), name: 'node1' },
  },
  {
    name: 'logical message',
    bytes: new Bytes().char('M').u8(1).i64(9n).str('pfx').i32(2).u8(0xaa).u8(0xbb).build(),
    expected: { tag: 'message', flags: 1, lsn: Lsn.of(9n), prefix: 'pfx', content: new Uint8Array([0xaa, 0xbb]) },
  },
];

for (const { name, bytes, expected } of CASES) {
  test(`decodes ${name}`, () => {
    assert.deepEqual(decodePgoutput(bytes), expected);
  });

  test(`${name}: a message cut at any byte boundary is rejected, not misread`, () => {
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.throws(() => decodePgoutput(bytes.subarray(0, cut)), PgoutputDecodeError, `cut at ${cut} of ${bytes.length}`);
    }
    assert.throws(() => decodePgoutput(Buffer.concat([bytes, Buffer.from([0])])), PgoutputDecodeError, 'trailing byte');
  });
}

test('rejects unknown message codes, tuple kinds and binary values', () => {
  assert.throws(() => decodePgoutput(Buffer.from('Z')), /unknown pgoutput message code 0x5a/);
  assert.throws(() => decodePgoutput(new Bytes().char('I').i32(1).char('N').i16(1).char('x').build()), /tuple value kind/);
  assert.throws(() => decodePgoutput(new Bytes().char('I').i32(1).char('N').i16(1).char('b').i32(0).build()), /binary/);
  assert.throws(() => decodePgoutput(new Bytes().char('I').i32(1).char('K').i16(0).build()), /expected pgoutput tuple marker/);
});

test('commit times convert from the PostgreSQL epoch', () => {
  assert.equal(pgTimeToEpochMs(0n), Date.UTC(2000, 0, 1));
  assert.equal(pgTimeToEpochMs(1_500n), Date.UTC(2000, 0, 1) + 1);
});
