import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JsonFloat, javaFloatText, printJavaJson } from '../../src/avro/java-json.js';

describe('avro java-json: numbers as Avro Java prints schema defaults', () => {
  it('doubles follow Double.toString', () => {
    const cases: [number, string][] = [
      [1, '1.0'],
      [1.5, '1.5'],
      [-2, '-2.0'],
      [0, '0.0'],
      [-0, '-0.0'],
      [0.001, '0.001'],
      [1e-4, '1.0E-4'],
      [1234567, '1234567.0'],
      [1e7, '1.0E7'],
      [123456789, '1.23456789E8'],
      [1.7976931348623157e308, '1.7976931348623157E308'],
    ];
    for (const [value, text] of cases) assert.equal(javaFloatText(value, false), text, String(value));
  });

  it('floats follow Float.toString (shortest digits for a 32-bit float)', () => {
    assert.equal(javaFloatText(Math.fround(0.1), true), '0.1');
    assert.equal(javaFloatText(Math.fround(3.14159), true), '3.14159');
    assert.equal(javaFloatText(Math.fround(1e10), true), '1.0E10');
  });

  it('prints bigints exactly, non-finite floats quoted, and keys in insertion order', () => {
    assert.equal(
      printJavaJson({ z: 2n ** 63n - 1n, a: [new JsonFloat(NaN, false), null, 'é"'] }),
      '{"z":9223372036854775807,"a":["NaN",null,"é\\""]}',
    );
  });
});

describe('avro java-json: strings as Jackson escapes them', () => {
  it('control characters use upper-case \\u escapes; a literal backslash-u stays as it is', () => {
    assert.equal(printJavaJson('\u001b\n\\u001b'), '"\\u001B\\n\\\\u001b"');
  });
});
