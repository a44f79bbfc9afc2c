/**
 * TABLE_MAP events as pure functions over Buffers: which table a table id stands for, and how each of its columns
 * is laid out in row images (see rows-event.ts), with the names, character sets, signedness, ENUM/SET values and
 * primary key that binlog_row_metadata=FULL adds.
 *
 *   event ::= header(19) table-id(6) flags(2) db-length(1) db NUL table-length(1) table NUL column-count(lenenc)
 *             column-type{count} metadata-length(lenenc) metadata null-bitmap field* [checksum(4)]
 *   field ::= type(1) length(lenenc) value       optional metadata, unknown types skipped
 *
 * Both servers write 6-byte table ids (an 8-byte post-header); only MySQL 5.1.4 and older wrote 4-byte ones.
 * The per-column metadata follows table_def (sql/rpl_utility.cc), the optional fields Table_map_log_event's
 * init_*_field (MySQL sql/log_event.cc, MariaDB sql/log_event_server.cc); their bitmaps are most significant bit
 * first, unlike the rows events'. COLUMN_TYPE is derived from the metadata as zongji's buildColumnSchemas did, so
 * schema signatures and type mappings are those the stream had before it parsed table maps itself.
 */
import { invariant, SourceError } from '../../model/errors.js';
import { BinlogEventType, CHECKSUM_LENGTH, EVENT_HEADER_LENGTH, parseEventHeader, readLengthEncoded } from './binlog-event.js';
import { textDecoderFor } from './charsets.js';
import { MysqlType, type ColumnMetadata, type TableMapColumn } from './column-plan.js';
import { collationCharset, columnTypeOf } from './column-type.js';
import type { Flavor } from './errors.js';

export interface TableMap {
  readonly tableId: number;
  readonly database: string;
  readonly table: string;
  readonly columns: readonly TableMapColumn[];
  /** Indexes of the primary key's columns, in key order; null when the table map names none (the table has none). */
  readonly primaryKey: readonly number[] | null;
}

/** The table a table map maps, read without its columns. */
export interface TableMapTarget {
  readonly tableId: number;
  readonly database: string;
  readonly table: string;
}

export interface TableMapOptions {
  /** binlog_checksum = CRC32: the event ends in four checksum bytes. */
  readonly checksum: boolean;
  /** MariaDB counts GEOMETRY columns among the character columns its charset fields list; MySQL does not. */
  readonly flavor: Flavor;
}

const TABLE_ID_LENGTH = 6;
/** Table id and flags. */
const POST_HEADER_LENGTH = 8;
const BINARY_COLLATION = 63;

export function tableMapId(event: Buffer): number {
  if (event.length < EVENT_HEADER_LENGTH + TABLE_ID_LENGTH) throw malformed(`a table map event of ${event.length} bytes`, 'ends inside its table id');
  return event.readUIntLE(EVENT_HEADER_LENGTH, TABLE_ID_LENGTH);
}

/** The event's table id and names; cheap, for deciding whether the table is captured before parsing its columns. */
export function tableMapTarget(event: Buffer, checksum: boolean): TableMapTarget {
  const { target } = readHead(event, checksum);
  return target;
}

export function parseTableMap(event: Buffer, options: TableMapOptions): TableMap {
  const { target, rest } = readHead(event, options.checksum);
  const what = `the table map of ${target.database}.${target.table} (table id ${target.tableId})`;
  try {
    return { ...target, ...readColumns(rest, options.flavor, what) };
  } catch (error) {
    throw error instanceof RangeError ? malformed(what, `ends inside its column descriptions (${error.message})`) : error;
  }
}

/** Reads forward through part of an event; reading past its end throws RangeError. */
class Cursor {
  pos = 0;

  constructor(readonly data: Buffer) {}

  get done(): boolean {
    return this.pos >= this.data.length;
  }

  byte(): number {
    return this.data.readUInt8(this.pos++);
  }

  uint(width: number): number {
    const value = this.data.readUIntLE(this.pos, width);
    this.pos += width;
    return value;
  }

  lenenc(): number {
    const [value, width] = readLengthEncoded(this.data, this.pos);
    this.pos += width;
    return value;
  }

  bytes(length: number): Buffer {
    if (this.pos + length > this.data.length) throw new RangeError(`${length} bytes at ${this.pos} of ${this.data.length}`);
    return this.data.subarray(this.pos, (this.pos += length));
  }

  text(length: number): string {
    return this.bytes(length).toString('utf8');
  }
}

function readHead(event: Buffer, checksum: boolean): { target: TableMapTarget; rest: Cursor } {
  const header = parseEventHeader(event);
  invariant(header.type === BinlogEventType.TABLE_MAP, `binlog event of type ${header.type} parsed as a table map`);
  const at = new Cursor(event.subarray(EVENT_HEADER_LENGTH, event.length - (checksum ? CHECKSUM_LENGTH : 0)));
  try {
    const tableId = at.uint(TABLE_ID_LENGTH);
    at.pos = POST_HEADER_LENGTH;
    const database = nulTerminated(at);
    const table = nulTerminated(at);
    return { target: { tableId, database, table }, rest: at };
  } catch (error) {
    const where = `the table map event ending at binlog position ${header.nextPosition}`;
    throw error instanceof RangeError ? malformed(where, `does not hold a database and table name (${error.message})`) : error;
  }
}

/** A name as table maps store it: a length byte, the bytes, a NUL. */
function nulTerminated(at: Cursor): string {
  const name = at.text(at.byte());
  if (at.byte() !== 0) throw new RangeError('a name without its NUL');
  return name;
}

function malformed(what: string, problem: string): SourceError {
  return new SourceError(`${what} ${problem}`, {
    fix: 'the binlog event is corrupt or written by a server version Tributary does not know; report it with the server version',
  });
}

/** A column's type code (ENUM and SET resolved from a STRING's metadata) and its layout metadata. */
interface Layout {
  readonly type: number;
  readonly metadata: ColumnMetadata;
}

/** table_def's reading of one column's metadata (sql/rpl_utility.cc); types without metadata take no bytes. */
function readLayout(type: number, at: Cursor): Layout {
  switch (type) {
    case MysqlType.FLOAT:
    case MysqlType.DOUBLE:
      return { type, metadata: { size: at.byte() } };
    case MysqlType.TINY_BLOB:
    case MysqlType.MEDIUM_BLOB:
    case MysqlType.LONG_BLOB:
    case MysqlType.BLOB:
    case MysqlType.BLOB_COMPRESSED:
    case MysqlType.GEOMETRY:
    case MysqlType.JSON:
      return { type, metadata: { lengthSize: at.byte() } };
    case MysqlType.VARCHAR:
    case MysqlType.VARCHAR_COMPRESSED:
      return { type, metadata: { maxLength: at.uint(2) } };
    case MysqlType.BIT: {
      const bits = at.byte();
      return { type, metadata: { bits: at.byte() * 8 + bits } };
    }
    case MysqlType.NEWDECIMAL:
      return { type, metadata: { precision: at.byte(), decimals: at.byte() } };
    case MysqlType.TIME2:
    case MysqlType.DATETIME2:
    case MysqlType.TIMESTAMP2:
      return { type, metadata: { decimals: at.byte() } };
    case MysqlType.STRING:
    case MysqlType.ENUM:
    case MysqlType.SET: {
      const real = at.byte();
      const length = at.byte();
      // CHAR longer than 255 bytes keeps its length's bits 8–9, inverted, in bits 4–5 of the real type byte.
      if ((real & 0x30) !== 0x30) return { type: MysqlType.STRING, metadata: { maxLength: length | (((real & 0x30) ^ 0x30) << 4) } };
      if (real === MysqlType.ENUM || real === MysqlType.SET) return { type: real, metadata: { size: length } };
      return { type: MysqlType.STRING, metadata: { maxLength: length } };
    }
    default:
      return { type, metadata: {} };
  }
}

/** Types with a signedness bit (has_signedess_information_type in MySQL's sql/field_common_properties.h). */
const NUMERIC = new Set<number>([
  MysqlType.DECIMAL,
  MysqlType.TINY,
  MysqlType.SHORT,
  MysqlType.INT24,
  MysqlType.LONG,
  MysqlType.LONGLONG,
  MysqlType.NEWDECIMAL,
  MysqlType.FLOAT,
  MysqlType.DOUBLE,
  MysqlType.YEAR,
]);

/** Types the (non-ENUM/SET) charset fields list; MariaDB adds GEOMETRY, whose base class is its BLOB. */
const CHARACTER = new Set<number>([
  MysqlType.VARCHAR,
  MysqlType.VAR_STRING,
  MysqlType.STRING,
  MysqlType.BLOB,
  MysqlType.TINY_BLOB,
  MysqlType.MEDIUM_BLOB,
  MysqlType.LONG_BLOB,
  MysqlType.BLOB_COMPRESSED,
  MysqlType.VARCHAR_COMPRESSED,
]);

const enum Field {
  SIGNEDNESS = 1,
  DEFAULT_CHARSET = 2,
  COLUMN_CHARSET = 3,
  COLUMN_NAME = 4,
  SET_STR_VALUE = 5,
  ENUM_STR_VALUE = 6,
  GEOMETRY_TYPE = 7,
  SIMPLE_PRIMARY_KEY = 8,
  PRIMARY_KEY_WITH_PREFIX = 9,
  ENUM_AND_SET_DEFAULT_CHARSET = 10,
  ENUM_AND_SET_COLUMN_CHARSET = 11,
  COLUMN_VISIBILITY = 12,
}

const FIELD_NAMES: Readonly<Record<number, string>> = {
  [Field.SIGNEDNESS]: 'SIGNEDNESS',
  [Field.DEFAULT_CHARSET]: 'DEFAULT_CHARSET',
  [Field.COLUMN_CHARSET]: 'COLUMN_CHARSET',
  [Field.COLUMN_NAME]: 'COLUMN_NAME',
  [Field.SET_STR_VALUE]: 'SET_STR_VALUE',
  [Field.ENUM_STR_VALUE]: 'ENUM_STR_VALUE',
  [Field.GEOMETRY_TYPE]: 'GEOMETRY_TYPE',
  [Field.SIMPLE_PRIMARY_KEY]: 'SIMPLE_PRIMARY_KEY',
  [Field.PRIMARY_KEY_WITH_PREFIX]: 'PRIMARY_KEY_WITH_PREFIX',
  [Field.ENUM_AND_SET_DEFAULT_CHARSET]: 'ENUM_AND_SET_DEFAULT_CHARSET',
  [Field.ENUM_AND_SET_COLUMN_CHARSET]: 'ENUM_AND_SET_COLUMN_CHARSET',
  [Field.COLUMN_VISIBILITY]: 'COLUMN_VISIBILITY',
};

/** What the optional metadata says, per column index. */
interface Optional {
  unsigned: boolean[] | null;
  readonly collations: (number | undefined)[];
  names: string[] | null;
  readonly values: (Buffer[] | undefined)[];
  readonly geometryTypes: (number | undefined)[];
  primaryKey: number[] | null;
}

function readColumns(at: Cursor, flavor: Flavor, what: string): Pick<TableMap, 'columns' | 'primaryKey'> {
  const count = at.lenenc();
  const types = at.bytes(count);
  const metadataLength = at.lenenc();
  const metadata = new Cursor(at.bytes(metadataLength));
  const layouts = fits(() => [...types].map((type) => readLayout(type, metadata)));
  if (layouts === null || !metadata.done) {
    throw malformed(what, `has ${metadataLength} bytes of column metadata, which do not fit its column types (${[...types].join(', ')})`);
  }
  at.bytes((count + 7) >> 3); // nullability: the catalog supplies it
  const optional = readOptional(at, layouts, flavor, what);
  const names = optional.names;
  if (names === null) throw missing(what, 'column names');
  if (names.length !== count) throw malformed(what, `names ${names.length} columns where it has ${count}`);
  const columns = layouts.map((layout, i) => toColumn(layout, i, names[i]!, optional, what));
  return { columns, primaryKey: optional.primaryKey };
}

/** The result, or null where reading ran past the end. */
function fits<T>(read: () => T): T | null {
  try {
    return read();
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}

function readOptional(at: Cursor, layouts: readonly Layout[], flavor: Flavor, what: string): Optional {
  const indexes = (keep: (type: number) => boolean): number[] => layouts.flatMap((layout, i) => (keep(layout.type) ? [i] : []));
  const numeric = indexes((type) => NUMERIC.has(type));
  const character = indexes((type) => CHARACTER.has(type) || (flavor === 'mariadb' && type === MysqlType.GEOMETRY));
  const enums = indexes((type) => type === MysqlType.ENUM);
  const sets = indexes((type) => type === MysqlType.SET);
  const enumsAndSets = indexes((type) => type === MysqlType.ENUM || type === MysqlType.SET);
  const geometries = indexes((type) => type === MysqlType.GEOMETRY);
  const count = layouts.length;
  const optional: Optional = { unsigned: null, collations: [], names: null, values: [], geometryTypes: [], primaryKey: null };
  while (!at.done) {
    const type = at.byte();
    const field = new Cursor(at.bytes(at.lenenc()));
    const name = FIELD_NAMES[type] ?? `optional metadata field ${type}`;
    try {
      switch (type) {
        case Field.SIGNEDNESS:
          optional.unsigned = bitmap(field, numeric, count, name);
          break;
        case Field.DEFAULT_CHARSET:
        case Field.ENUM_AND_SET_DEFAULT_CHARSET: {
          const listed = type === Field.DEFAULT_CHARSET ? character : enumsAndSets;
          const collation = field.lenenc();
          for (const i of listed) optional.collations[i] = collation;
          while (!field.done) {
            const position = field.lenenc();
            if (position >= listed.length) throw new RangeError(`position ${position} among ${listed.length} columns`);
            optional.collations[listed[position]!] = field.lenenc();
          }
          break;
        }
        case Field.COLUMN_CHARSET:
        case Field.ENUM_AND_SET_COLUMN_CHARSET:
          for (const i of type === Field.COLUMN_CHARSET ? character : enumsAndSets) optional.collations[i] = field.lenenc();
          break;
        case Field.COLUMN_NAME:
          optional.names = [];
          while (!field.done) optional.names.push(field.text(field.lenenc()));
          break;
        case Field.SET_STR_VALUE:
        case Field.ENUM_STR_VALUE:
          for (const i of type === Field.SET_STR_VALUE ? sets : enums) {
            optional.values[i] = Array.from({ length: field.lenenc() }, () => field.bytes(field.lenenc()));
          }
          break;
        case Field.GEOMETRY_TYPE:
          for (const i of geometries) optional.geometryTypes[i] = field.lenenc();
          break;
        case Field.SIMPLE_PRIMARY_KEY:
        case Field.PRIMARY_KEY_WITH_PREFIX:
          optional.primaryKey = [];
          while (!field.done) {
            const index = field.lenenc();
            if (index >= count) throw new RangeError(`column ${index} of ${count}`);
            optional.primaryKey.push(index);
            if (type === Field.PRIMARY_KEY_WITH_PREFIX) field.lenenc(); // the prefix length: the key is the column's
          }
          break;
        case Field.COLUMN_VISIBILITY:
          // Invisible columns are in row images like any other: read only to check the field's size.
          bitmap(field, layouts.map((_, i) => i), count, name);
          break;
        default:
          field.pos = field.data.length; // a field of a later server version
      }
    } catch (error) {
      throw error instanceof RangeError ? malformed(what, `has a ${name} field that does not fit its columns (${error.message})`) : error;
    }
    if (!field.done) throw malformed(what, `has ${field.data.length - field.pos} bytes left over in its ${name} field`);
  }
  return optional;
}

/** One bit per listed column, most significant first, in exactly as many bytes as that takes. */
function bitmap(field: Cursor, listed: readonly number[], count: number, name: string): boolean[] {
  const bytes = field.bytes(field.data.length);
  if (bytes.length !== (listed.length + 7) >> 3) throw new RangeError(`${name} of ${bytes.length} bytes for ${listed.length} columns`);
  const bits = new Array<boolean>(count).fill(false);
  listed.forEach((column, i) => (bits[column] = (bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0));
  return bits;
}

function toColumn(layout: Layout, i: number, name: string, optional: Optional, what: string): TableMapColumn {
  const { type, metadata } = layout;
  const collation = optional.collations[i];
  const textual = CHARACTER.has(type) || type === MysqlType.ENUM || type === MysqlType.SET;
  if (textual && collation === undefined) throw missing(what, `character set for column ${name}`);
  const numeric = NUMERIC.has(type);
  if (numeric && optional.unsigned === null) throw missing(what, `signedness for column ${name}`);
  const charset = collation === undefined || collation === BINARY_COLLATION ? null : collationCharset(collation);
  const unsigned = numeric && optional.unsigned![i]!;
  let columnType: string;
  if (type === MysqlType.ENUM || type === MysqlType.SET) {
    const values = optional.values[i];
    if (values === undefined) throw missing(what, `values for ${type === MysqlType.ENUM ? 'ENUM' : 'SET'} column ${name}`);
    const decode = textDecoderFor(charset) ?? textDecoderFor(null)!;
    const symbols = values.map((value) => `'${decode(value, 0, value.length).replace(/'/g, "''")}'`);
    columnType = `${type === MysqlType.ENUM ? 'enum' : 'set'}(${symbols.join(',')})`;
  } else {
    columnType = columnTypeOf(type, metadata, charset, collation === BINARY_COLLATION, optional.geometryTypes[i]);
  }
  // YEAR has a signedness bit (MariaDB sets it) but no UNSIGNED in its COLUMN_TYPE.
  if (unsigned && type !== MysqlType.YEAR) columnType += ' unsigned';
  return { name, type, metadata, charset, columnType, unsigned };
}

/** A thing only binlog_row_metadata=FULL writes: required at startup, but events can predate the setting. */
function missing(what: string, thing: string): SourceError {
  return new SourceError(`${what} gives no ${thing}: the event was written without binlog_row_metadata = FULL`, {
    fix: "run SET GLOBAL binlog_row_metadata = 'FULL' and add \"binlog_row_metadata = FULL\" under [mysqld] in my.cnf, then restart the source",
  });
}
