/**
 * Column bytes in each MySQL character set → text. The bytes are MariaDB 10.11's own encoding of the text
 * (SELECT HEX(CONVERT('…' USING <charset>))), so decoding them must give the text back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { textDecoderFor } from '../../src/sources/mysql/charsets.js';

const decode = (charset: string | null, hex: string): string | undefined => {
  const bytes = Buffer.from(`00${hex}00`, 'hex'); // read from inside a larger buffer, as from a row image
  return textDecoderFor(charset)?.(bytes, 1, bytes.length - 1);
};

test('every character set MariaDB encodes text in decodes back to the text', () => {
  const cases: [string, string, string][] = [
    ['utf8mb4', 'é😀', 'C3A9F09F9880'],
    ['utf8mb3', 'é✓', 'C3A9E29C93'],
    ['utf8', 'é', 'C3A9'],
    ['latin1', 'déjà €', '64E96AE02080'],
    ['latin2', 'Zażółć', '5A61BFF3B3E6'],
    ['latin5', 'ğüşİ', 'F0FCFEDD'],
    ['latin7', 'Ąčė', 'C0E8EB'],
    ['greek', 'αβγ', 'E1E2E3'],
    ['hebrew', 'שלום', 'F9ECE5ED'],
    ['cp1250', 'šđčž', '9AF0E89E'],
    ['cp1251', 'абв', 'E0E1E2'],
    ['cp1256', 'سلام', 'D3E1C7E3'],
    ['cp1257', 'Ąčė', 'C0E8EB'],
    ['cp866', 'абв', 'A0A1A2'],
    ['koi8r', 'абв', 'C1C2D7'],
    ['koi8u', 'єіїґ', 'A4A6A7AD'],
    ['macroman', 'café', '6361668E'],
    ['tis620', 'สวัสดี', 'CAC7D1CAB4D5'],
    ['gbk', '你好', 'C4E3BAC3'],
    ['gb2312', '你好', 'C4E3BAC3'],
    ['gb18030', '你好', 'C4E3BAC3'],
    ['big5', '中文', 'A4A4A4E5'],
    ['sjis', 'あいう漢字', '82A082A282A48ABF8E9A'],
    ['cp932', 'あいう漢字', '82A082A282A48ABF8E9A'],
    ['ujis', 'あいう漢字', 'A4A2A4A4A4A6B4C1BBFA'],
    ['eucjpms', 'あいう漢字', 'A4A2A4A4A4A6B4C1BBFA'],
    ['euckr', '한국어', 'C7D1B1B9BEEE'],
    ['ucs2', 'é€', '00E920AC'],
    ['utf16', 'é😀', '00E9D83DDE00'],
    ['utf16le', 'é😀', 'E9003DD800DE'],
    ['utf32', 'é😀', '000000E90001F600'],
    ['ascii', 'abc', '616263'],
  ];
  for (const [charset, text, hex] of cases) assert.equal(decode(charset, hex), text, charset);
});

test("MySQL's latin1 is cp1252 with its five undefined bytes as C1 controls, as the server converts it", () => {
  // SELECT HEX(CONVERT(CONVERT(x'80…9f' USING latin1) USING utf32)) on MariaDB 10.11
  const server =
    '000020AC000000810000201A000001920000201E000020260000202000002021000002C6000020300000016000002039000001520000008D0000017D0000008F' +
    '0000009000002018000020190000201C0000201D000020220000201300002014000002DC00002122000001610000203A000001530000009D0000017E00000178';
  const high = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x80 + i)).toString('hex');
  assert.equal(decode('latin1', high), decode('utf32', server));
  assert.equal(decode('latin1', '41e9ff'), 'Aéÿ', 'the rest is ISO-8859-1');
});

test('binary columns read as utf8, as the snapshot shows them; unknown character sets have no decoder', () => {
  assert.equal(decode(null, 'C3A9'), 'é');
  assert.equal(decode('binary', 'C3A9'), 'é');
  assert.equal(decode('utf32', '0011000000000041'), '\ufffdA', 'a UTF-32 unit beyond Unicode is a replacement character');
  for (const charset of ['armscii8', 'cp850', 'cp852', 'dec8', 'geostd8', 'hp8', 'keybcs2', 'macce', 'swe7']) {
    assert.equal(textDecoderFor(charset), undefined, charset);
  }
});
