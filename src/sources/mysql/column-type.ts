/**
 * What a table map's column says in INFORMATION_SCHEMA's words: the COLUMN_TYPE text (as zongji's
 * buildColumnSchemas derived it, so schema signatures stay those of before), the character set of a collation id,
 * and, for MariaDB's 5.3-era fractional temporals that no table map describes, the catalog's COLUMN_TYPE.
 */
import { MysqlType, type ColumnMetadata, type TableMapColumn } from './column-plan.js';
import type { ColumnDescription } from './types.js';

/** Field_geom's geometry types, in GEOMETRY_TYPE's numbering. */
const GEOMETRY_TYPES = ['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geomcollection'];

/** BLOB/TEXT by the width of their length prefix: [binary, text]. */
const BLOB_TYPES: Readonly<Record<number, readonly [string, string]>> = {
  1: ['tinyblob', 'tinytext'],
  2: ['blob', 'text'],
  3: ['mediumblob', 'mediumtext'],
  4: ['longblob', 'longtext'],
};

/** How MariaDB's INFORMATION_SCHEMA marks COMPRESSED columns. */
const COMPRESSED = ' /*M!100301 COMPRESSED*/';

/** COLUMN_TYPE as INFORMATION_SCHEMA spells it, from what the table map says (ENUM and SET aside). */
export function columnTypeOf(type: number, metadata: ColumnMetadata, charset: string | null, binary: boolean, geometryType: number | undefined): string {
  const fraction = (name: string): string => (metadata.decimals ? `${name}(${metadata.decimals})` : name);
  // CHAR/VARCHAR metadata counts bytes; COLUMN_TYPE counts characters of the charset's widest.
  const chars = (bytes: number): number => Math.floor(bytes / (MAX_BYTES_PER_CHAR[charset ?? ''] ?? 1));
  const blob = (): string => (BLOB_TYPES[metadata.lengthSize ?? 2] ?? BLOB_TYPES[2]!)[binary ? 0 : 1];
  switch (type) {
    case MysqlType.TINY:
      return 'tinyint';
    case MysqlType.SHORT:
      return 'smallint';
    case MysqlType.INT24:
      return 'mediumint';
    case MysqlType.LONG:
      return 'int';
    case MysqlType.LONGLONG:
      return 'bigint';
    case MysqlType.FLOAT:
      return 'float';
    case MysqlType.DOUBLE:
      return 'double';
    case MysqlType.DECIMAL:
      return 'decimal';
    case MysqlType.NEWDECIMAL:
      return `decimal(${metadata.precision},${metadata.decimals})`;
    case MysqlType.YEAR:
      return 'year';
    case MysqlType.STRING:
    case MysqlType.VARCHAR:
    case MysqlType.VAR_STRING: {
      const kind = type === MysqlType.STRING ? ['binary', 'char'] : ['varbinary', 'varchar'];
      const bytes = metadata.maxLength ?? 0;
      return binary ? `${kind[0]}(${bytes})` : `${kind[1]}(${chars(bytes)})`;
    }
    case MysqlType.TINY_BLOB:
    case MysqlType.MEDIUM_BLOB:
    case MysqlType.LONG_BLOB:
    case MysqlType.BLOB:
      return blob();
    case MysqlType.BLOB_COMPRESSED:
      return blob() + COMPRESSED;
    case MysqlType.VARCHAR_COMPRESSED: {
      const bytes = (metadata.maxLength ?? 1) - 1; // the compression header's byte
      return (binary ? `varbinary(${bytes})` : `varchar(${chars(bytes)})`) + COMPRESSED;
    }
    case MysqlType.BIT:
      return `bit(${metadata.bits})`;
    case MysqlType.JSON:
      return 'json';
    case MysqlType.GEOMETRY:
      return GEOMETRY_TYPES[geometryType ?? 0] ?? 'geometry';
    case MysqlType.TIMESTAMP:
    case MysqlType.TIMESTAMP2:
      return fraction('timestamp');
    case MysqlType.DATETIME:
    case MysqlType.DATETIME2:
      return fraction('datetime');
    case MysqlType.TIME:
    case MysqlType.TIME2:
      return fraction('time');
    case MysqlType.DATE:
    case MysqlType.NEWDATE:
      return 'date';
    default:
      return '';
  }
}

/**
 * Collation ids 0–99 → character set, as zongji's charset_map.js has them (generated there from MySQL 8.0/8.4's
 * INFORMATION_SCHEMA.COLLATIONS; its package exports no such subpath, so the table is restated here and compared
 * with zongji's by the unit tests).
 */
const LOW_COLLATIONS = (
  'utf8mb4 big5 latin2 dec8 cp850 latin1 hp8 koi8r latin1 latin2 swe7 ascii ujis sjis cp1251 latin1 hebrew utf8mb4 ' +
  'tis620 euckr latin7 latin2 koi8u cp1251 gb2312 greek cp1250 latin2 gbk cp1257 latin5 latin1 armscii8 utf8mb3 cp1250 ' +
  'ucs2 cp866 keybcs2 macce macroman cp852 latin7 latin7 macce cp1250 utf8mb4 utf8mb4 latin1 latin1 latin1 cp1251 ' +
  'cp1251 cp1251 macroman utf16 utf16 utf16le cp1256 cp1257 cp1257 utf32 utf32 utf16le binary armscii8 ascii cp1250 ' +
  'cp1256 cp866 dec8 greek hebrew hp8 keybcs2 koi8r koi8u utf8mb3 latin2 latin5 latin7 cp850 cp852 swe7 utf8mb3 big5 ' +
  'euckr gb2312 gbk sjis tis620 ucs2 ujis geostd8 geostd8 latin1 cp932 cp932 eucjpms eucjpms cp1250'
).split(' ');

/** From id 100 up, the ranges that are not utf8mb4, which every other id is (all collations since MySQL 8.4 are). */
const HIGH_COLLATIONS: readonly (readonly [from: number, to: number, charset: string])[] = [
  [101, 124, 'utf16'],
  [128, 151, 'ucs2'],
  [159, 159, 'ucs2'],
  [160, 183, 'utf32'],
  [192, 215, 'utf8mb3'],
  [223, 223, 'utf8mb3'],
  [248, 250, 'gb18030'],
];

/** The character set of a collation id. */
export function collationCharset(id: number): string {
  // MariaDB's NO PAD collations, 1024–2047, are those of id − 1024 with trailing spaces significant.
  if (id >= 1024 && id < 2048) return collationCharset(id - 1024);
  return LOW_COLLATIONS[id] ?? HIGH_COLLATIONS.find(([from, to]) => id >= from && id <= to)?.[2] ?? 'utf8mb4';
}

/** The widest character of the multi-byte character sets; the others take one byte. */
const MAX_BYTES_PER_CHAR: Readonly<Record<string, number>> = {
  big5: 2,
  cp932: 2,
  eucjpms: 3,
  euckr: 2,
  gb18030: 4,
  gb2312: 2,
  gbk: 2,
  sjis: 2,
  ucs2: 2,
  ujis: 3,
  utf16: 4,
  utf16le: 4,
  utf32: 4,
  utf8mb3: 3,
  utf8mb4: 4,
};

/** The classic TIME/DATETIME/TIMESTAMP codes, under which MariaDB also writes its 5.3-era fractional temporals. */
const CLASSIC_TEMPORALS = new Set<number>([MysqlType.TIME, MysqlType.DATETIME, MysqlType.TIMESTAMP]);

/**
 * The catalog's COLUMN_TYPE of each column whose width the table map cannot tell: MariaDB binlogs its 5.3-era
 * fractional TIME/DATETIME/TIMESTAMP under the classic codes, with no metadata, and only COLUMN_TYPE
 * ('datetime(3) /* mariadb-5.3 *\/') says how many digits they store. Taken while the catalog's column of that
 * name is still a temporal of the same kind.
 */
export function catalogTemporalTypes(columns: readonly TableMapColumn[], catalog: readonly ColumnDescription[]): ReadonlyMap<string, string> {
  const types = new Map<string, string>();
  for (const column of columns) {
    if (!CLASSIC_TEMPORALS.has(column.type)) continue;
    const described = catalog.find((c) => c.name === column.name)?.columnType;
    if (described !== undefined && /^[a-z]+/i.exec(described.trim())?.[0].toLowerCase() === column.columnType) types.set(column.name, described);
  }
  return types;
}

/** The columns, with the COLUMN_TYPEs given by name; the same array when none are given. */
export function withColumnTypes(columns: readonly TableMapColumn[], types: ReadonlyMap<string, string>): readonly TableMapColumn[] {
  if (types.size === 0) return columns;
  return columns.map((column) => {
    const columnType = types.get(column.name);
    return columnType === undefined ? column : { ...column, columnType };
  });
}
