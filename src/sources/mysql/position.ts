/**
 * Binlog positions as value objects: file/offset coordinates, MariaDB GTID positions (one `domain-server-seq`
 * watermark per replication domain), MySQL GTID sets (`uuid:1-5:7,uuid2:1-3`), and the checkpoint string a
 * MySQL source hands out with every event.
 */
import { SourceError } from '../../model/errors.js';

/** A byte offset in a numbered binlog file (`mariadb-bin.000042`). */
export interface BinlogCoordinates {
  readonly file: string;
  readonly pos: number;
}

/** Orders coordinates: files by their numeric suffix, then by offset. */
export function compareCoordinates(a: BinlogCoordinates, b: BinlogCoordinates): number {
  const fa = fileSequence(a.file);
  const fb = fileSequence(b.file);
  if (fa !== fb) return fa < fb ? -1 : 1;
  return a.pos - b.pos;
}

/** One binlog file the server keeps, as SHOW BINARY LOGS lists it. */
export interface BinlogFile {
  readonly file: string;
  readonly size: number;
}

export interface BinlogDistance {
  /** Binlog bytes from the earlier position to the later one; null when the earlier file was purged. */
  readonly bytes: number | null;
  /** Binlog files after the earlier one, up to and including the later one. */
  readonly files: number;
  readonly purged: boolean;
}

/**
 * Bytes and files of binlog from `from` up to `to` (the server's current position), given the files the server
 * keeps (SHOW BINARY LOGS, oldest first); they are needed only when the two are in different files. Nothing
 * when `from` is not before `to`.
 */
export function binlogDistance(logs: readonly BinlogFile[], to: BinlogCoordinates, from: BinlogCoordinates): BinlogDistance {
  if (from.file === to.file) return { bytes: Math.max(0, to.pos - from.pos), files: 0, purged: false };
  const fromIndex = logs.findIndex((log) => log.file === from.file);
  const toIndex = logs.findIndex((log) => log.file === to.file);
  if (fromIndex === -1) {
    const files = logs.filter((log) => compareCoordinates({ file: log.file, pos: 0 }, { file: from.file, pos: 0 }) > 0).length;
    return { bytes: null, files, purged: compareCoordinates(from, to) < 0 };
  }
  if (compareCoordinates(from, to) >= 0) return { bytes: 0, files: 0, purged: false };
  let bytes = logs[fromIndex]!.size - from.pos;
  const last = toIndex === -1 ? logs.length - 1 : toIndex;
  for (let i = fromIndex + 1; i < last; i++) bytes += logs[i]!.size;
  bytes += toIndex === -1 ? logs[last]!.size : to.pos;
  return { bytes, files: last - fromIndex, purged: false };
}

function fileSequence(file: string): number {
  const match = /\.(\d+)$/.exec(file);
  if (match === null) throw new SourceError(`binlog file name "${file}" has no numeric extension`);
  return Number(match[1]);
}

/** One MariaDB GTID: `domain-server-sequence`. */
export interface MariadbGtid {
  readonly domain: number;
  readonly server: number;
  readonly sequence: bigint;
}

export function parseMariadbGtid(text: string): MariadbGtid {
  const match = /^(\d+)-(\d+)-(\d+)$/.exec(text.trim());
  if (match === null) throw new SourceError(`"${text}" is not a MariaDB GTID (domain-server-sequence)`);
  return { domain: Number(match[1]), server: Number(match[2]), sequence: BigInt(match[3]!) };
}

/**
 * A MariaDB GTID position (`@@gtid_binlog_pos`): the last GTID applied in each domain. Resuming from it makes the
 * server send each domain's transactions after its watermark.
 */
export class MariadbGtidPosition {
  private constructor(private readonly byDomain: ReadonlyMap<number, MariadbGtid>) {}

  static parse(text: string): MariadbGtidPosition {
    const byDomain = new Map<number, MariadbGtid>();
    for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      const gtid = parseMariadbGtid(part);
      if (byDomain.has(gtid.domain)) throw new SourceError(`GTID position "${text}" lists domain ${gtid.domain} twice`);
      byDomain.set(gtid.domain, gtid);
    }
    return new MariadbGtidPosition(byDomain);
  }

  /** The position after `gtid` committed: its domain's watermark moves to it. */
  with(gtid: MariadbGtid): MariadbGtidPosition {
    const next = new Map(this.byDomain);
    next.set(gtid.domain, gtid);
    return new MariadbGtidPosition(next);
  }

  /** Whether the transaction `gtid` is at or before this position (same domain and server, not later). */
  covers(gtid: MariadbGtid): boolean {
    const mark = this.byDomain.get(gtid.domain);
    return mark !== undefined && mark.server === gtid.server && gtid.sequence <= mark.sequence;
  }

  toString(): string {
    return [...this.byDomain.values()]
      .sort((a, b) => a.domain - b.domain)
      .map((g) => `${g.domain}-${g.server}-${g.sequence}`)
      .join(',');
  }
}

/** Closed interval of transaction numbers. */
interface Interval {
  start: bigint;
  end: bigint;
}

/** GNO_END in MySQL is 2^63 - 1, exclusive: transaction numbers run from 1 to 2^63 - 2. */
const MAX_GNO = 2n ** 63n - 2n;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** MySQL 8.3+ GTID tags (libs/mysql/gtid/tag.cpp): a letter or _, then letters, digits or _, 32 at most; case-folded. */
const TAG = /^[a-z_][a-z0-9_]{0,31}$/i;

/**
 * A MySQL GTID set (`@@gtid_executed`): per source, a union of closed intervals of transaction numbers. A source is
 * a server UUID, or (MySQL 8.3+) a UUID and a tag: `uuid:1-5:11,uuid2:1-3:tag_a:1-2` holds uuid2's untagged 1–3 and
 * its `tag_a` 1–2. Sources are keyed `uuid` or `uuid:tag`, which sorts them as MySQL prints them: by UUID, the
 * untagged intervals first, then the tags in order.
 */
export class MysqlGtidSet {
  private constructor(private readonly bySource: ReadonlyMap<string, readonly Interval[]>) {}

  /** Reads the text MySQL prints (whitespace, upper-case UUIDs and empty members allowed, as MySQL allows them). */
  static parse(text: string): MysqlGtidSet {
    const bySource = new Map<string, Interval[]>();
    const fail = (problem: string): SourceError => new SourceError(`GTID set "${text}" is malformed: ${problem}`);
    for (const member of text.replace(/\s/g, '').split(',').filter((m) => m !== '')) {
      const [uuid = '', ...items] = member.split(':');
      if (!UUID.test(uuid)) throw fail(`"${member}" does not start with a source UUID (uuid:interval[:interval...])`);
      let source = uuid.toLowerCase();
      let intervals = 0;
      let tagPending = false;
      for (const item of items) {
        if (TAG.test(item)) {
          if (tagPending) throw fail(`"${member}" has a tag without intervals`);
          source = `${uuid.toLowerCase()}:${item.toLowerCase()}`;
          tagPending = true;
          continue;
        }
        const match = /^(\d+)(?:-(\d+))?$/.exec(item);
        if (match === null) throw fail(`"${item}" in "${member}" is neither an interval (n or n-m) nor a tag`);
        const start = transactionNumber(match[1]!, fail);
        const end = match[2] === undefined ? start : transactionNumber(match[2], fail);
        if (end < start) throw fail(`interval "${item}" ends before it starts`);
        const list = bySource.get(source) ?? [];
        list.push({ start, end });
        bySource.set(source, list);
        intervals++;
        tagPending = false;
      }
      if (intervals === 0 || tagPending) throw fail(`"${member}" lists no transactions after its ${tagPending ? 'last tag' : 'UUID'}`);
    }
    return new MysqlGtidSet(new Map([...bySource].map(([source, ivs]) => [source, normalize(ivs)])));
  }

  /** Adds one transaction (`uuid:n`, or `uuid:tag:n` as MySQL 8.3+ writes a tagged one). */
  with(gtid: string): MysqlGtidSet {
    const [source, n] = splitMysqlGtid(gtid);
    const next = new Map(this.bySource);
    next.set(source, normalize([...(this.bySource.get(source) ?? []), { start: n, end: n }]));
    return new MysqlGtidSet(next);
  }

  contains(gtid: string): boolean {
    const [source, n] = splitMysqlGtid(gtid);
    return (this.bySource.get(source) ?? []).some((iv) => iv.start <= n && n <= iv.end);
  }

  /** Whether every transaction in `other` is also in this set. */
  containsAll(other: MysqlGtidSet): boolean {
    for (const [source, intervals] of other.bySource) {
      const mine = this.bySource.get(source) ?? [];
      if (!intervals.every((iv) => mine.some((m) => m.start <= iv.start && iv.end <= m.end))) return false;
    }
    return true;
  }

  /** As MySQL prints the set, with "," rather than ",\n" between UUIDs. */
  toString(): string {
    const members: string[] = [];
    let lastUuid: string | null = null;
    for (const source of [...this.bySource.keys()].sort()) {
      const [uuid, tag] = source.split(':') as [string, string | undefined];
      const intervals = this.bySource.get(source)!.map((iv) => (iv.start === iv.end ? `${iv.start}` : `${iv.start}-${iv.end}`));
      const part = [...(tag === undefined ? [] : [tag]), ...intervals].join(':');
      if (uuid === lastUuid) members[members.length - 1] += `:${part}`;
      else members.push(`${uuid}:${part}`);
      lastUuid = uuid;
    }
    return members.join(',');
  }
}

function transactionNumber(digits: string, fail: (problem: string) => SourceError): bigint {
  const n = BigInt(digits);
  if (n < 1n || n > MAX_GNO) throw fail(`transaction number ${digits} is outside MySQL's range 1 to ${MAX_GNO}`);
  return n;
}

/** `uuid:n` or `uuid:tag:n` → [source key, n]. */
function splitMysqlGtid(gtid: string): [string, bigint] {
  const match = /^([0-9a-f-]{36})(?::([a-z_][a-z0-9_]{0,31}))?:(\d+)$/i.exec(gtid.trim());
  const fail = (problem: string): SourceError => new SourceError(`"${gtid}" is not a MySQL GTID: ${problem}`);
  if (match === null || !UUID.test(match[1]!)) throw fail('expected uuid:number or uuid:tag:number');
  const uuid = match[1]!.toLowerCase();
  return [match[2] === undefined ? uuid : `${uuid}:${match[2].toLowerCase()}`, transactionNumber(match[3]!, fail)];
}

/** Sorts and merges overlapping or adjacent intervals. */
function normalize(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged: Interval[] = [];
  for (const iv of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && iv.start <= last.end + 1n) {
      if (iv.end > last.end) last.end = iv.end;
    } else {
      merged.push({ ...iv });
    }
  }
  return merged;
}

/** Adds a just-committed transaction's GTID to an executed-GTID string, for either flavour. */
export function advanceGtids(executed: string, gtid: string): string {
  return gtid.includes(':')
    ? MysqlGtidSet.parse(executed).with(gtid).toString()
    : MariadbGtidPosition.parse(executed).with(parseMariadbGtid(gtid)).toString();
}

/**
 * What a MySQL source needs to resume. `file`/`pos` (and `gtids`, the executed GTIDs at that point) name the
 * start of a transaction; `skip` counts that transaction's row images already delivered, so a resume mid-
 * transaction re-reads it and drops the first `skip` rows (the binlog cannot be entered between a table map
 * and its rows). `snapshot: true` marks a position handed out during a snapshot that has not finished: resuming
 * from it repeats the snapshot.
 */
export interface MysqlCheckpoint extends BinlogCoordinates {
  readonly gtids: string | null;
  readonly skip: number;
  readonly snapshot?: true;
}

export function serializeCheckpoint(checkpoint: MysqlCheckpoint): string {
  const { file, pos, gtids, skip, snapshot } = checkpoint;
  return JSON.stringify(snapshot === true ? { file, pos, gtids, skip, snapshot } : { file, pos, gtids, skip });
}

/** serializeCheckpoint of `start` with any `skip`, for a transaction's rows, which differ only in that last field. */
export function checkpointSerializer(start: MysqlCheckpoint): (skip: number) => string {
  if (start.snapshot === true) return (skip) => serializeCheckpoint({ ...start, skip });
  const { file, pos, gtids } = start;
  const head = JSON.stringify({ file, pos, gtids, skip: 0 }).slice(0, -'0}'.length);
  return (skip) => `${head}${skip}}`;
}

export function parseCheckpoint(text: string): MysqlCheckpoint {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new SourceError(`MySQL checkpoint ${JSON.stringify(text)} is not JSON`, {
      cause,
      fix: 'delete the source checkpoint to start over with a snapshot',
    });
  }
  const v = value as Partial<Record<keyof MysqlCheckpoint, unknown>> | null;
  if (
    v === null ||
    typeof v !== 'object' ||
    typeof v.file !== 'string' ||
    typeof v.pos !== 'number' ||
    !(typeof v.gtids === 'string' || v.gtids === null) ||
    typeof v.skip !== 'number'
  ) {
    throw new SourceError(`MySQL checkpoint ${text} lacks file, pos, gtids or skip`, {
      fix: 'delete the source checkpoint to start over with a snapshot',
    });
  }
  return { file: v.file, pos: v.pos, gtids: v.gtids, skip: v.skip, ...(v.snapshot === true ? { snapshot: true as const } : {}) };
}
