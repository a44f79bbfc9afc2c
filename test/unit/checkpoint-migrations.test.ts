import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TributaryError } from '../../src/model/errors.js';
import { defaultMigrationsDir, loadMigrations } from '../../src/checkpoint/migrations.js';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { migrationsDirWith, shippedMigrationFiles, tempDir } from '../support/checkpoint-fixtures.js';

const tmp = tempDir();
after(() => tmp.remove());
let counter = 0;
const freshPath = () => tmp.file(`db-${++counter}/checkpoint.db`);

function appliedMigrations(path: string): { version: number; name: string; applied_at: number }[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all() as {
      version: number;
      name: string;
      applied_at: number;
    }[];
  } finally {
    db.close();
  }
}

function rejection(fn: () => unknown): TributaryError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TributaryError, `expected a TributaryError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an error');
}

describe('checkpoint migrations', () => {
  const shipped = shippedMigrationFiles();
  const latest = shipped.length;

  it('ships 001_initial and at least one later migration, found relative to the module', () => {
    assert.ok(existsSync(join(defaultMigrationsDir(), '001_initial.sql')));
    assert.ok(latest >= 2, 'a later migration proves the upgrade path');
    assert.deepEqual(
      loadMigrations(defaultMigrationsDir()).map((m) => m.version),
      shipped.map((_file, index) => index + 1),
    );
  });

  it('migrates an empty file to the newest version, recording each migration', () => {
    const path = freshPath();
    const store = CheckpointStore.open(path, { clock: () => 5000 });
    assert.equal(store.schemaVersion, latest);
    store.close();
    const applied = appliedMigrations(path);
    assert.deepEqual(
      applied.map((row) => [row.version, row.name]),
      shipped.map((file, index) => [index + 1, file.replace(/\.sql$/, '')]),
    );
    assert.ok(applied.every((row) => row.applied_at === 5000));
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  it('reopening an up-to-date file applies nothing', () => {
    const path = freshPath();
    CheckpointStore.open(path, { clock: () => 1 }).close();
    CheckpointStore.open(path, { clock: () => 2 }).close();
    assert.ok(appliedMigrations(path).every((row) => row.applied_at === 1));
  });

  for (let from = 1; from < shippedMigrationFiles().length; from++) {
    it(`upgrades a file at version ${from} to the newest, keeping its data`, () => {
      const path = freshPath();
      const old = CheckpointStore.open(path, { migrationsDir: migrationsDirWith(tmp.path, from), clock: () => 42 });
      assert.equal(old.schemaVersion, from);
      old.savePosition('pg', '{"lsn":"0/16B3748"}');
      old.markConfirmed('pg', '{"lsn":"0/16B3700"}');
      old.saveSnapshotProgress('pg', 'public.orders', { lastKey: '[17]', rows: 17, position: '{"lsn":"0/1"}' });
      old.close();

      const store = CheckpointStore.open(path, { clock: () => 43 });
      assert.equal(store.schemaVersion, latest);
      assert.deepEqual(store.getPosition('pg'), { position: '{"lsn":"0/16B3748"}', updatedAt: 42 });
      assert.deepEqual(store.getConfirmedPosition('pg'), { position: '{"lsn":"0/16B3700"}', updatedAt: 42 });
      assert.equal(store.getSnapshot('pg', 'public.orders')?.rows, 17);
      // what the later migrations add works on the upgraded file
      assert.equal(store.registerSchema('t-value', '"string"').id, 1);
      assert.equal(store.saveTableSchema('pg', 'public.orders', '{}', '{"lsn":"0/1"}'), 1);
      store.close();
      assert.deepEqual(
        appliedMigrations(path).map((row) => row.version),
        shipped.map((_file, index) => index + 1),
      );
    });
  }

  it('refuses a file migrated by a newer tributary, naming the file, the versions and the fix', () => {
    const path = freshPath();
    CheckpointStore.open(path).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      latest + 1,
      `00${latest + 1}_from_the_future`,
      0,
    );
    db.close();

    const error = rejection(() => CheckpointStore.open(path));
    assert.match(error.message, new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(error.message, new RegExp(`schema version ${latest + 1} \\(00${latest + 1}_from_the_future\\)`));
    assert.match(error.message, new RegExp(`knows: version ${latest} \\(${shipped[latest - 1]!.replace('.sql', '')}\\)`));
    assert.match(error.fix ?? '', /upgrade tributary/);
    assert.match(error.fix ?? '', /checkpoint\.path/);
    assert.equal(error.retriable, false);
  });

  it('refuses a newest-version file when opened by code that knows only older migrations', () => {
    const path = freshPath();
    CheckpointStore.open(path).close();
    const error = rejection(() => CheckpointStore.open(path, { migrationsDir: migrationsDirWith(tmp.path, 1) }));
    assert.match(error.message, new RegExp(`schema version ${latest} .*knows: version 1 \\(001_initial\\)`));
  });

  it('rolls back a migration that fails halfway and leaves the file at the previous version', () => {
    const path = freshPath();
    const broken = migrationsDirWith(tmp.path, 1, {
      '002_broken.sql': 'CREATE TABLE half_done (x INTEGER);\nTHIS IS NOT SQL;',
    });
    assert.throws(() => CheckpointStore.open(path, { migrationsDir: broken }), TributaryError);
    const db = new Database(path, { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    db.close();
    assert.ok(!tables.some((t) => t.name === 'half_done'), 'the partial migration was rolled back');
    assert.deepEqual(
      appliedMigrations(path).map((row) => row.version),
      [1],
    );
    const store = CheckpointStore.open(path);
    assert.equal(store.schemaVersion, latest);
    store.close();
  });

  it('rejects a migrations directory with a gap or a badly named file', () => {
    const gap = migrationsDirWith(tmp.path, 1, { '003_skipped_two.sql': 'SELECT 1;' });
    assert.match(rejection(() => loadMigrations(gap)).message, /without gaps.*003_skipped_two/);
    const badName = migrationsDirWith(tmp.path, 1, { 'Second.sql': 'SELECT 1;' });
    assert.match(rejection(() => loadMigrations(badName)).message, /Second\.sql is not named NNN_description\.sql/);
    assert.match(rejection(() => loadMigrations(join(tmp.path, 'missing'))).message, /migrations directory .*missing/);
  });

  it('refuses a file that is not a SQLite database, naming it', () => {
    const path = tmp.file('not-a-database.db');
    writeFileSync(path, 'this is a text file, long enough to not look like an empty database '.repeat(20));
    const error = rejection(() => CheckpointStore.open(path));
    assert.match(error.message, /cannot open the checkpoint database .*not-a-database\.db/);
    assert.match(error.fix ?? '', /checkpoint\.path/);
  });
});
