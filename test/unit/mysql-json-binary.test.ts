/**
 * MySQL's binary JSON, from documents built byte by byte the way the server serializes them (sql-common/
 * json_binary.cc), decoded to the text MySQL prints for them (json_dom.cc Json_wrapper::to_string: what SELECT and
 * JSON_EXTRACT(doc, '$') return, so a streamed value equals the snapshot's). Then a rows event's JSON column, which
 * rows-event.ts decodes with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceError } from '../../src/model/errors.js';
import { jsonBinaryToText } from '../../src/sources/mysql/json-binary.js';
import { parseRowsEvent, RowsDecoder } from '../../src/sources/mysql/rows-event.js';
import { toValue } from '../../src/sources/mysql/types.js';
import { binlogEvent } from '../support/binlog-bytes.js';
import { encodeJsonBinary, FieldType, json, variableLength, type JsonNode } from '../support/mysql-json-binary.js';

type Case = readonly [JsonNode, string];

function assertDecodes(cases: readonly Case[]): void {
  for (const [node, expected] of cases) {
    const doc = encodeJsonBinary(node);
    assert.equal(jsonBinaryToText(doc), expected, `${expected} from ${doc.toString('hex').slice(0, 80)}`);
  }
}

const SCALARS: Case[] = [
  [json.null, 'null'],
  [json.true, 'true'],
  [json.false, 'false'],
  [json.int(0), '0'],
  [json.int(-32768), '-32768'],
  [json.int(32767), '32767'],
  [json.int(-2147483648), '-2147483648'],
  [json.int(2147483647), '2147483647'],
  [json.int(2147483648), '2147483648'],
  [json.int(9007199254740993n), '9007199254740993'],
  [json.int(-9223372036854775808n), '-9223372036854775808'],
  [json.int(9223372036854775807n), '9223372036854775807'],
  [json.uint(65535), '65535'],
  [json.uint(4294967295), '4294967295'],
  [json.uint(18446744073709551615n), '18446744073709551615'],
  [json.string(''), '""'],
  [json.string('héllo wörld'), '"héllo wörld"'],
  [json.string('日本語 😀'), '"日本語 😀"'],
  // double_quote(): \b \f \n \r \t by name, other controls as lower-case \u00xx, "/" and DEL left alone.
  [json.string('q"b\\s/\b\f\n\r\t\u0000\u001f\u007f'), '"q\\"b\\\\s/\\b\\f\\n\\r\\t\\u0000\\u001f\u007f"'],
  [json.string('x'.repeat(127)), `"${'x'.repeat(127)}"`],
  [json.string('y'.repeat(128)), `"${'y'.repeat(128)}"`],
  [json.string('z'.repeat(16384)), `"${'z'.repeat(16384)}"`],
];

test('scalars decode to MySQL’s text: literals, every integer width at its extremes, strings with escapes', () => {
  assertDecodes(SCALARS);
  assert.deepEqual(variableLength(127), [0x7f]);
  assert.deepEqual(variableLength(128), [0x80, 0x01]);
  assert.deepEqual(variableLength(16384), [0x80, 0x80, 0x01]);
});

test('doubles print as my_gcvt does, with ".0" when neither a point nor an exponent shows', () => {
  const cases: [number, string][] = [
    [1, '1.0'],
    [0, '0.0'],
    [-0, '-0.0'],
    [100, '100.0'],
    [0.1, '0.1'],
    [-2.5, '-2.5'],
    [123.456, '123.456'],
    [0.30000000000000004, '0.30000000000000004'],
    [1.5e10, '15000000000.0'],
    [1e14, '100000000000000.0'],
    [1e15, '1e15'],
    [-1e15, '-1e15'],
    [1234567890123456.8, '1234567890123456.8'],
    [1.2345678901234568e20, '1.2345678901234568e20'],
    [1e-7, '0.0000001'],
    [1.5e-15, '0.0000000000000015'],
    [1e-15, '0.000000000000001'],
    [1e-16, '1e-16'],
    [-1.5e-300, '-1.5e-300'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e308'],
  ];
  assertDecodes(cases.map(([value, text]) => [json.double(value), text]));
});

const NESTED = json.object({
  id: json.int(42),
  tags: json.array([json.string('a'), json.string('b')]),
  price: json.decimal('9.99', 4, 2),
  ok: json.true,
  none: json.null,
  ratio: json.double(0.5),
  nested: json.object({ deep: json.array([json.int(1), json.array([json.int(2), json.array([json.int(3)])])]) }),
});
const NESTED_TEXT =
  '{"id": 42, "ok": true, "none": null, "tags": ["a", "b"], "price": 9.99, "ratio": 0.5, "nested": {"deep": [1, [2, [3]]]}}';

const WIDTHS = [json.int(-1), json.int(70000), json.int(2n ** 40n), json.uint(65535), json.uint(70000), json.uint(2n ** 63n), json.int(-70000)];
const WIDTHS_TEXT = '[-1, 70000, 1099511627776, 65535, 70000, 9223372036854775808, -70000]';

const CONTAINERS: Case[] = [
  [json.object({}), '{}'],
  [json.array([]), '[]'],
  [json.array([json.array([]), json.object({})]), '[[], {}]'],
  [NESTED, NESTED_TEXT],
  // Keys in MySQL's order, by byte length then bytes, never JavaScript's (integer-like keys first, __proto__ lost).
  [
    json.object([
      ['b', json.int(1)],
      ['10', json.int(2)],
      ['a', json.int(3)],
      ['__proto__', json.object({ x: json.int(4) })],
      ['ab', json.int(5)],
      ['é', json.int(6)],
      ['z', json.int(7)],
      ['', json.int(8)],
    ]),
    '{"": 8, "a": 3, "b": 1, "z": 7, "10": 2, "ab": 5, "é": 6, "__proto__": {"x": 4}}',
  ],
  [json.object({ ключ: json.string('значение'), 名前: json.string('太郎') }), '{"名前": "太郎", "ключ": "значение"}'],
  [json.array(WIDTHS), WIDTHS_TEXT],
  [json.array(WIDTHS, true), WIDTHS_TEXT],
  [json.object({ n: json.array(WIDTHS), m: json.object({ k: json.uint(4294967295) }, true) }, true), `{"m": {"k": 4294967295}, "n": ${WIDTHS_TEXT}}`],
];

test('objects and arrays decode in both storage formats, nested, empty, with unicode keys in MySQL’s key order', () => {
  assertDecodes(CONTAINERS);
  const small = encodeJsonBinary(json.array(WIDTHS));
  const large = encodeJsonBinary(json.array(WIDTHS, true));
  assert.equal(small[0], 0x02);
  assert.equal(large[0], 0x03);
  // 32-bit integers are inlined in the large format only: its header is wider, but its three 32-bit values go inline.
  assert.equal(large.length - small.length, 2 * 2 + WIDTHS.length * 2 - 3 * 4);
});

test('a document past 64 KiB is stored, and read, in the large format', () => {
  const long = 'x'.repeat(70_000);
  const array = encodeJsonBinary(json.array([json.string(long), json.int(1), json.object({ k: json.true })]));
  assert.equal(array[0], 0x03, 'MySQL retries a too-big small array as a large one');
  assert.equal(jsonBinaryToText(array), `["${long}", 1, {"k": true}]`);
  const object = encodeJsonBinary(json.object({ big: json.array([json.string(long)]), small: json.int(2) }));
  assert.equal(object[0], 0x01, 'the too-big child makes its small parent large too');
  assert.equal(jsonBinaryToText(object), `{"big": ["${long}"], "small": 2}`);
});

function blob(length: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i * 37) % 256));
}

const OPAQUES: Case[] = [
  // DECIMAL keeps its declared scale, unquoted (decimal2string).
  [json.decimal('1.50', 5, 2), '1.50'],
  [json.decimal('-1.50', 5, 2), '-1.50'],
  [json.decimal('7', 10, 2), '7.00'],
  [json.decimal('0', 10, 0), '0'],
  [json.decimal('100', 3, 0), '100'],
  [json.decimal('0.0012', 4, 4), '0.0012'],
  [json.decimal('-0.5', 2, 1), '-0.5'],
  [json.decimal('12345678901234567890.0123456789', 30, 10), '12345678901234567890.0123456789'],
  [json.decimal(`-${'9'.repeat(35)}.${'9'.repeat(30)}`, 65, 30), `-${'9'.repeat(35)}.${'9'.repeat(30)}`],
  // Temporals quoted, always with six fractional digits (my_TIME_to_str(…, 6)); a DATE has none.
  [json.date(2024, 2, 29), '"2024-02-29"'],
  [json.date(0, 0, 0), '"0000-00-00"'],
  [json.date(9999, 12, 31), '"9999-12-31"'],
  [json.datetime(2024, 1, 2, 3, 4, 5, 123456), '"2024-01-02 03:04:05.123456"'],
  [json.datetime(1000, 1, 1, 0, 0, 0), '"1000-01-01 00:00:00.000000"'],
  [json.timestamp(2038, 1, 19, 3, 14, 7, 999999), '"2038-01-19 03:14:07.999999"'],
  [json.time(false, 12, 34, 56, 500000), '"12:34:56.500000"'],
  [json.time(false, 0, 0, 0), '"00:00:00.000000"'],
  [json.time(false, 100, 0, 0), '"100:00:00.000000"'],
  [json.time(true, 838, 59, 59), '"-838:59:59.000000"'],
  [json.time(true, 0, 0, 0, 1), '"-00:00:00.000001"'],
  // A VAR_STRING opaque prints as the string it holds; any other type as base64:typeNN:, a newline every 76.
  [json.opaque(FieldType.VAR_STRING, Buffer.from('naïve "q"')), '"naïve \\"q\\""'],
  [json.opaque(FieldType.VARCHAR, Buffer.from('cafe', 'hex')), '"base64:type15:yv4="'],
  [json.opaque(FieldType.BIT, Buffer.from([5])), '"base64:type16:BQ=="'],
  [json.opaque(FieldType.BLOB, blob(57)), `"base64:type252:${blob(57).toString('base64')}"`],
  [
    json.opaque(FieldType.BLOB, blob(100)),
    `"base64:type252:${blob(100).toString('base64').slice(0, 76)}\\n${blob(100).toString('base64').slice(76)}"`,
  ],
  [
    json.array([json.decimal('1.50', 5, 2), json.date(2024, 2, 29), json.opaque(FieldType.VARCHAR, Buffer.from('cafe', 'hex'))]),
    '[1.50, "2024-02-29", "base64:type15:yv4="]',
  ],
];

test('opaque values: DECIMAL, DATE, DATETIME, TIMESTAMP and TIME as MySQL prints them, other types as base64', () => {
  assertDecodes(OPAQUES);
  assert.equal(blob(57).toString('base64').length, 76, 'the 57-byte blob fills one base64 line exactly');
});

test('an empty document is the JSON null literal, as MySQL reads what non-strict mode stores for NULL', () => {
  assert.equal(jsonBinaryToText(Buffer.alloc(0)), 'null');
});

function isMalformed(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof SourceError && pattern.test(error.message) && /columns\.exclude/.test(error.fix ?? '');
}

test('malformed documents fail with an error naming the byte and the problem', () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.from([0x0d]), /byte 1: type 0xd is not a binary JSON type/],
    [Buffer.from([0x04, 0x03]), /literal 0x3 is not null, true or false/],
    [Buffer.from([0x00, 0x01, 0x00, 0x64, 0x00]), /container declares 100 bytes but only 4 remain/],
    [Buffer.from([0x02, 0x0a, 0x00, 0x04, 0x00]), /10 entries do not fit in a container of 4 bytes/],
    [Buffer.from([0x02, 0x01, 0x00, 0x07, 0x00, 0x0c, 0x20, 0x00]), /value offset 32 points outside its container/],
    [Buffer.from([0x00, 0x01, 0x00, 0x0b, 0x00, 0x40, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00]), /key offset 64 points outside its object/],
    [Buffer.from([0x0c, 0x80]), /variable-length size runs past its value/],
    [Buffer.from([0x0c, 0x05, 0x61]), /a string needs 5 bytes but only 1 remain/],
    [Buffer.from([0x0f, 246, 0x03, 0x05, 0x02, 0x80]), /DECIMAL \(5,2\) has 1 value bytes, not 3/],
    [Buffer.from([0x0f, 246, 0x02, 0x46, 0x00]), /DECIMAL \(70,0\) is out of range/],
    [Buffer.from([0x0f, 12, 0x04, 0, 0, 0, 0]), /packed temporal value has 4 bytes, not 8/],
    [Buffer.from([0x0b, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f]), /double Infinity is not a JSON number/],
  ];
  for (const [doc, pattern] of cases) assert.throws(() => jsonBinaryToText(doc), isMalformed(pattern), pattern.source);

  let deepest: JsonNode = json.int(1);
  for (let depth = 1; depth <= 100; depth++) deepest = json.array([deepest]);
  assert.equal(jsonBinaryToText(encodeJsonBinary(deepest)), `${'['.repeat(100)}1${']'.repeat(100)}`);
  assert.throws(() => jsonBinaryToText(encodeJsonBinary(json.array([deepest]))), isMalformed(/nests deeper than MySQL's 100 levels/));
});

test('every truncation of a document is an error, never a shorter value', () => {
  const fixtures = [...SCALARS, ...CONTAINERS, ...OPAQUES].map(([node]) => encodeJsonBinary(node)).filter((doc) => doc.length < 2048);
  fixtures.push(encodeJsonBinary(NESTED), encodeJsonBinary(json.double(0.1)));
  for (const doc of fixtures) {
    for (let cut = 1; cut < doc.length; cut++) {
      assert.throws(() => jsonBinaryToText(doc.subarray(0, cut)), SourceError, `${doc.toString('hex')} cut at ${cut}`);
    }
  }
});

test('toValue passes the snapshot JSON text through', () => {
  assert.equal(toValue({ kind: 'json' }, NESTED_TEXT), NESTED_TEXT);
  assert.equal(toValue({ kind: 'json' }, null), null);
});

/** A WRITE_ROWS_EVENT (v2) for table 77 (id INT, doc JSON), binlog_row_image=FULL. */
function writeRows(rows: readonly (readonly [number, Buffer | null])[]): Buffer {
  const parts: Buffer[] = [Buffer.from([77, 0, 0, 0, 0, 0, 0x01, 0x00, 0x02, 0x00, 0x02, 0b11])];
  for (const [id, doc] of rows) {
    const value = Buffer.alloc(5);
    value.writeUInt8(doc === null ? 0b10 : 0, 0);
    value.writeInt32LE(id, 1);
    parts.push(value);
    if (doc !== null) {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(doc.length);
      parts.push(length, doc);
    }
  }
  return binlogEvent(30, Buffer.concat(parts));
}

test('a JSON column of a rows event reads as the text MySQL prints for it', () => {
  const decoder = new RowsDecoder(
    'shop.docs',
    [
      { name: 'id', type: 3, metadata: {}, charset: null, columnType: 'int', unsigned: false },
      { name: 'doc', type: 245, metadata: { lengthSize: 4 }, charset: null, columnType: 'json', unsigned: false },
    ],
    [
      { name: 'id', type: { kind: 'int32' }, nullable: false, sourceType: 'int' },
      { name: 'doc', type: { kind: 'json' }, nullable: true, sourceType: 'json' },
    ],
  );
  const keyed = encodeJsonBinary(json.object([['b', json.int(1)], ['10', json.timestamp(2024, 1, 2, 3, 4, 5)]]));
  const images = decoder.decode(parseRowsEvent(writeRows([[1, encodeJsonBinary(NESTED)], [2, keyed], [3, null], [4, Buffer.alloc(0)]]), true));
  assert.deepEqual(
    images.map((image) => [image.after!.id, image.after!.doc]),
    [
      [1, NESTED_TEXT],
      [2, '{"b": 1, "10": "2024-01-02 03:04:05.000000"}'],
      [3, null],
      [4, 'null'],
    ],
  );
});
