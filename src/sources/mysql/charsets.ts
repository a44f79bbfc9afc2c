/**
 * Text in a MySQL character set → a JavaScript string. Row images carry each column's bytes in the column's own
 * character set, where query results arrive converted to the connection's utf8mb4, so the binlog reader decodes
 * them itself: utf8 by Buffer, MySQL's latin1 (cp1252) and utf32 here, the rest by the WHATWG decoders of Node's
 * TextDecoder (full ICU).
 */

/** Decodes bytes[start, end). */
export type TextDecode = (bytes: Buffer, start: number, end: number) => string;

const utf8: TextDecode = (bytes, start, end) => bytes.toString('utf8', start, end);

/**
 * MySQL's latin1 is cp1252 with the five bytes cp1252 leaves undefined mapped to the C1 controls of the same code
 * (strings/ctype-latin1.cc). Node's TextDecoder treats every latin1 label as ISO-8859-1, so 0x80–0x9F are mapped
 * here: Buffer's latin1 decoding gives U+0080–U+009F for them, replaced only when one occurs.
 */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
].map((code) => String.fromCharCode(code));
const HAS_C1 = /[\u0080-\u009f]/;
const C1 = /[\u0080-\u009f]/g;

const latin1: TextDecode = (bytes, start, end) => {
  const text = bytes.toString('latin1', start, end);
  return HAS_C1.test(text) ? text.replace(C1, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!) : text;
};

/** UTF-32 as MySQL stores it: big-endian code points. */
const utf32: TextDecode = (bytes, start, end) => {
  let text = '';
  for (let i = start; i + 4 <= end; i += 4) {
    const code = bytes.readUInt32BE(i);
    text += code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
  }
  return text;
};

/** MySQL character set → WHATWG encoding label, for those TextDecoder has. */
const WHATWG: Readonly<Record<string, string>> = {
  big5: 'big5',
  cp1250: 'windows-1250',
  cp1251: 'windows-1251',
  cp1256: 'windows-1256',
  cp1257: 'windows-1257',
  cp866: 'ibm866',
  cp932: 'shift_jis',
  sjis: 'shift_jis',
  eucjpms: 'euc-jp',
  ujis: 'euc-jp',
  euckr: 'euc-kr',
  gb2312: 'gbk',
  gbk: 'gbk',
  gb18030: 'gb18030',
  greek: 'iso-8859-7',
  hebrew: 'iso-8859-8',
  koi8r: 'koi8-r',
  koi8u: 'koi8-u',
  latin2: 'iso-8859-2',
  latin5: 'iso-8859-9',
  latin7: 'iso-8859-13',
  macroman: 'macintosh',
  tis620: 'windows-874',
  ucs2: 'utf-16be',
  utf16: 'utf-16be',
  utf16le: 'utf-16le',
};

const OWN: Readonly<Record<string, TextDecode>> = {
  utf8,
  utf8mb3: utf8,
  utf8mb4: utf8,
  latin1,
  // ASCII is a subset of both; what MySQL rejects on insert cannot appear.
  ascii: latin1,
  utf32,
};

/**
 * The decoder for a column's character set; null (binary) reads as utf8, as the snapshot shows such bytes.
 * undefined for a character set no decoder here knows (armscii8, cp850, cp852, dec8, geostd8, hp8, keybcs2,
 * macce, swe7).
 */
export function textDecoderFor(charset: string | null): TextDecode | undefined {
  if (charset === null || charset === 'binary') return utf8;
  const own = OWN[charset];
  if (own !== undefined) return own;
  const label = WHATWG[charset];
  if (label === undefined) return undefined;
  const decoder = new TextDecoder(label);
  return (bytes, start, end) => decoder.decode(bytes.subarray(start, end));
}
