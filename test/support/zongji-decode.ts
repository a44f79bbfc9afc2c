/**
 * Runs zongji's own event decoding, the code BinlogClient relied on for table maps and rows before table-map.ts and
 * rows-event.ts, over binlog event bytes without a server: each event goes through zongji's BinlogPacket as a
 * binlog packet from mysql2 would (a 0x00 marker, then the event). zongji exports none of this, so it is loaded
 * from the package's files. Tests compare our decoding with it.
 */
import type { TableMapColumn } from '../../src/sources/mysql/column-plan.js';

export interface ZongjiColumnSchema {
  readonly COLUMN_NAME: string;
  readonly COLUMN_TYPE: string;
  /** Signedness from the table map's metadata, which overrides COLUMN_TYPE's. */
  readonly UNSIGNED?: boolean;
}

/** zongji's reading of a table map column: its real type, layout metadata and character set. */
export interface ZongjiColumn {
  readonly name: string;
  readonly type: number;
  readonly charset: string | null;
  readonly metadata?: Readonly<Record<string, number | undefined>>;
}

/** A table map as zongji keeps it by table id. */
export interface ZongjiTable {
  readonly parentSchema: string;
  readonly tableName: string;
  readonly columnSchemas: ZongjiColumnSchema[];
  /** Set from the table map event, before zongji emits it. */
  readonly columns?: ZongjiColumn[];
}

/** zongji's table map entry → the columns rows-event.ts lays row images out by, as BinlogClient made them. */
export function zongjiTableColumns(table: ZongjiTable): TableMapColumn[] {
  const columns = table.columns ?? [];
  return columns.map((column, i) => {
    const schema = table.columnSchemas[i];
    const metadata = column.metadata ?? {};
    const columnType = schema?.COLUMN_TYPE ?? '';
    return {
      name: column.name,
      type: column.type,
      charset: column.charset,
      columnType,
      unsigned: schema?.UNSIGNED ?? /\bunsigned\b/i.test(columnType),
      metadata: {
        maxLength: metadata.max_length,
        lengthSize: metadata.length_size,
        precision: metadata.precision,
        decimals: metadata.decimals,
        bits: metadata.bits,
        size: metadata.size,
      },
    };
  });
}

interface ZongjiParser {
  append(buffer: Buffer): void;
}

interface ZongjiPacket {
  parse(parser: ZongjiParser): void;
  getEvent(): Record<string, unknown> | undefined;
}

const root = import.meta.resolve('@vlasky/zongji');
const { default: initBinlogPacketClass } = (await import(new URL('./lib/packet/binlog.js', root).href)) as {
  default: (zongji: object) => new () => ZongjiPacket;
};
const { Parser } = (await import(new URL('./lib/reader.js', root).href)) as { Parser: new () => ZongjiParser };

export interface ZongjiDecoder {
  /** Table maps by table id, as zongji keeps them for its row events. */
  readonly tableMap: Record<number, ZongjiTable>;
  decode(event: Buffer): Record<string, unknown>;
}

interface ZongjiTableMapEvent {
  readonly tableId: number;
  readonly schemaName: string;
  readonly tableName: string;
  readonly primaryKey?: number[];
  buildColumnSchemas(): ZongjiColumnSchema[];
  updateColumnInfo(): void;
}

/** What zongji's index.js does with a table map carrying binlog_row_metadata=FULL, before it emits it. */
export function zongjiTableMap(decoder: ZongjiDecoder, event: Buffer): { table: ZongjiTable; primaryKey: number[] | undefined } {
  const map = decoder.decode(event) as unknown as ZongjiTableMapEvent;
  decoder.tableMap[map.tableId] = { columnSchemas: map.buildColumnSchemas(), parentSchema: map.schemaName, tableName: map.tableName };
  map.updateColumnInfo();
  return { table: decoder.tableMap[map.tableId]!, primaryKey: map.primaryKey };
}

/** A decoder with the connection settings BinlogClient gave zongji (mysql2Options). */
export function zongjiDecoder(checksum: boolean): ZongjiDecoder {
  const zongji = {
    useChecksum: checksum,
    isMariaDb: false,
    tableMap: {} as Record<number, ZongjiTable>,
    connection: { config: { dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, jsonStrings: true, timezone: 'Z' } },
    _warnUnsupportedEvent(): void {},
    _skipSchema: (): boolean => false,
  };
  const BinlogPacket = initBinlogPacketClass(zongji);
  return {
    tableMap: zongji.tableMap,
    decode(event: Buffer): Record<string, unknown> {
      const parser = new Parser();
      parser.append(Buffer.concat([Buffer.from([0x00]), event]));
      const packet = new BinlogPacket();
      packet.parse(parser);
      const decoded = packet.getEvent();
      if (decoded === undefined) throw new Error('zongji decoded no event');
      return decoded;
    },
  };
}
