/**
 * Bad input through `tributary run`: the daemon exits non-zero with a message that names the table, column,
 * slot or setting and says how to fix it. wal_level cannot be changed on the shared server, so that case runs
 * the server check against a stubbed connection.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { Daemon, startTestRegistry, writeDaemonConfig, type TestRegistry } from '../support/daemon.js';
import { admin, dropSlotAndPublication, uniqueName, waitFor } from '../support/postgres.js';
import { checkServer } from '../../src/sources/postgres/setup.js';

let registry: TestRegistry;
before(async () => (registry = await startTestRegistry()));
after(() => registry.close());

function pgSource(name: string, table: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, tables: [{ name: `public.${table}` }], ...extra };
}

/** Runs the daemon until it exits by itself (killed after 30 s); returns its exit code and everything it logged. */
async function runToExit(source: Record<string, unknown>): Promise<{ code: number | null; output: string }> {
  const daemon = new Daemon(writeDaemonConfig([source], registry.url));
  const timer = setTimeout(() => daemon.kill('SIGKILL'), 30_000);
  try {
    const code = await daemon.exited;
    return { code, output: daemon.logs.join('\n') };
  } finally {
    clearTimeout(timer);
  }
}

test('a table that does not exist: exit 1 naming the table and the fix', async () => {
  const name = uniqueName('e2e_pg_missing');
  try {
    const { code, output } = await runToExit(pgSource(name, `${name}_nope`));
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`table "public\\.${name}_nope" does not exist`));
    assert.match(output, new RegExp(`fix: create the table or remove "public\\.${name}_nope"`));
  } finally {
    await dropSlotAndPublication(`tributary_${name}`, `tributary_${name}`);
  }
});

test('a column type with no mapping: exit 1 naming table, column and type, and the fix', async () => {
  const name = uniqueName('e2e_pg_point');
  const pg = await admin();
  await pg.query(`CREATE TABLE ${name} (id int PRIMARY KEY, location point)`);
  try {
    const { code, output } = await runToExit(pgSource(name, name));
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`column "location" of table "public\\.${name}" has type point, which has no mapping`));
    assert.match(output, /fix: exclude the column \(tables\[\]\.columns\.exclude: \["location"\]\)/);
  } finally {
    await dropSlotAndPublication(`tributary_${name}`, `tributary_${name}`);
    await pg.query(`DROP TABLE ${name}`);
    await pg.end();
  }
});

test('the slot is in use by another process: a warning naming slot, pid and fix, retried until the slot is free', async () => {
  const name = uniqueName('e2e_pg_busy');
  const slot = `tributary_${name}`;
  const pg = await admin();
  await pg.query(`CREATE TABLE ${name} (id int PRIMARY KEY)`);
  const first = new Daemon(writeDaemonConfig([pgSource(name, name)], registry.url));
  let second: Daemon | undefined;
  try {
    await first.waitForLog(/streaming changes/);
    await waitFor(async () => (await pg.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot])).rows[0]?.active === true, 'slot active');
    const pid = (await pg.query<{ active_pid: number }>('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot])).rows[0]!.active_pid;
    // A second daemon (its own checkpoint) configured with the same slot. A busy slot is retriable (after a crash
    // the old walsender may hold it for a moment), so it warns and retries instead of exiting.
    second = new Daemon(writeDaemonConfig([pgSource(`${name}_2`, name, { slot, publication: slot })], registry.url));
    const warning = await second.waitForLog(/source failed; restarting/);
    assert.match(warning, new RegExp(`replication slot \\\\"${slot}\\\\" is in use by another process \\(pid ${pid}\\)`));
    assert.match(warning, new RegExp(`"fix":"stop the other consumer of slot \\\\"${slot}\\\\" \\(SELECT pg_terminate_backend\\(${pid}\\)\\)`));
    assert.ok(first.running, 'the first daemon keeps streaming');
    // Once the first one stops, the second takes the slot over.
    assert.equal(await first.stop(), 0);
    await second.waitForLog(/streaming changes/, 60_000);
    assert.equal(await second.stop(), 0);
  } finally {
    for (const daemon of [first, second]) {
      if (daemon?.running === true) daemon.kill('SIGKILL');
      await daemon?.exited;
    }
    await dropSlotAndPublication(slot, slot);
    await pg.query(`DROP TABLE ${name}`);
    await pg.end();
  }
});

test('wal_level other than logical: the server check names the setting and the fix', async () => {
  const stub = { query: async () => ({ rows: [{ wal_level: 'replica' }] }) } as unknown as pg.Client;
  await assert.rejects(checkServer(stub, 'postgres'), (error: Error & { fix?: string }) => {
    assert.match(error.message, /wal_level is "replica", logical replication needs "logical"/);
    assert.match(error.fix ?? '', /wal_level = logical/);
    assert.match(error.fix ?? '', /restart PostgreSQL/);
    return true;
  });
});
