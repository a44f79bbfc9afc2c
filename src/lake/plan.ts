/**
 * Which data files a compaction rewrites: those in buckets that changes touched (all of them after a truncate,
 * when old rows are dropped instead of read). Files in other buckets are carried over untouched.
 */
import type { DataFile } from './metadata.js';

export interface MergePlan {
  /** Bucket → the current files whose rows it merges with the changes (none after a truncate or for a new bucket). */
  readonly rewrite: ReadonlyMap<number, readonly DataFile[]>;
  /** Files the new snapshot keeps as they are. */
  readonly keep: readonly DataFile[];
  /** Files the new snapshot no longer lists. */
  readonly drop: readonly DataFile[];
}

export function planMerge(files: readonly DataFile[], touched: ReadonlySet<number>, truncated: boolean): MergePlan {
  const rewrite = new Map<number, DataFile[]>();
  const keep: DataFile[] = [];
  const drop: DataFile[] = [];
  for (const bucket of [...touched].sort((a, b) => a - b)) rewrite.set(bucket, []);
  for (const file of files) {
    if (truncated) {
      drop.push(file);
    } else if (touched.has(file.bucket)) {
      rewrite.get(file.bucket)?.push(file);
      drop.push(file);
    } else {
      keep.push(file);
    }
  }
  return { rewrite, keep, drop };
}
