import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AvroValueError, frame, unframe } from '../../src/avro/index.js';

describe('avro wire format', () => {
  it('prefixes magic byte 0 and the big-endian schema id', () => {
    const framed = frame(0x01020304, Buffer.from([0xaa, 0xbb]));
    assert.deepEqual([...framed], [0, 1, 2, 3, 4, 0xaa, 0xbb]);
  });

  it('unframe inverts frame, for the largest id and an empty payload too', () => {
    for (const [id, payload] of [
      [1, Buffer.from('hello')],
      [0x7fffffff, Buffer.alloc(0)],
    ] as const) {
      const out = unframe(frame(id, payload));
      assert.equal(out.schemaId, id);
      assert.deepEqual(out.payload, payload);
    }
  });

  it('accepts a plain Uint8Array', () => {
    const bytes = new Uint8Array([9, 9, 9, 0, 0, 0, 0, 5, 7]).subarray(3);
    assert.deepEqual(unframe(bytes), { schemaId: 5, payload: Buffer.from([7]) });
  });

  it('rejects a wrong magic byte, a short message and an impossible id', () => {
    assert.throws(() => unframe(Buffer.from([1, 0, 0, 0, 1, 2])), AvroValueError);
    assert.throws(() => unframe(Buffer.from([0, 0, 0])), /not in Confluent wire format/);
    assert.throws(() => frame(-1, Buffer.alloc(0)), /schema id -1/);
    assert.throws(() => frame(2 ** 31, Buffer.alloc(0)), AvroValueError);
  });
});
