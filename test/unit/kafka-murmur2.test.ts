import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { murmur2 as platformaticMurmur2 } from '@platformatic/kafka';
import { javaKeyPartition, murmur2 } from '../../src/kafka/murmur2.js';

describe('murmur2', () => {
  // Kafka's UtilsTest.testMurmur2.
  const java: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [text, hash] of java) {
    it(`hashes "${text}" as Java does`, () => assert.equal(murmur2(Buffer.from(text)), hash));
  }

  it('agrees with @platformatic/kafka for every length up to 70 and bytes of every value', () => {
    for (let length = 0; length <= 70; length++) {
      for (let round = 0; round < 20; round++) {
        const data = round === 0 ? Buffer.alloc(length, 0xff) : randomBytes(length);
        assert.equal(murmur2(data), platformaticMurmur2(data), `${data.toString('hex')}`);
      }
    }
  });
});

describe('javaKeyPartition', () => {
  it('is the hash made positive modulo the partition count, and 0 for a keyless record', () => {
    const key = Buffer.from('foobar');
    assert.equal(javaKeyPartition(key, 1), 0);
    assert.equal(javaKeyPartition(key, 1000), (-790332482 & 0x7fffffff) % 1000);
    assert.equal(javaKeyPartition(null, 3), 0);
  });
});
