import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKey, encodeKey } from '../../src/replay/mysql-reader.js';

test('MySQL keys survive the checkpoint, binary ones as the same bytes', () => {
  const key = [42, '18446744073709551615', Buffer.from([0, 255, 16]), null];
  const text = encodeKey(key);
  assert.equal(text, '[42,"18446744073709551615",{"hex":"00ff10"},null]');
  assert.deepEqual(decodeKey(text), key);
});
