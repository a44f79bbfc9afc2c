/**
 * TABLE_MAP events parsed by table-map.ts: first the table maps MariaDB 10.11 wrote (mysql-table-map-events.json,
 * and those of the other captured fixtures) compared with what zongji made of the same bytes, then table maps built
 * here for each layout, both flavors, and every way one can be malformed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SourceError } from '../../src/model/errors.js';
import type { ColumnMetadata, TableMapColumn } from '../../src/sources/mysql/column-plan.js';
import type { Flavor } from '../../src/sources/mysql/errors.js';
import { catalogTemporalTypes, collationCharset, withColumnTypes } from '../../src/sources/mysql/column-type.js';
import { parseTableMap, tableMapId, tableMapTarget, type TableMap } from '../../src/sources/mysql/table-map.js';
import { binlogEvent, lenenc, lenencStrings, tableMapBody, type TableMapSpec } from '../support/binlog-bytes.js';
import { zongjiDecoder, zongjiTableColumns, zongjiTableMap } from '../support/zongji-decode.js';

const fixture = (name: string): { type?: number; hex?: string; tableMap?: { hex: string } }[] =>
  JSON.parse(readFileSync(new URL(`./${name}`, import.meta.url), 'utf8')) as { type?: number; hex?: string; tableMap?: { hex: string } }[];

// --- captured from MariaDB -------------------------------------------------------------------------------------
//
// The table maps of INSERTs into
//   CREATE TABLE fixture_table_map (id INT UNSIGNED NOT NULL, ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT UNSIGNED,
//     mi MEDIUMINT, bi BIGINT UNSIGNED, y YEAR, iy INT UNSIGNED, d DECIMAL(65,30) UNSIGNED, d0 DECIMAL(5,0), f FLOAT,
//     db DOUBLE UNSIGNED, b1 BIT(1), b9 BIT(9), b64 BIT(64), c CHAR(5) CHARACTER SET latin1,
//     cn CHAR(3) CHARACTER SET latin1 COLLATE latin1_swedish_nopad_ci, cl CHAR(255) CHARACTER SET utf8mb4,
//     v VARCHAR(300) CHARACTER SET utf8mb4, v3 VARCHAR(10) CHARACTER SET utf8mb3, vu VARCHAR(10) CHARACTER SET ucs2,
//     vs VARCHAR(10) CHARACTER SET sjis, bin BINARY(4), vb VARBINARY(10), tb TINYBLOB, bl BLOB, mb MEDIUMBLOB,
//     lb LONGBLOB, tt TINYTEXT CHARACTER SET latin1, t TEXT, mt MEDIUMTEXT, lt LONGTEXT, j JSON,
//     e ENUM('a', 'b,c', 'it''s', 'é') CHARACTER SET latin1, e2 ENUM('x', 'y') CHARACTER SET utf8mb4,
//     s SET('x', 'y', 'z', '1', '2', '3', '4', '5', '6') CHARACTER SET utf8mb4, g GEOMETRY, p POINT, dt DATE,
//     tm TIME, tm3 TIME(3), dtm DATETIME, dtm6 DATETIME(6), ts TIMESTAMP NULL, ts2 TIMESTAMP(2) NULL, i6 INET6,
//     u UUID, vc VARCHAR(20) COMPRESSED CHARACTER SET latin1, bc BLOB COMPRESSED, tc TEXT COMPRESSED,
//     PRIMARY KEY (c(2), id)) CHARACTER SET utf8mb4
//   CREATE TABLE fixture_table_map_plain (a INT, b VARCHAR(5), c TEXT) CHARACTER SET latin1

const [types, plain] = fixture('mysql-table-map-events.json').map((e) => Buffer.from(e.hex!, 'hex')) as [Buffer, Buffer];

type Row = [name: string, type: number, columnType: string, charset: string | null, unsigned: boolean, metadata: ColumnMetadata];

const rows = (map: TableMap): Row[] => map.columns.map((c) => [c.name, c.type, c.columnType, c.charset, c.unsigned, c.metadata]);

const TYPES: Row[] = [
  ['id', 3, 'int unsigned', null, true, {}],
  ['ti', 1, 'tinyint', null, false, {}],
  ['tiu', 1, 'tinyint unsigned', null, true, {}],
  ['si', 2, 'smallint unsigned', null, true, {}],
  ['mi', 9, 'mediumint', null, false, {}],
  ['bi', 8, 'bigint unsigned', null, true, {}],
  // MariaDB sets YEAR's signedness bit; COLUMN_TYPE has no UNSIGNED for it. The bit is counted: iy's is the next.
  ['y', 13, 'year', null, true, {}],
  ['iy', 3, 'int unsigned', null, true, {}],
  ['d', 246, 'decimal(65,30) unsigned', null, true, { precision: 65, decimals: 30 }],
  ['d0', 246, 'decimal(5,0)', null, false, { precision: 5, decimals: 0 }],
  ['f', 4, 'float', null, false, { size: 4 }],
  ['db', 5, 'double unsigned', null, true, { size: 8 }],
  ['b1', 16, 'bit(1)', null, false, { bits: 1 }],
  ['b9', 16, 'bit(9)', null, false, { bits: 9 }],
  ['b64', 16, 'bit(64)', null, false, { bits: 64 }],
  ['c', 254, 'char(5)', 'latin1', false, { maxLength: 5 }],
  // Collation 1032, latin1_swedish_nopad_ci: MariaDB's NO PAD collations are their PAD ones' id + 1024.
  ['cn', 254, 'char(3)', 'latin1', false, { maxLength: 3 }],
  // 1020 bytes: CHAR's length bits 8–9 ride in its real type byte.
  ['cl', 254, 'char(255)', 'utf8mb4', false, { maxLength: 1020 }],
  ['v', 15, 'varchar(300)', 'utf8mb4', false, { maxLength: 1200 }],
  ['v3', 15, 'varchar(10)', 'utf8mb3', false, { maxLength: 30 }],
  ['vu', 15, 'varchar(10)', 'ucs2', false, { maxLength: 20 }],
  ['vs', 15, 'varchar(10)', 'sjis', false, { maxLength: 20 }],
  ['bin', 254, 'binary(4)', null, false, { maxLength: 4 }],
  ['vb', 15, 'varbinary(10)', null, false, { maxLength: 10 }],
  ['tb', 252, 'tinyblob', null, false, { lengthSize: 1 }],
  ['bl', 252, 'blob', null, false, { lengthSize: 2 }],
  ['mb', 252, 'mediumblob', null, false, { lengthSize: 3 }],
  ['lb', 252, 'longblob', null, false, { lengthSize: 4 }],
  ['tt', 252, 'tinytext', 'latin1', false, { lengthSize: 1 }],
  ['t', 252, 'text', 'utf8mb4', false, { lengthSize: 2 }],
  ['mt', 252, 'mediumtext', 'utf8mb4', false, { lengthSize: 3 }],
  ['lt', 252, 'longtext', 'utf8mb4', false, { lengthSize: 4 }],
  // MariaDB's JSON is LONGTEXT; its CHECK constraint, in the catalog, says JSON.
  ['j', 252, 'longtext', 'utf8mb4', false, { lengthSize: 4 }],
  ['e', 247, "enum('a','b,c','it''s','é')", 'latin1', false, { size: 1 }],
  ['e2', 247, "enum('x','y')", 'utf8mb4', false, { size: 1 }],
  ['s', 248, "set('x','y','z','1','2','3','4','5','6')", 'utf8mb4', false, { size: 2 }],
  ['g', 255, 'geometry', null, false, { lengthSize: 4 }],
  ['p', 255, 'point', null, false, { lengthSize: 4 }],
  ['dt', 10, 'date', null, false, {}],
  ['tm', 19, 'time', null, false, { decimals: 0 }],
  ['tm3', 19, 'time(3)', null, false, { decimals: 3 }],
  ['dtm', 18, 'datetime', null, false, { decimals: 0 }],
  ['dtm6', 18, 'datetime(6)', null, false, { decimals: 6 }],
  ['ts', 17, 'timestamp', null, false, { decimals: 0 }],
  ['ts2', 17, 'timestamp(2)', null, false, { decimals: 2 }],
  ['i6', 254, 'binary(16)', null, false, { maxLength: 16 }],
  ['u', 254, 'binary(16)', null, false, { maxLength: 16 }],
  ['vc', 141, 'varchar(20) /*M!100301 COMPRESSED*/', 'latin1', false, { maxLength: 21 }],
  ['bc', 140, 'blob /*M!100301 COMPRESSED*/', null, false, { lengthSize: 2 }],
  ['tc', 140, 'text /*M!100301 COMPRESSED*/', 'utf8mb4', false, { lengthSize: 2 }],
];

test('the table map MariaDB wrote for a table of every column type', () => {
  const map = parseTableMap(types, { checksum: true, flavor: 'mariadb' });
  assert.deepEqual([map.tableId, map.database, map.table], [34, 'test', 'fixture_table_map']);
  assert.deepEqual(rows(map), TYPES);
  assert.deepEqual(map.primaryKey, [15, 0], 'PRIMARY KEY (c(2), id): the prefix is dropped');
  assert.deepEqual(tableMapTarget(types, true), { tableId: 34, database: 'test', table: 'fixture_table_map' });
  assert.equal(tableMapId(types), 34);
});

test('a table without a primary key, its columns all of the default character set', () => {
  const map = parseTableMap(plain, { checksum: true, flavor: 'mariadb' });
  assert.deepEqual(rows(map), [
    ['a', 3, 'int', null, false, {}],
    ['b', 15, 'varchar(5)', 'latin1', false, { maxLength: 5 }],
    ['c', 252, 'text', 'latin1', false, { lengthSize: 2 }],
  ]);
  assert.equal(map.primaryKey, null);
});

test("every captured table map reads as zongji read it, but where zongji got it wrong", () => {
  const events = [
    ...['mysql-table-map-events.json', 'mysql-rows-events.json', 'mysql-binlog-events.json'].flatMap((name) =>
      fixture(name).flatMap((e) => (e.type === 19 ? [Buffer.from(e.hex!, 'hex')] : [])),
    ),
    ...fixture('mysql-stream-events.json').flatMap((e) => (e.tableMap === undefined ? [] : [Buffer.from(e.tableMap.hex, 'hex')])),
  ];
  assert.equal(events.length, 15);
  const defined = (metadata: ColumnMetadata): ColumnMetadata => Object.fromEntries(Object.entries(metadata).filter(([, v]) => v !== undefined));
  const differences: string[] = [];
  for (const event of events) {
    const ours = parseTableMap(event, { checksum: true, flavor: 'mariadb' });
    const { table, primaryKey } = zongjiTableMap(zongjiDecoder(true), event);
    assert.deepEqual(ours.primaryKey, primaryKey ?? null, `${ours.table} primary key`);
    zongjiTableColumns(table).forEach((theirs, i) => {
      const column = ours.columns[i]!;
      for (const key of ['name', 'type', 'charset', 'columnType', 'unsigned'] as const) {
        if (column[key] !== theirs[key]) differences.push(`${ours.table}.${column.name} ${key}: zongji ${theirs[key]}, now ${column[key]}`);
      }
      assert.deepEqual(column.metadata, defined(theirs.metadata), `${ours.table}.${column.name} metadata`);
    });
  }
  assert.deepEqual(differences, [
    // zongji knew no NO PAD collation, taking it for utf8mb4.
    'fixture_table_map.cn charset: zongji utf8mb4, now latin1',
    'fixture_table_map.cn columnType: zongji char(0), now char(3)',
    // MariaDB lists GEOMETRY columns' character sets (binary) with the others', which zongji did not count: every
    // character column after one took the character set of the column before it.
    'fixture_table_map.vc charset: zongji null, now latin1',
    'fixture_table_map.vc columnType: zongji varbinary(20) /*M!100301 COMPRESSED*/, now varchar(20) /*M!100301 COMPRESSED*/',
    'fixture_table_map.tc charset: zongji latin1, now utf8mb4',
  ]);
});

// --- built here ------------------------------------------------------------------------------------------------

const F = {
  SIGNEDNESS: 1,
  DEFAULT_CHARSET: 2,
  COLUMN_CHARSET: 3,
  COLUMN_NAME: 4,
  SET_STR_VALUE: 5,
  ENUM_STR_VALUE: 6,
  GEOMETRY_TYPE: 7,
  SIMPLE_PRIMARY_KEY: 8,
  PRIMARY_KEY_WITH_PREFIX: 9,
  ENUM_AND_SET_DEFAULT_CHARSET: 10,
  ENUM_AND_SET_COLUMN_CHARSET: 11,
  COLUMN_VISIBILITY: 12,
} as const;

const lenencs = (...values: number[]): Buffer => Buffer.concat(values.map(lenenc));
const names = (...values: string[]): readonly [number, Buffer] => [F.COLUMN_NAME, lenencStrings(...values)];
/** Per listed column: its value count, then the values. */
const values = (...lists: (string | Buffer)[][]): Buffer => Buffer.concat(lists.flatMap((list) => [lenenc(list.length), lenencStrings(...list)]));

interface Built {
  readonly spec: TableMapSpec;
  readonly flavor?: Flavor;
  readonly checksum?: boolean;
}

function parse({ spec, flavor = 'mariadb', checksum = true }: Built): TableMap {
  return parseTableMap(binlogEvent(19, tableMapBody(spec), { checksum }), { checksum, flavor });
}

const INT_ID: TableMapSpec = { columns: [[3]], fields: [[F.SIGNEDNESS, Buffer.from([0])], names('id')] };

type Case = [title: string, built: Built, expected: Partial<TableMap> & { rows?: Row[] }];

const CASES: Case[] = [
  ['a table id above 2^32 (six bytes)', { spec: { ...INT_ID, tableId: 2 ** 40 + 5 } }, { tableId: 2 ** 40 + 5 }],
  ['without a checksum', { spec: INT_ID, checksum: false }, { rows: [['id', 3, 'int', null, false, {}]] }],
  [
    'names and a database in UTF-8',
    { spec: { ...INT_ID, database: 'bäse', table: 'tâble', fields: [[F.SIGNEDNESS, Buffer.from([0])], names('ïd')] } },
    { database: 'bäse', table: 'tâble', rows: [['ïd', 3, 'int', null, false, {}]] },
  ],
  [
    '300 columns: a length-encoded count of three bytes, and fields longer than 250 bytes',
    {
      spec: {
        columns: Array.from({ length: 300 }, () => [1] as const),
        fields: [
          [F.SIGNEDNESS, Buffer.alloc(38, 0xff).fill(0xf0, 37)],
          names(...Array.from({ length: 300 }, (_, i) => `c${i}`)),
        ],
      },
    },
    { rows: Array.from({ length: 300 }, (_, i): Row => [`c${i}`, 1, 'tinyint unsigned', null, true, {}]) },
  ],
  [
    "MySQL writes YEAR's signedness bit as 0; DECIMAL and FLOAT have bits too",
    {
      flavor: 'mysql',
      spec: {
        columns: [[13], [3], [246, [10, 2]], [4, [4]], [16, [1, 1]]],
        fields: [[F.SIGNEDNESS, Buffer.from([0b0111_0000])], names('y', 'i', 'd', 'f', 'b')],
      },
    },
    {
      rows: [
        ['y', 13, 'year', null, false, {}],
        ['i', 3, 'int unsigned', null, true, {}],
        ['d', 246, 'decimal(10,2) unsigned', null, true, { precision: 10, decimals: 2 }],
        ['f', 4, 'float unsigned', null, true, { size: 4 }],
        ['b', 16, 'bit(9)', null, false, { bits: 9 }],
      ],
    },
  ],
  [
    'CHAR of 255 bytes and of 256 (its length bit 8 inverted in the real type byte)',
    {
      spec: {
        columns: [[254, [0xfe, 0xff]], [254, [0xee, 0x00]], [254, [0xde, 0x2b]]],
        fields: [[F.DEFAULT_CHARSET, lenencs(8, 1, 45, 2, 33)], names('a', 'b', 'c')],
      },
    },
    {
      rows: [
        ['a', 254, 'char(255)', 'latin1', false, { maxLength: 255 }],
        ['b', 254, 'char(64)', 'utf8mb4', false, { maxLength: 256 }],
        ['c', 254, 'char(185)', 'utf8mb3', false, { maxLength: 555 }],
      ],
    },
  ],
  [
    "ENUM and SET values in their columns' character sets, their own charset fields apart from the other columns'",
    {
      spec: {
        columns: [[254, [0xf7, 0x01]], [15, [40, 0]], [254, [0xf8, 0x02]], [254, [0xf7, 0x02]]],
        fields: [
          [F.COLUMN_CHARSET, lenencs(45)],
          names('e', 'v', 's', 'big'),
          [F.ENUM_AND_SET_COLUMN_CHARSET, lenencs(8, 45, 1032)],
          [F.ENUM_STR_VALUE, values(['a', Buffer.from([0xe9]), "it's"], Array.from({ length: 300 }, (_, i) => `v${i}`))],
          [F.SET_STR_VALUE, values(['ü', 'x,y', ...'abcdefg'])],
        ],
      },
    },
    {
      rows: [
        ['e', 247, "enum('a','é','it''s')", 'latin1', false, { size: 1 }],
        ['v', 15, 'varchar(10)', 'utf8mb4', false, { maxLength: 40 }],
        ['s', 248, "set('ü','x,y','a','b','c','d','e','f','g')", 'utf8mb4', false, { size: 2 }],
        ['big', 247, `enum(${Array.from({ length: 300 }, (_, i) => `'v${i}'`).join(',')})`, 'latin1', false, { size: 2 }],
      ],
    },
  ],
  [
    'a default ENUM/SET character set with exceptions',
    {
      spec: {
        columns: [[254, [0xf7, 0x01]], [254, [0xf8, 0x01]]],
        fields: [names('e', 's'), [F.ENUM_AND_SET_DEFAULT_CHARSET, lenencs(45, 1, 8)], [F.ENUM_STR_VALUE, values(['a'])], [F.SET_STR_VALUE, values(['b'])]],
      },
    },
    {
      rows: [
        ['e', 247, "enum('a')", 'utf8mb4', false, { size: 1 }],
        ['s', 248, "set('b')", 'latin1', false, { size: 1 }],
      ],
    },
  ],
  [
    'MySQL: GEOMETRY has no place in the charset fields; JSON has a type of its own',
    {
      flavor: 'mysql',
      spec: {
        columns: [[255, [4]], [252, [2]], [245, [4]], [255, [4]]],
        fields: [[F.COLUMN_CHARSET, lenencs(255)], [F.GEOMETRY_TYPE, lenencs(1, 7)], names('g', 't', 'j', 'gc')],
      },
    },
    {
      rows: [
        ['g', 255, 'point', null, false, { lengthSize: 4 }],
        ['t', 252, 'text', 'utf8mb4', false, { lengthSize: 2 }],
        ['j', 245, 'json', null, false, { lengthSize: 4 }],
        ['gc', 255, 'geomcollection', null, false, { lengthSize: 4 }],
      ],
    },
  ],
  [
    'MariaDB: GEOMETRY is listed among the character columns, as binary',
    {
      spec: {
        columns: [[255, [4]], [252, [2]]],
        fields: [[F.COLUMN_CHARSET, lenencs(63, 8)], names('g', 't')],
      },
    },
    {
      rows: [
        ['g', 255, 'geometry', null, false, { lengthSize: 4 }],
        ['t', 252, 'text', 'latin1', false, { lengthSize: 2 }],
      ],
    },
  ],
  [
    'a primary key with prefixes; column visibility (MySQL 8.0.23+); a field of a later server version, skipped',
    {
      flavor: 'mysql',
      spec: {
        columns: [[3], [15, [20, 0]]],
        fields: [
          [F.SIGNEDNESS, Buffer.from([0])],
          [F.DEFAULT_CHARSET, lenencs(255)],
          names('id', 'name'),
          [F.PRIMARY_KEY_WITH_PREFIX, lenencs(1, 4, 0, 0)],
          [F.COLUMN_VISIBILITY, Buffer.from([0b1000_0000])],
          [13, Buffer.from([1, 2, 3])],
        ],
      },
    },
    { primaryKey: [1, 0], rows: [['id', 3, 'int', null, false, {}], ['name', 15, 'varchar(5)', 'utf8mb4', false, { maxLength: 20 }]] },
  ],
  [
    'classic temporals, and the temporals with fractions',
    {
      spec: {
        columns: [[10], [11], [12], [7], [19, [3]], [18, [6]], [17, [0]], [14]],
        fields: [names('d', 't', 'dt', 'ts', 't3', 'dt6', 'ts0', 'nd')],
      },
    },
    {
      rows: [
        ['d', 10, 'date', null, false, {}],
        ['t', 11, 'time', null, false, {}],
        ['dt', 12, 'datetime', null, false, {}],
        ['ts', 7, 'timestamp', null, false, {}],
        ['t3', 19, 'time(3)', null, false, { decimals: 3 }],
        ['dt6', 18, 'datetime(6)', null, false, { decimals: 6 }],
        ['ts0', 17, 'timestamp', null, false, { decimals: 0 }],
        ['nd', 14, 'date', null, false, {}],
      ],
    },
  ],
];

for (const [title, built, expected] of CASES) {
  test(`built: ${title}`, () => {
    const map = parse(built);
    const { rows: expectedRows, ...fields } = expected;
    for (const [key, value] of Object.entries(fields)) assert.deepEqual(map[key as keyof TableMap], value, key);
    if (expectedRows !== undefined) assert.deepEqual(rows(map), expectedRows);
  });
}

type Failure = [title: string, built: Built | Buffer, message: RegExp];

const FAILURES: Failure[] = [
  ['no column names', { spec: { columns: [[3]], fields: [[F.SIGNEDNESS, Buffer.from([0])]] } }, /db\.t \(table id 77\) gives no column names: the event was written without binlog_row_metadata = FULL/],
  ['names for another number of columns', { spec: { ...INT_ID, fields: [[F.SIGNEDNESS, Buffer.from([0])], names('a', 'b')] } }, /names 2 columns where it has 1/],
  ['no signedness', { spec: { columns: [[3]], fields: [names('id')] } }, /gives no signedness for column id/],
  ['no character set for a text column', { spec: { columns: [[252, [2]]], fields: [names('t')] } }, /gives no character set for column t/],
  [
    'no values for an ENUM',
    { spec: { columns: [[254, [0xf7, 1]]], fields: [names('e'), [F.ENUM_AND_SET_DEFAULT_CHARSET, lenencs(45)]] } },
    /gives no values for ENUM column e/,
  ],
  [
    'metadata for a type Tributary does not know',
    { spec: { columns: [[3], [242, [4]]], fields: [names('id', 'v')] } },
    /has 1 bytes of column metadata, which do not fit its column types \(3, 242\)/,
  ],
  ['metadata cut short', { spec: { columns: [[246, [10]]], fields: [names('d')] } }, /1 bytes of column metadata, which do not fit/],
  [
    'a signedness bitmap of the wrong size',
    { spec: { columns: [[3]], fields: [[F.SIGNEDNESS, Buffer.from([0, 0])], names('id')] } },
    /SIGNEDNESS field that does not fit its columns/,
  ],
  [
    'more column character sets than character columns',
    { spec: { columns: [[252, [2]]], fields: [[F.COLUMN_CHARSET, lenencs(8, 8)], names('t')] } },
    /1 bytes left over in its COLUMN_CHARSET field/,
  ],
  [
    'fewer column character sets than character columns (MariaDB counts GEOMETRY)',
    { spec: { columns: [[255, [4]], [252, [2]]], fields: [[F.COLUMN_CHARSET, lenencs(8)], names('g', 't')] } },
    /COLUMN_CHARSET field that does not fit its columns/,
  ],
  [
    'a default character set exception beyond the character columns',
    { spec: { columns: [[252, [2]]], fields: [[F.DEFAULT_CHARSET, lenencs(45, 1, 8)], names('t')] } },
    /DEFAULT_CHARSET field that does not fit its columns \(position 1 among 1 columns\)/,
  ],
  [
    'a primary key column beyond the columns',
    { spec: { ...INT_ID, fields: [...INT_ID.fields!, [F.SIMPLE_PRIMARY_KEY, lenencs(1)]] } },
    /SIMPLE_PRIMARY_KEY field that does not fit its columns \(column 1 of 1\)/,
  ],
  [
    'a field longer than the event',
    binlogEvent(19, Buffer.concat([tableMapBody(INT_ID), Buffer.from([F.COLUMN_NAME, 9, 1])])),
    /ends inside its column descriptions/,
  ],
  ['a length-encoded integer that is not one', binlogEvent(19, Buffer.concat([tableMapBody(INT_ID), Buffer.from([4, 0xff])])), /ends inside its column descriptions/],
  [
    'a name without its NUL',
    binlogEvent(19, Buffer.from([77, 0, 0, 0, 0, 0, 0, 0, 2, 0x64, 0x62, 0x01, 1, 0x74, 0])),
    /table map event ending at binlog position 1000 does not hold a database and table name \(a name without its NUL\)/,
  ],
];

for (const [title, built, message] of FAILURES) {
  test(`malformed: ${title}`, () => {
    const attempt = (): TableMap => (Buffer.isBuffer(built) ? parseTableMap(built, { checksum: true, flavor: 'mariadb' }) : parse(built));
    assert.throws(attempt, (error: unknown) => error instanceof SourceError && message.test(error.message) && error.fix !== undefined);
  });
}

test('a table map cut anywhere is a SourceError, or (cut between fields) the table map without the fields after', () => {
  const full = parseTableMap(types, { checksum: true, flavor: 'mariadb' });
  const body = types.subarray(19, -4);
  for (let length = 0; length < body.length; length++) {
    const event = binlogEvent(19, body.subarray(0, length));
    try {
      const map = parseTableMap(event, { checksum: true, flavor: 'mariadb' });
      assert.deepEqual(map.columns, full.columns, `cut at ${length}`);
    } catch (error) {
      assert.ok(error instanceof SourceError, `cut at ${length}: ${String(error)}`);
    }
  }
  assert.throws(() => tableMapId(binlogEvent(19, Buffer.alloc(3), { checksum: false })), SourceError);
});

test('collation ids name the character sets zongji named, and MariaDB NO PAD ids those of their PAD collations', async () => {
  const root = import.meta.resolve('@vlasky/zongji');
  const zongji = (await import(new URL('./lib/charset_map.js', root).href)) as { collationToCharset(id: number): string };
  for (let id = 0; id < 1024; id++) assert.equal(collationCharset(id), zongji.collationToCharset(id), `collation ${id}`);
  const cases: [number, string][] = [
    [1032, 'latin1'], // latin1_swedish_nopad_ci
    [1057, 'utf8mb3'], // utf8mb3_general_nopad_ci
    [1069, 'utf8mb4'], // utf8mb4_general_nopad_ci
    [1059, 'ucs2'], // ucs2_general_nopad_ci
    [2048, 'utf8mb4'],
  ];
  for (const [id, charset] of cases) assert.equal(collationCharset(id), charset, `collation ${id}`);
});

const column = (name: string, type: number, columnType: string): TableMapColumn => ({ name, type, columnType, charset: null, unsigned: false, metadata: {} });

test('MariaDB 5.3 temporals take their COLUMN_TYPE from the catalog while it describes a temporal of the same kind', () => {
  const columns = [column('id', 3, 'int'), column('t', 11, 'time'), column('dt', 12, 'datetime'), column('ts', 7, 'timestamp'), column('d2', 18, 'datetime')];
  const catalog = [
    { name: 'id', columnType: 'int(11)' },
    { name: 't', columnType: 'time(3) /* mariadb-5.3 */' },
    { name: 'dt', columnType: 'varchar(20)' }, // altered since
    { name: 'd2', columnType: 'datetime(6)' }, // DATETIME2 says its digits itself
  ];
  const types = catalogTemporalTypes(columns, catalog);
  assert.deepEqual([...types], [['t', 'time(3) /* mariadb-5.3 */']]);
  assert.deepEqual(withColumnTypes(columns, types).map((c) => c.columnType), ['int', 'time(3) /* mariadb-5.3 */', 'datetime', 'timestamp', 'datetime']);
  assert.equal(withColumnTypes(columns, new Map()), columns, 'none given: the same array');
});
