/**
 * `tributary status` against a real checkpoint file, a real PostgreSQL slot holding back WAL and the real
 * MariaDB binlog; and no password in its output, whichever format.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { CheckpointStore } from '../../src/checkpoint/store.js';
import { loadConfig } from '../../src/config/index.js';
import { encodePosition, Lsn } from '../../src/sources/postgres/position.js';
import { serializeCheckpoint } from '../../src/sources/mysql/position.js';
import { collectStatus, formatStatus, formatStatusJson, type StatusReport } from '../../src/status/index.js';
import type { MysqlServerStatus } from '../../src/status/mysql.js';
import type { PostgresServerStatus } from '../../src/status/postgres.js';
import { admin, uniqueName } from '../support/postgres.js';
import { adminConnection } from '../support/mysql.js';

describe('tributary status against the local servers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-status-'));
  const slot = uniqueName('status_slot');
  const secret = `pw-${uniqueName('secret')}`;
  const env = { STATUS_TEST_PG_PASSWORD: secret, STATUS_TEST_MYSQL_PASSWORD: secret, STATUS_TEST_KAFKA_PASSWORD: secret };
  let binlog: { file: string; pos: number };
  let slotLsn: string;
  let report: StatusReport;

  before(async () => {
    const pg = await admin();
    try {
      const created = await pg.query<{ lsn: string }>(`SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
      slotLsn = created.rows[0]!.lsn;
      // 200 kB of WAL after the slot's position, without needing a table; transactional, so the commit flushes it.
      await pg.query(`SELECT pg_logical_emit_message(true, 'tributary-status-test', repeat('x', 200000))`);
    } finally {
      await pg.end();
    }
    const maria = await adminConnection();
    try {
      const [rows] = await maria.query<RowDataPacket[]>('SHOW MASTER STATUS');
      binlog = { file: String(rows[0]!.File), pos: Number(rows[0]!.Position) };
    } finally {
      await maria.end();
    }

    const checkpointPath = join(dir, 'state', 'tributary.db');
    const store = CheckpointStore.open(checkpointPath);
    const position = encodePosition({ lsn: Lsn.parse(slotLsn) });
    store.savePosition('pg', position);
    store.markConfirmed('pg', position);
    store.saveSnapshotProgress('pg', '*', { lastKey: null, rows: 0, position });
    store.completeSnapshot('pg', 'public.orders', { rows: 42, lastKey: '[42]' });
    store.saveSnapshotProgress('pg', 'public.lines', { lastKey: '[7]', rows: 7, position: null });
    store.savePosition('maria', serializeCheckpoint({ file: binlog.file, pos: 4, gtids: null, skip: 0 }));
    store.close();

    const configPath = join(dir, 'tributary.yaml');
    writeFileSync(
      configPath,
      `sources:
  - name: pg
    kind: postgres
    slot: ${slot}
    connection: { host: 127.0.0.1, port: 5432, database: test, user: postgres, password: "\${STATUS_TEST_PG_PASSWORD}" }
    tables: [{ name: public.orders }, { name: public.lines }]
  - name: pgnoslot
    kind: postgres
    slot: ${uniqueName('absent')}
    connection: { host: 127.0.0.1, port: 5432, database: test, user: postgres, password: "\${STATUS_TEST_PG_PASSWORD}" }
    tables: [{ name: public.orders }]
  - name: maria
    kind: mysql
    serverId: 4242
    connection: { host: 127.0.0.1, port: 3306, user: root, password: "" }
    tables: [{ name: test.orders }]
  - name: mariadenied
    kind: mysql
    serverId: 4243
    connection: { host: 127.0.0.1, port: 3306, user: root, password: "\${STATUS_TEST_MYSQL_PASSWORD}" }
    tables: [{ name: test.orders }]
kafka:
  brokers: ["127.0.0.1:9092"]
  sasl: { mechanism: scram-sha-256, username: tributary, password: "\${STATUS_TEST_KAFKA_PASSWORD}" }
checkpoint:
  path: ./state/tributary.db
lake:
  path: ./lake
`,
    );
    const config = loadConfig(configPath, env);
    report = await collectStatus(config, {
      timeoutMs: 5000,
      clock: () => Date.now() + 90_000,
      lake: async (_config, source) => (source === 'pg' ? [{ table: 'public.orders', madeAt: Date.now(), rows: 42 }] : []),
    });
  });

  after(async () => {
    const pg = await admin();
    try {
      await pg.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    } finally {
      await pg.end();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const source = (name: string) => {
    const found = report.sources.find((s) => s.name === name);
    assert.ok(found, `no status for ${name}`);
    return found;
  };

  it('shows stored and confirmed positions with their ages, and snapshot progress', () => {
    assert.equal(report.checkpoint.exists, true);
    const pg = source('pg');
    assert.equal(pg.endpoint, 'postgres@127.0.0.1:5432/test');
    assert.equal(pg.stored?.position, encodePosition({ lsn: Lsn.parse(slotLsn) }));
    assert.ok(pg.stored!.ageSeconds >= 90 && pg.stored!.ageSeconds < 120, `age ${pg.stored!.ageSeconds}`);
    assert.equal(pg.confirmed?.position, pg.stored?.position);
    assert.equal(pg.snapshot.status, 'running');
    assert.deepEqual(
      pg.snapshot.tables.map((t) => [t.table, t.status, t.rows]),
      [
        ['public.lines', 'running', 7],
        ['public.orders', 'done', 42],
      ],
    );
    assert.equal(source('pgnoslot').stored, null);
    assert.equal(source('pgnoslot').snapshot.status, 'none');
  });

  it('reads the slot: retained WAL and lag since the confirmed position', () => {
    const server = source('pg').server as PostgresServerStatus;
    assert.equal(server.kind, 'postgres');
    assert.equal(server.exists, true);
    assert.equal(server.active, false);
    assert.equal(server.confirmedFlushLsn, slotLsn);
    assert.ok(server.retainedWalBytes! >= 200_000, `retained ${server.retainedWalBytes}`);
    assert.ok(server.lagBytes! >= 200_000, `lag ${server.lagBytes}`);
    assert.ok(server.storedLagBytes! >= 200_000, `stored lag ${server.storedLagBytes}`);
    assert.deepEqual(source('pgnoslot').server, { kind: 'postgres', slot: (source('pgnoslot').server as PostgresServerStatus).slot, exists: false });
  });

  it('measures the binlog distance from the stored position', () => {
    const server = source('maria').server as MysqlServerStatus;
    assert.equal(server.kind, 'mysql');
    assert.equal(server.storedFile, binlog.file);
    assert.equal(server.distance?.purged, false);
    assert.ok(server.distance!.bytes! >= binlog.pos - 4, `distance ${server.distance?.bytes}, expected at least ${binlog.pos - 4}`);
  });

  it('reports an unreachable server without failing the rest', () => {
    const denied = source('mariadenied').server;
    assert.equal(denied.kind, 'unreachable');
    assert.match(denied.kind === 'unreachable' ? denied.error : '', /Access denied/);
    assert.equal(report.ok, false);
  });

  it('shows lake snapshot ages when the lake has them', () => {
    assert.deepEqual(
      source('pg').lake?.map((t) => [t.table, t.rows, Math.round(t.ageSeconds)]),
      [['public.orders', 42, 90]],
    );
    assert.equal(source('maria').lake, undefined);
  });

  it('prints a terminal table with the slot and the distance', () => {
    const text = formatStatus(report);
    assert.match(text, new RegExp(`slot +${slot}  inactive  wal_status=reserved`));
    assert.match(text, /retained wal +\d+\.\d (KiB|MiB)/);
    assert.match(text, /binlog distance +\S+ (B|KiB|MiB) behind/);
    assert.match(text, /mariadenied +mysql +root@127\.0\.0\.1:3306\n {2}stored +-\n {2}confirmed +-\n {2}server +unreachable: Access denied/);
  });

  it('never prints a password, in either format', () => {
    for (const output of [formatStatus(report), formatStatusJson(report)]) {
      assert.ok(output.length > 500);
      assert.equal(output.includes(secret), false, 'the password appears in the status output');
    }
  });
});
