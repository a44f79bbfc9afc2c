/**
 * The compiled writers against avsc's own encoding of the same values, and the slab output's framing: earlier
 * records keep their bytes, records larger than a slab get one of their own.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import { newTap, SlabOutput, writerFor, type Tap } from '../../src/avro/compiled-writer.js';
import { typeFromJson } from '../../src/avro/avro-type.js';
import { AvroValueError, unframe } from '../../src/avro/index.js';

const schema = {
  type: 'record',
  name: 'Outer',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: ['null', 'string'] },
    { name: 'flag', type: [{ type: 'boolean' }, 'null'], default: true },
    { name: 'amount', type: ['null', 'bytes'] },
    { name: 'score', type: ['null', 'double'] },
    { name: 'big', type: ['null', { type: 'long', 'connect.type': 'int64' }] },
    { name: 'tags', type: ['null', { type: 'array', items: 'string' }] },
    {
      name: 'inner',
      type: ['null', { type: 'record', name: 'Inner', fields: [{ name: 'x', type: 'int' }, { name: 'y', type: ['null', 'long'] }] }],
    },
  ],
};

const values = [
  { id: 1n, name: 'a', flag: true, amount: Buffer.from([1, 2]), score: 1.5, big: 9_007_199_254_740_993n, tags: ['x'], inner: { x: 1, y: 2n } },
  { id: -5n, name: null, flag: null, amount: null, score: null, big: null, tags: null, inner: null },
  { id: 2n ** 63n - 1n, name: 'ü€😀', flag: false, amount: Buffer.alloc(0), score: Number.NaN, big: -(2n ** 63n), tags: [], inner: { x: -1, y: null } },
];

function compiledBytes(type: avro.Type, value: unknown): Buffer {
  const tap: Tap = newTap(Buffer.alloc(1024), 0);
  writerFor(type)(tap, value);
  return tap.buf.subarray(0, tap.pos);
}

describe('writerFor', () => {
  const type = typeFromJson(schema as never);
  for (const [i, value] of values.entries()) {
    it(`writes value ${i} byte for byte as avsc does`, () => {
      assert.deepEqual(compiledBytes(type, value), type.toBuffer(value));
      assert.deepEqual(type.fromBuffer(compiledBytes(type, value)), type.fromBuffer(type.toBuffer(value)));
    });
  }
});

describe('wide longs', () => {
  // avsc's own long (a double) is exact only to 2^53: the reference is the zigzag varint computed in bigint.
  function varint(n: bigint): Buffer {
    let zigzag = n >= 0n ? n << 1n : (-n << 1n) - 1n;
    const bytes: number[] = [];
    while (zigzag > 0x7fn) {
      bytes.push(Number(zigzag & 0x7fn) | 0x80);
      zigzag >>= 7n;
    }
    bytes.push(Number(zigzag));
    return Buffer.from(bytes);
  }

  it('writes values beyond 52 bits exactly, also repeated and alternating, as the split cache sees them', () => {
    const type = typeFromJson('long' as never);
    const ns = 1_700_000_000_123_456_789n;
    const sequence = [ns, ns, ns + 1_000_000n, ns, -(2n ** 63n), 2n ** 63n - 1n, ns + 1_000_000n, 2n ** 52n, -(2n ** 52n), 0n, ns];
    for (const n of sequence) {
      assert.deepEqual(compiledBytes(type, n), varint(n), String(n));
      assert.equal(type.fromBuffer(compiledBytes(type, n)), n);
    }
  });
});

describe('SlabOutput', () => {
  const type = avro.Type.forSchema('string');
  const write = writerFor(type) as (tap: Tap, s: string) => void;

  it('frames each record and keeps earlier records intact when the slab fills up', () => {
    const output = new SlabOutput(64);
    const records = Array.from({ length: 50 }, (_, i) => ({ text: `record-${i}-${'x'.repeat(i % 7)}`, bytes: output.framed(i, write, `record-${i}-${'x'.repeat(i % 7)}`) }));
    for (const [i, { text, bytes }] of records.entries()) {
      const { schemaId, payload } = unframe(bytes);
      assert.equal(schemaId, i);
      assert.equal(type.fromBuffer(payload), text);
    }
  });

  it('gives a record larger than a slab its own buffer', () => {
    const output = new SlabOutput(16);
    const small = output.framed(1, write, 'abc');
    const large = output.framed(2, write, 'y'.repeat(1000));
    assert.equal(type.fromBuffer(unframe(large).payload), 'y'.repeat(1000));
    assert.equal(type.fromBuffer(unframe(small).payload), 'abc');
  });

  it('refuses a schema id outside the registry range', () => {
    assert.throws(() => new SlabOutput().framed(-1, write, 'a'), AvroValueError);
  });
});
