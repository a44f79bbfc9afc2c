/**
 * Lake snapshot ages for `tributary status`: each configured table's current snapshot, read from the table's
 * metadata pointer in the lake. A table the compactor has not published yet is simply absent.
 */
import { lakeTargets } from '../lake/targets.js';
import { currentSnapshot } from '../lake/metadata.js';
import { TableDirectory } from '../lake/table-dir.js';
import type { Config } from '../config/index.js';
import { silentLogger } from '../ops/logger.js';
import type { LakeTableSnapshot } from './report.js';

/** The published snapshots of `source`'s tables, by `namespace.table`. */
export async function readLakeSnapshots(config: Config, source: string): Promise<LakeTableSnapshot[]> {
  if (config.lake === undefined) return [];
  const snapshots: LakeTableSnapshot[] = [];
  for (const target of lakeTargets(config).filter((t) => t.sourceName === source)) {
    const current = await new TableDirectory(target.root, silentLogger()).current();
    if (current === undefined) continue;
    const snapshot = currentSnapshot(current.metadata);
    snapshots.push({
      table: `${target.namespace}.${target.table}`,
      madeAt: Date.parse(snapshot.madeAt),
      rows: snapshot.rows,
      ...(snapshot.source === null ? {} : { position: describePosition(snapshot.source) }),
    });
  }
  return snapshots;
}

function describePosition(position: NonNullable<ReturnType<typeof currentSnapshot>['source']>): string {
  if (position.connector === 'postgresql') return position.lsn ?? '-';
  return position.gtid ?? `${position.file}:${position.pos}`;
}
