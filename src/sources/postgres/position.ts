/**
 * Log sequence numbers and the serialized position a PostgreSQL source hands out with every event.
 */
import { SourceError } from '../../model/errors.js';

/** A PostgreSQL WAL position, written `16/B374D848` (high and low 32 bits in hex). */
export class Lsn {
  static readonly ZERO = new Lsn(0n);

  private constructor(readonly value: bigint) {}

  static of(value: bigint): Lsn {
    if (value < 0n || value > 0xffffffffffffffffn) throw new RangeError(`LSN out of range: ${value}`);
    return new Lsn(value);
  }

  static parse(text: string): Lsn {
    const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
    if (match === null) throw new SourceError(`invalid LSN "${text}"`, { fix: 'an LSN looks like 16/B374D848' });
    return new Lsn((BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`));
  }

  toBigInt(): bigint {
    return this.value;
  }

  toString(): string {
    const high = (this.value >> 32n).toString(16).toUpperCase();
    const low = (this.value & 0xffffffffn).toString(16).toUpperCase();
    return `${high}/${low}`;
  }

  compare(other: Lsn): number {
    return this.value < other.value ? -1 : this.value > other.value ? 1 : 0;
  }

  max(other: Lsn): Lsn {
    return this.compare(other) >= 0 ? this : other;
  }

  /** WAL bytes from `earlier` up to this LSN; 0 when `earlier` is not before it. */
  bytesSince(earlier: Lsn): number {
    return this.value > earlier.value ? Number(this.value - earlier.value) : 0;
  }
}

/**
 * What a position string holds. `lsn` is the WAL position to confirm. A change inside a transaction also
 * carries the transaction's commit LSN, so a restart that replays the transaction can skip what was delivered.
 * Snapshot rows carry `snapshot`: their `lsn` is the slot's consistent point.
 */
export interface PgPosition {
  readonly lsn: Lsn;
  readonly commitLsn?: Lsn;
  readonly snapshot?: 'row' | 'last';
}

export function encodePosition(position: PgPosition): string {
  const out: Record<string, string> = { lsn: position.lsn.toString() };
  if (position.commitLsn !== undefined) out.commitLsn = position.commitLsn.toString();
  if (position.snapshot !== undefined) out.snapshot = position.snapshot;
  return JSON.stringify(out);
}

export function decodePosition(text: string): PgPosition {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new SourceError(`invalid PostgreSQL position ${JSON.stringify(text)}`, { cause, fix: 'reset the checkpoint of this source' });
  }
  const record = raw as { lsn?: unknown; commitLsn?: unknown; snapshot?: unknown };
  if (typeof record.lsn !== 'string') {
    throw new SourceError(`invalid PostgreSQL position ${JSON.stringify(text)}: no lsn`, { fix: 'reset the checkpoint of this source' });
  }
  return {
    lsn: Lsn.parse(record.lsn),
    ...(typeof record.commitLsn === 'string' ? { commitLsn: Lsn.parse(record.commitLsn) } : {}),
    ...(record.snapshot === 'row' || record.snapshot === 'last' ? { snapshot: record.snapshot } : {}),
  };
}

/**
 * After a restart from `resume`, says whether a replayed change was already delivered. Transactions arrive in
 * commit order, so every transaction committed before the resume point's transaction was delivered whole, and
 * within that transaction every change up to the resume LSN.
 */
export function alreadyDelivered(resume: PgPosition, commitLsn: Lsn, changeLsn: Lsn | null): boolean {
  if (resume.snapshot !== undefined) return false;
  if (resume.commitLsn === undefined) return commitLsn.compare(resume.lsn) < 0;
  const order = commitLsn.compare(resume.commitLsn);
  if (order !== 0) return order < 0;
  return changeLsn !== null && changeLsn.compare(resume.lsn) <= 0;
}
