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

/** A MySQL GTID set (`@@gtid_executed`): per source UUID, a union of closed intervals of transaction numbers. */
export class MysqlGtidSet {
  private constructor(private readonly byUuid: ReadonlyMap<string, readonly Interval[]>) {}

  static parse(text: string): MysqlGtidSet {
    const byUuid = new Map<string, Interval[]>();
    for (const member of text.replace(/\s/g, '').split(',').filter((m) => m !== '')) {
      const [uuid, ...ranges] = member.split(':');
      if (uuid === undefined || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid) || ranges.length === 0) {
        throw new SourceError(`"${member}" is not a MySQL GTID set member (uuid:interval[:interval...])`);
      }
      const intervals = byUuid.get(uuid.toLowerCase()) ?? [];
      for (const range of ranges) {
        const match = /^(\d+)(?:-(\d+))?$/.exec(range);
        if (match === null) throw new SourceError(`"${range}" in GTID set "${text}" is not an interval (n or n-m)`);
        const start = BigInt(match[1]!);
        const end = match[2] === undefined ? start : BigInt(match[2]);
        if (end < start) throw new SourceError(`interval "${range}" in GTID set "${text}" ends before it starts`);
        intervals.push({ start, end });
      }
      byUuid.set(uuid.toLowerCase(), intervals);
    }
    return new MysqlGtidSet(new Map([...byUuid].map(([uuid, ivs]) => [uuid, normalize(ivs)])));
  }

  /** Adds one transaction (`uuid:n`). */
  with(gtid: string): MysqlGtidSet {
    const [uuid, n] = splitMysqlGtid(gtid);
    const next = new Map(this.byUuid);
    next.set(uuid, normalize([...(this.byUuid.get(uuid) ?? []), { start: n, end: n }]));
    return new MysqlGtidSet(next);
  }

  contains(gtid: string): boolean {
    const [uuid, n] = splitMysqlGtid(gtid);
    return (this.byUuid.get(uuid) ?? []).some((iv) => iv.start <= n && n <= iv.end);
  }

  /** Whether every transaction in `other` is also in this set. */
  containsAll(other: MysqlGtidSet): boolean {
    for (const [uuid, intervals] of other.byUuid) {
      const mine = this.byUuid.get(uuid) ?? [];
      if (!intervals.every((iv) => mine.some((m) => m.start <= iv.start && iv.end <= m.end))) return false;
    }
    return true;
  }

  toString(): string {
    return [...this.byUuid.keys()]
      .sort()
      .map((uuid) => `${uuid}:${this.byUuid.get(uuid)!.map((iv) => (iv.start === iv.end ? `${iv.start}` : `${iv.start}-${iv.end}`)).join(':')}`)
      .join(',');
  }
}

function splitMysqlGtid(gtid: string): [string, bigint] {
  const match = /^([0-9a-f-]{36}):(\d+)$/i.exec(gtid.trim());
  if (match === null) throw new SourceError(`"${gtid}" is not a MySQL GTID (uuid:number)`);
  return [match[1]!.toLowerCase(), BigInt(match[2]!)];
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
