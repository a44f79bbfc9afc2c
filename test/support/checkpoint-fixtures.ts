/** Temporary files and migration directories for the checkpoint store tests. */
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultMigrationsDir } from '../../src/checkpoint/migrations.js';

export interface TempDir {
  readonly path: string;
  file(name: string): string;
  remove(): void;
}

export function tempDir(prefix = 'tributary-checkpoint-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** The shipped migration file names, in order. */
export function shippedMigrationFiles(): string[] {
  return readdirSync(defaultMigrationsDir())
    .filter((file) => file.endsWith('.sql'))
    .sort();
}

/** A migrations directory under `parent` holding the first `count` shipped files plus `extra` (name → SQL). */
export function migrationsDirWith(parent: string, count: number, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(parent, `migrations-${count}-`));
  for (const file of shippedMigrationFiles().slice(0, count)) copyFileSync(join(defaultMigrationsDir(), file), join(dir, file));
  for (const [file, sql] of Object.entries(extra)) writeFileSync(join(dir, file), sql);
  return dir;
}

/** A clock the test sets by hand, so that timestamps in assertions are predictable. */
export interface ManualClock {
  readonly read: () => number;
  set(ms: number): void;
}

export function manualClock(start = 1000): ManualClock {
  let now = start;
  return { read: () => now, set: (ms) => (now = ms) };
}
