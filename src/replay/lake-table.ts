/**
 * A table's published lake snapshot as far as choosing and opening it goes: its directory and current metadata.
 * Reading the rows (lake-reader.ts) loads DuckDB; this does not, so a replay from the database never loads it.
 */
import type { Config } from '../config/index.js';
import { LakeMetadataError, type TableMetadata } from '../lake/metadata.js';
import { TableDirectory } from '../lake/table-dir.js';
import { lakeTargets } from '../lake/targets.js';
import type { Logger } from '../ops/logger.js';
import { LakeReplayError } from './lake-schema.js';
import type { ReplayTarget } from './target.js';

export const USE_DATABASE = 'or replay from the database with --from database';

/** Whether the table has a published lake snapshot (the default `--from` reads it when it does). */
export async function hasLakeSnapshot(config: Config, target: ReplayTarget, logger: Logger): Promise<boolean> {
  if (config.lake === undefined) return false;
  return (await publishedMetadata(tableDirectory(config, target, logger), target.table.name)) !== undefined;
}

export function tableDirectory(config: Config, target: ReplayTarget, logger: Logger): TableDirectory {
  if (config.lake === undefined) {
    throw new LakeReplayError(`the config has no lake section, so table ${target.table.name} has no lake snapshot to replay`, {
      fix: `add lake: { path: ./lake } and run tributary compact -c FILE --table ${target.table.name} --once, ${USE_DATABASE}`,
    });
  }
  const [lake] = lakeTargets(config, `${target.source.name}.${target.table.name}`);
  if (lake === undefined) throw new LakeReplayError(`table ${target.table.name} has no lake directory`);
  return new TableDirectory(lake.root, logger);
}

/** The published version's metadata, or undefined when there is none; unreadable metadata names the way out. */
export async function publishedMetadata(dir: TableDirectory, table: string): Promise<TableMetadata | undefined> {
  try {
    return (await dir.current())?.metadata;
  } catch (error) {
    if (!(error instanceof LakeMetadataError)) throw error;
    throw new LakeMetadataError(`cannot replay ${table} from the lake: ${error.message}`, {
      cause: error,
      fix: `${error.fix ?? 'restore the lake metadata'}, ${USE_DATABASE}`,
    });
  }
}

