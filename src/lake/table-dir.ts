/**
 * One table's directory in the lake and the file operations that make publishing atomic:
 *
 *   <table>/data/b<bucket>-s<snapshot>-<uuid>.parquet   immutable data files
 *   <table>/metadata/v<N>.metadata.json                  immutable metadata versions
 *   <table>/metadata/version-hint.text                   the pointer: N of the current version
 *
 * A new snapshot's data and metadata files are written and fsynced first; the pointer is then replaced by
 * rename, which is the commit. A crash before the rename leaves the old snapshot current and some unreferenced
 * files, which `collectGarbage` removes on the next run. The previous version and its files are kept, so a
 * reader that resolved the pointer just before a publish can still finish.
 */
import { randomUUID } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TributaryError } from '../model/errors.js';
import type { Logger } from '../ops/logger.js';
import { parseMetadata, type TableMetadata } from './metadata.js';

/** The lake directory cannot be written (permissions, read-only file system, missing parent). */
export class LakeIOError extends TributaryError {}

const HINT = 'version-hint.text';
const LOCK = '.compactor.lock';
/** Metadata versions (and their data files) kept besides the current one, for readers in flight. */
const RETAINED_PREVIOUS = 1;

export interface CurrentVersion {
  readonly version: number;
  readonly metadata: TableMetadata;
}

export class TableDirectory {
  readonly dataDir: string;
  readonly metadataDir: string;

  constructor(
    readonly root: string,
    private readonly logger: Logger,
  ) {
    this.dataDir = join(root, 'data');
    this.metadataDir = join(root, 'metadata');
  }

  /** Creates the directories and proves they can be written, naming `lake.path` when not. */
  async prepare(): Promise<void> {
    try {
      await mkdir(this.dataDir, { recursive: true });
      await mkdir(this.metadataDir, { recursive: true });
      await access(this.dataDir, fsConstants.W_OK);
      await access(this.metadataDir, fsConstants.W_OK);
    } catch (error) {
      throw new LakeIOError(`lake table directory ${this.root} is not writable: ${(error as Error).message}`, {
        cause: error,
        fix: 'set lake.path to a directory the tributary user can create and write files in',
      });
    }
  }

  async current(): Promise<CurrentVersion | undefined> {
    const version = await this.readHint();
    if (version === undefined) return undefined;
    const path = this.metadataPath(version);
    const text = await readFile(path, 'utf8');
    return { version, metadata: parseMetadata(text, path) };
  }

  /** The metadata of an older version still on disk, or undefined once it has been cleaned up. */
  async version(version: number): Promise<TableMetadata | undefined> {
    const path = this.metadataPath(version);
    try {
      return parseMetadata(await readFile(path, 'utf8'), path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  newDataFile(bucket: number, snapshotId: number): { relative: string; absolute: string } {
    const relative = `data/b${String(bucket).padStart(5, '0')}-s${snapshotId}-${randomUUID()}.parquet`;
    return { relative, absolute: join(this.root, relative) };
  }

  /** Makes data files written by someone else (DuckDB) durable before metadata refers to them. */
  async syncDataFiles(relativePaths: readonly string[]): Promise<void> {
    for (const path of relativePaths) await fsyncPath(join(this.root, path));
    await fsyncPath(this.dataDir);
  }

  /** Writes version `version` and switches the pointer to it: the commit point. */
  async publish(version: number, metadata: TableMetadata): Promise<void> {
    await writeDurably(this.metadataPath(version), `${JSON.stringify(metadata, null, 2)}\n`, this.metadataDir);
    await writeDurably(join(this.metadataDir, HINT), `${version}\n`, this.metadataDir);
  }

  /**
   * Removes what no retained version refers to: data and metadata files of crashed runs, temporary files, and
   * versions older than the retained ones. Safe only under the table lock.
   */
  async collectGarbage(): Promise<{ removed: number }> {
    const current = await this.readHint();
    const keep = new Set<string>();
    let removed = 0;
    if (current !== undefined) {
      for (let v = current; v >= Math.max(1, current - RETAINED_PREVIOUS); v--) {
        const metadata = await this.version(v);
        if (metadata === undefined) continue;
        keep.add(`metadata/${versionFileName(v)}`);
        for (const file of metadata.files) keep.add(file.path);
      }
    }
    keep.add(`metadata/${HINT}`);
    for (const dir of ['data', 'metadata']) {
      for (const name of await readdir(join(this.root, dir))) {
        if (keep.has(`${dir}/${name}`)) continue;
        await rm(join(this.root, dir, name), { force: true, recursive: true });
        removed++;
      }
    }
    if (removed > 0) this.logger.info({ table: this.root, removed }, 'lake: removed unreferenced files');
    return { removed };
  }

  /**
   * Takes the table's writer lock: one compactor per table. A lock left by a process that no longer runs (kill
   * -9) is taken over.
   */
  async lock(): Promise<() => Promise<void>> {
    const path = join(this.root, LOCK);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
        return () => unlink(path).catch(() => undefined);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
        if (Number.isInteger(holder) && holder !== process.pid && isRunning(holder)) {
          throw new TributaryError(`lake table ${this.root} is being compacted by process ${holder}`, {
            retriable: true,
            fix: 'run one compactor per lake; wait for the other one or stop it',
          });
        }
        await rm(path, { force: true });
      }
    }
    throw new TributaryError(`could not take the compactor lock ${path}`, { retriable: true });
  }

  private metadataPath(version: number): string {
    return join(this.metadataDir, versionFileName(version));
  }

  private async readHint(): Promise<number | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.metadataDir, HINT), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const version = Number.parseInt(text.trim(), 10);
    if (!Number.isInteger(version) || version < 1) {
      throw new TributaryError(`${join(this.metadataDir, HINT)} does not hold a version number`, {
        fix: 'the lake pointer is damaged: write the highest N of metadata/v<N>.metadata.json into it',
      });
    }
    return version;
  }
}

function versionFileName(version: number): string {
  return `v${version}.metadata.json`;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Temporary file, fsync, rename over the target, fsync the directory: all or nothing across a crash. */
async function writeDurably(path: string, content: string, dir: string): Promise<void> {
  const temp = `${path}.tmp-${randomUUID()}`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await fsyncPath(dir);
}
