/**
 * Runs zongji's own event decoding, the code BinlogClient relies on, over binlog event bytes without a server:
 * each event goes through zongji's BinlogPacket as a binlog packet from mysql2 would (a 0x00 marker, then the
 * event). zongji exports none of this, so it is loaded from the package's files.
 */
import type { ZongjiTable } from '../../src/sources/mysql/binlog-client.js';

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

/** A decoder with the connection settings BinlogClient gives zongji (mysql2Options). */
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
