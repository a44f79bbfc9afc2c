/**
 * MySQL GTIDs, from bytes built per the MySQL source (libs/mysql/binlog/event/control_events.cpp Gtid_event,
 * sql/rpl_gtid_set.cc Gtid_set::encode): Gtid_log_event and Anonymous_gtid_log_event in every layout a server
 * writes, and the tagged Gtid_tagged_log_event (MySQL 8.3+), read by our parsers and by zongji (the decoder the
 * binlog client ran before them), Previous_gtids and the set encoding zongji sends to resume; and GTID set text as
 * @@gtid_executed prints it, tags included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GtidSet } from '@vlasky/zongji';
import { SourceError } from '../../src/model/errors.js';
import { BinlogEventType, checksumMatches, decodeGtidSet, parseMysqlGtid, parsePreviousGtids, parseTaggedGtid } from '../../src/sources/mysql/binlog-event.js';
import { advanceGtids, MysqlGtidSet } from '../../src/sources/mysql/position.js';
import { binlogEvent, taggedGtidBody, uint64, uuidBytes, varint, type TaggedGtidSpec } from '../support/binlog-bytes.js';
import { zongjiDecoder } from '../support/zongji-decode.js';

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = '4f22ab58-82db-22f2-af44-d91bb0530673';

interface GtidFields {
  readonly flags?: number;
  readonly uuid?: string;
  readonly gno: bigint;
  /** last_committed, sequence_number (5.7.6+). */
  readonly clock?: readonly [bigint, bigint];
  /** immediate and, when it differs, original commit timestamps (8.0.1+). */
  readonly commit?: readonly [bigint, bigint?];
  /** transaction_length (8.0.2+), then immediate and original server versions, then the commit group ticket. */
  readonly length?: number;
  readonly versions?: readonly [number, number?];
  readonly ticket?: bigint;
}

function int64(value: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigInt64LE(value);
  return out;
}

function uint56(value: bigint): Buffer {
  return uint64(value).subarray(0, 7);
}

/** A Gtid_event body, fields in the order Gtid_event::write_data_header/body put them. */
function gtidBody(f: GtidFields): Buffer {
  const parts = [Buffer.from([f.flags ?? 1]), uuidBytes(f.uuid ?? A), int64(f.gno)];
  if (f.clock !== undefined) parts.push(Buffer.from([2]), int64(f.clock[0]), int64(f.clock[1]));
  if (f.commit !== undefined) {
    const [immediate, original] = f.commit;
    parts.push(uint56(original === undefined ? immediate : immediate | (1n << 55n)));
    if (original !== undefined) parts.push(uint56(original));
  }
  if (f.length !== undefined) parts.push(f.length < 251 ? Buffer.from([f.length]) : Buffer.from([0xfc, f.length & 0xff, f.length >> 8]));
  if (f.versions !== undefined) {
    const [immediate, original] = f.versions;
    const word = Buffer.alloc(4);
    word.writeUInt32LE(original === undefined ? immediate : (immediate | 0x8000_0000) >>> 0);
    parts.push(word);
    if (original !== undefined) {
      const orig = Buffer.alloc(4);
      orig.writeUInt32LE(original);
      parts.push(orig);
    }
  }
  if (f.ticket !== undefined) parts.push(uint64(f.ticket));
  return Buffer.concat(parts);
}

const LAYOUTS: [string, GtidFields, Partial<ReturnType<typeof parseMysqlGtid>>][] = [
  ['5.6: flags, SID, GNO', { gno: 1n }, { lastCommitted: null, sequenceNumber: null, immediateCommitMicros: null }],
  ['5.7: with the logical clock', { gno: 7n, clock: [5n, 6n] }, { lastCommitted: 5n, sequenceNumber: 6n, immediateCommitMicros: null }],
  [
    '8.0: committed here, with length and versions',
    { gno: 8n, clock: [6n, 7n], commit: [1_700_000_000_123_456n], length: 300, versions: [80036] },
    { lastCommitted: 6n, immediateCommitMicros: 1_700_000_000_123_456n, originalCommitMicros: 1_700_000_000_123_456n, transactionLength: 300 },
  ],
  [
    '8.0: replicated, both timestamps and versions, commit ticket',
    { flags: 0, gno: 9n, clock: [0n, 1n], commit: [1_700_000_000_500_000n, 1_699_999_999_000_001n], length: 77, versions: [80036, 80035], ticket: 3n },
    { flags: 0, immediateCommitMicros: 1_700_000_000_500_000n, originalCommitMicros: 1_699_999_999_000_001n, transactionLength: 77 },
  ],
  ['GNO beyond 2^53', { gno: 2n ** 53n + 1n, clock: [1n, 2n] }, { gno: 2n ** 53n + 1n }],
  ['largest GNO MySQL hands out', { uuid: B, gno: 2n ** 63n - 2n, clock: [1n, 2n] }, { uuid: B, gno: 2n ** 63n - 2n }],
];

test('Gtid_log_event in every server layout: our parser and zongji read the same GTID', () => {
  const zongji = zongjiDecoder(true);
  for (const [name, fields, expected] of LAYOUTS) {
    const event = binlogEvent(BinlogEventType.GTID, gtidBody(fields));
    assert.ok(checksumMatches(event), name);
    const parsed = parseMysqlGtid(event, true);
    const uuid = fields.uuid ?? A;
    assert.deepEqual(
      { ...parsed, ...expected },
      parsed,
      `${name}: ${JSON.stringify(parsed, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
    );
    assert.equal(parsed.gtid, `${uuid}:${fields.gno}`, name);
    assert.equal(parsed.flags, fields.flags ?? 1, name);
    const decoded = zongji.decode(event);
    assert.equal(decoded.gtid, parsed.gtid, `${name}: zongji`);
    assert.equal(String(decoded.gno), String(fields.gno), `${name}: zongji's GNO is exact`);
    // What the stream does with it at commit.
    const before = fields.gno === 1n ? '' : `${uuid}:1-${fields.gno - 1n}`;
    assert.equal(advanceGtids(before, String(decoded.gtid)), fields.gno === 1n ? `${uuid}:1` : `${uuid}:1-${fields.gno}`, name);
  }
});

test('a GTID event without a checksum, an anonymous GTID, and out-of-range GNOs', () => {
  const plain = binlogEvent(BinlogEventType.GTID, gtidBody({ gno: 42n, clock: [1n, 2n] }), { checksum: false });
  assert.equal(parseMysqlGtid(plain, false).gtid, `${A}:42`);
  assert.equal(zongjiDecoder(false).decode(plain).gtid, `${A}:42`);

  const anonymous = binlogEvent(BinlogEventType.ANONYMOUS_GTID, gtidBody({ uuid: '00000000-0000-0000-0000-000000000000', gno: 0n, clock: [3n, 4n] }));
  assert.deepEqual(
    [parseMysqlGtid(anonymous, true).gtid, parseMysqlGtid(anonymous, true).sequenceNumber],
    [null, 4n],
    'gtid_mode OFF: no GTID, the logical clock still there',
  );

  for (const [type, gno] of [
    [BinlogEventType.GTID, 0n],
    [BinlogEventType.GTID, 2n ** 63n - 1n],
    [BinlogEventType.GTID, -1n],
    [BinlogEventType.ANONYMOUS_GTID, 1n],
  ] as const) {
    assert.throws(() => parseMysqlGtid(binlogEvent(type, gtidBody({ gno })), true), /invalid GNO/, `${type} ${gno}`);
  }
});

test('mysql::serialization varints: one to nine bytes, the count of bytes that follow in the first one', () => {
  const cases: [bigint, number[]][] = [
    [0n, [0x00]],
    [1n, [0x02]],
    [127n, [0xfe]],
    [128n, [0x01, 0x02]],
    [2n ** 14n - 1n, [0xfd, 0xff]],
    [2n ** 14n, [0x03, 0x00, 0x02]],
    [2n ** 56n - 1n, [0x7f, ...Array<number>(7).fill(0xff)]],
    [2n ** 56n, [0xff, 0, 0, 0, 0, 0, 0, 0, 1]],
    [2n ** 64n - 1n, [0xff, ...Array<number>(8).fill(0xff)]],
  ];
  for (const [value, bytes] of cases) assert.deepEqual([...varint(value)], bytes, String(value));
});

const TAGGED: [string, TaggedGtidSpec, string][] = [
  ['a tag, no flags field (default 0)', { uuid: A, gno: 1n, tag: 'tag_a' }, `${A}:tag_a:1`],
  ['flags, a long tag and the fields after it', { flags: 1, uuid: B, gno: 300n, tag: 't'.repeat(32), more: [[4, varint(10n)], [5, varint(22n)], [6, varint(2n ** 55n)], [8, varint(900n)], [11, varint(3n)]] }, `${B}:${'t'.repeat(32)}:300`],
  ['no tag (the server writes the untagged form then, but the layout allows it)', { flags: 0, uuid: A, gno: 5n }, `${A}:5`],
  ['the largest GNO', { uuid: A, gno: 2n ** 63n - 2n, tag: 'x' }, `${A}:x:9223372036854775806`],
  ['an older reader may skip what follows', { uuid: A, gno: 9n, tag: 'x', lastNonIgnorable: 3, more: [[12, varint(1n)]] }, `${A}:x:9`],
];

test('Gtid_tagged_log_event: our parser and zongji read the same GTID', () => {
  const zongji = zongjiDecoder(true);
  for (const [name, spec, gtid] of TAGGED) {
    const event = binlogEvent(BinlogEventType.GTID_TAGGED, taggedGtidBody(spec));
    const parsed = parseTaggedGtid(event, true);
    assert.deepEqual(parsed, { flags: spec.flags ?? 0, uuid: spec.uuid, tag: spec.tag ?? '', gno: spec.gno, gtid }, name);
    assert.equal(zongji.decode(event).gtid, gtid, `${name}: zongji`);
    assert.equal(advanceGtids(`${spec.uuid}:1-2`, gtid), MysqlGtidSet.parse(`${spec.uuid}:1-2,${gtid}`).toString(), `${name}: checkpointed`);
  }
  const plain = binlogEvent(BinlogEventType.GTID_TAGGED, taggedGtidBody(TAGGED[0]![1]), { checksum: false });
  assert.equal(parseTaggedGtid(plain, false).gtid, TAGGED[0]![2]);
});

test('a tagged GTID event that is cut short, of another format, or out of range fails naming what is wrong', () => {
  const body = taggedGtidBody({ flags: 1, uuid: A, gno: 7n, tag: 'tag_a' });
  for (let cut = 0; cut < body.length; cut++) {
    assert.throws(() => parseTaggedGtid(binlogEvent(BinlogEventType.GTID_TAGGED, body.subarray(0, cut)), true), RangeError, `cut at ${cut}`);
  }
  const cases: [string, Buffer, RegExp][] = [
    ['format version 2', taggedGtidBody({ uuid: A, gno: 1n, version: 2 }), /serialization format version 2, not 1/],
    ['a field this reader must know', taggedGtidBody({ uuid: A, gno: 1n, lastNonIgnorable: 12 }), /needs field 12 to be read/],
    ['GNO 0', taggedGtidBody({ uuid: A, gno: 0n, tag: 'x' }), /invalid GNO 0/],
    ['negative GNO', taggedGtidBody({ uuid: A, gno: -3n, tag: 'x' }), /invalid GNO -3/],
    ['GNO 2^63 - 1', taggedGtidBody({ uuid: A, gno: 2n ** 63n - 1n, tag: 'x' }), /invalid GNO 9223372036854775807/],
    ['a tag of 33 bytes', taggedGtidBody({ uuid: A, gno: 1n, tag: 't'.repeat(33) }), /tag of 33 bytes, longer than 32/],
    ['no UUID', Buffer.from([0x02, 0x08, 0x16, 0x04, 0x02]), /has no source UUID/],
  ];
  for (const [name, bad, message] of cases) {
    assert.throws(() => parseTaggedGtid(binlogEvent(BinlogEventType.GTID_TAGGED, bad, { nextPosition: 555 }), true), (error: unknown) => error instanceof RangeError && /tagged GTID event ending at 555/.test(error.message) && message.test(error.message), name);
  }
});

/** Gtid_set::encode: untagged (format 0) or tagged (format 1) with a tag on every source. */
function encodedSet(tagged: boolean, sources: readonly [string, string, readonly (readonly [bigint, bigint])[]][]): Buffer {
  const head = tagged ? (1n << 56n) | (BigInt(sources.length) << 8n) | 1n : BigInt(sources.length);
  const parts = [uint64(head)];
  for (const [uuid, tag, intervals] of sources) {
    parts.push(uuidBytes(uuid));
    if (tagged) parts.push(Buffer.from([tag.length << 1]), Buffer.from(tag, 'latin1'));
    parts.push(uint64(BigInt(intervals.length)));
    for (const [start, end] of intervals) parts.push(uint64(start), uint64(end + 1n));
  }
  return Buffer.concat(parts);
}

test('Previous_gtids_log_event: untagged, tagged and empty sets read as @@gtid_executed prints them', () => {
  const zongji = zongjiDecoder(true);
  const cases: [Buffer, string][] = [
    [
      encodedSet(false, [
        [A, '', [[1n, 5n], [11n, 18n]]],
        [B, '', [[1n, 27n]]],
      ]),
      `${A}:1-5:11-18,${B}:1-27`,
    ],
    [
      encodedSet(true, [
        [A, '', [[1n, 5n]]],
        [A, 'tag_a', [[1n, 1n], [3n, 9n]]],
        [B, 'x', [[7n, 7n]]],
      ]),
      `${A}:1-5:tag_a:1:3-9,${B}:x:7`,
    ],
    [encodedSet(false, [[A, '', [[2n ** 63n - 2n, 2n ** 63n - 2n]]]]), `${A}:9223372036854775806`],
    [encodedSet(false, []), ''],
  ];
  for (const [body, text] of cases) {
    const event = binlogEvent(BinlogEventType.PREVIOUS_GTIDS, body);
    assert.equal(parsePreviousGtids(event, true), text);
    assert.equal(zongji.decode(event).gtidSet, text, `zongji reads ${text}`);
  }
  assert.throws(() => decodeGtidSet(Buffer.concat([uint64(2n << 56n)])), /format 2/);
  assert.throws(() => decodeGtidSet(Buffer.concat([encodedSet(false, [[A, '', [[1n, 2n]]]]), Buffer.from([0])])), /1 bytes after its last source/);
});

test('resuming by GTID: the set we checkpoint reaches the server encoded as MySQL reads it', () => {
  for (const text of [`${A}:1-5:11-18,${B}:1-27`, `${A}:1-5:tag_a:1:3-9,${B}:x:7`, `${A}:1`]) {
    const ours = MysqlGtidSet.parse(text).toString();
    const sent = (GtidSet.parse(ours) as unknown as { encode(): Buffer }).encode();
    assert.equal(decodeGtidSet(sent), text);
  }
});

test('GTID sets parse what MySQL prints and accepts, merge intervals, and serialize in MySQL’s order', () => {
  const cases: [string, string][] = [
    [`${A}:1-5`, `${A}:1-5`],
    [`${A}:1-3:11:47-49`, `${A}:1-3:11:47-49`],
    [`${A}:47-49:1-3:4-5:11:2`, `${A}:1-5:11:47-49`],
    [`${A}:1-3, ${A.toUpperCase()}:4-7`, `${A}:1-7`],
    [`${B}:1-27,\n${A}:1-5:11-18`, `${A}:1-5:11-18,${B}:1-27`],
    ['', ''],
    [' ,, ', ''],
    [`${A}:1-5:TAG_B:3:tag_a:1-2:7,${B}:x:1`, `${A}:1-5:tag_a:1-2:7:tag_b:3,${B}:x:1`],
    [`${A}:tag_a:1`, `${A}:tag_a:1`],
    [`${A}:_t9:1-2:3`, `${A}:_t9:1-3`],
    [`${A}:9223372036854775806`, `${A}:9223372036854775806`],
  ];
  for (const [text, expected] of cases) assert.equal(MysqlGtidSet.parse(text).toString(), expected, JSON.stringify(text));
});

test('GTID sets answer contains and containsAll per source, tags apart', () => {
  const set = MysqlGtidSet.parse(`${A}:1-5:11-18,${B}:1-27:tag_a:5`);
  const member: [string, boolean][] = [
    [`${A}:1`, true],
    [`${A}:5`, true],
    [`${A}:6`, false],
    [`${A}:11`, true],
    [`${A}:18`, true],
    [`${A}:19`, false],
    [`${A.toUpperCase()}:3`, true],
    [`${B}:27`, true],
    [`${B}:tag_a:5`, true],
    [`${B}:TAG_A:5`, true],
    [`${B}:tag_a:4`, false],
    [`${A}:tag_a:5`, false],
    ['5a33bc69-93ec-33a3-b055-ea2cc16417a4:1', false],
  ];
  for (const [gtid, expected] of member) assert.equal(set.contains(gtid), expected, gtid);

  const subsets: [string, boolean][] = [
    [`${A}:2-4:12`, true],
    [`${A}:1-5:11-18,${B}:tag_a:5`, true],
    ['', true],
    [`${A}:5-6`, false],
    [`${A}:10-11`, false],
    [`${B}:tag_b:1`, false],
    [`${B}:1-28`, false],
  ];
  for (const [text, expected] of subsets) assert.equal(set.containsAll(MysqlGtidSet.parse(text)), expected, text);
  assert.ok(set.containsAll(set));
  assert.ok(!MysqlGtidSet.parse(`${A}:2-4`).containsAll(set));
});

test('adding transactions merges them into neighbouring intervals without changing the original set', () => {
  const start = MysqlGtidSet.parse(`${A}:1-5:11-18`);
  let set = start;
  for (let n = 6; n <= 10; n++) set = set.with(`${A}:${n}`);
  assert.equal(set.toString(), `${A}:1-18`);
  assert.equal(start.toString(), `${A}:1-5:11-18`);
  assert.equal(set.with(`${B}:1`).with(`${A}:tag_a:2`).with(`${A}:TAG_A:1`).toString(), `${A}:1-18:tag_a:1-2,${B}:1`);
  assert.equal(advanceGtids(`${A}:1-5`, `${A}:tag_a:1`), `${A}:1-5:tag_a:1`);
  assert.equal(advanceGtids('', `${B}:1`), `${B}:1`);
});

test('malformed GTID sets and GTIDs fail with an error naming the text and what is wrong', () => {
  const sets: [string, RegExp][] = [
    ['not-a-uuid:1', /"not-a-uuid:1" does not start with a source UUID/],
    [`${A}`, /lists no transactions after its UUID/],
    [`${A}:`, /"" in .* is neither an interval \(n or n-m\) nor a tag/],
    [`${A}:0`, /transaction number 0 is outside MySQL's range 1 to 9223372036854775806/],
    [`${A}:1-9223372036854775807`, /transaction number 9223372036854775807 is outside/],
    [`${A}:5-3`, /interval "5-3" ends before it starts/],
    [`${A}:1-5:tag_a`, /lists no transactions after its last tag/],
    [`${A}:tag_a:tag_b:1`, /has a tag without intervals/],
    [`${A}:1:9tag`, /"9tag" .* is neither an interval/],
    [`${A}:1:${'t'.repeat(33)}`, /is neither an interval/],
    [`${A}:1-2-3`, /"1-2-3" .* is neither an interval/],
    [`${A}:1;${B}:2`, /is neither an interval/],
  ];
  for (const [text, pattern] of sets) {
    assert.throws(
      () => MysqlGtidSet.parse(text),
      (error: unknown) => error instanceof SourceError && error.message.startsWith(`GTID set ${JSON.stringify(text)} is malformed`) && pattern.test(error.message),
      text,
    );
  }
  const set = MysqlGtidSet.parse(`${A}:1`);
  for (const [gtid, pattern] of [
    ['nope', /"nope" is not a MySQL GTID: expected uuid:number or uuid:tag:number/],
    [`${A}:0`, /outside MySQL's range/],
    [`${A}:tag-x:1`, /is not a MySQL GTID/],
    [`${A}:1-2`, /is not a MySQL GTID/],
  ] as const) {
    assert.throws(() => set.with(gtid), (error: unknown) => error instanceof SourceError && pattern.test(error.message), gtid);
    assert.throws(() => set.contains(gtid), SourceError, gtid);
  }
});
