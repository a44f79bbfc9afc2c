/**
 * The mixed workload's two sources: a PostgreSQL and a MariaDB table of typed columns, the statements that apply
 * one planned transaction with the database's own random values, the ALTER TABLE, the last change with the
 * source position around it, and `SELECT *` as text.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { CustomTypesConfig } from 'pg';
import type { SourcePosition } from '../../src/lake/metadata.js';
import { adminConnection, uniqueName as uniqueMysqlName } from './mysql.js';
import type { TransactionPlan, ValueKind } from './mixed-workload.js';
import { admin, dropSlotAndPublication, uniqueName } from './postgres.js';

export interface ColumnSpec {
  readonly kind: ValueKind;
  /** The column's type in the Parquet files, as DuckDB describes it. */
  readonly lakeType: string;
}

export interface LiveTable {
  readonly columns: readonly string[];
  /** id → column → the database's text for the value. */
  readonly rows: Map<string, Record<string, string | null>>;
}

export interface SourceWorkload {
  readonly label: string;
  /** The source entry of the daemon's config. */
  readonly config: Record<string, unknown>;
  readonly streamingLog: RegExp;
  readonly topic: string;
  readonly lakeRoot: string;
  /** The columns after the ALTER TABLE. */
  readonly columns: Readonly<Record<string, ColumnSpec>>;
  /** Applies one transaction; `altered` once the ALTER TABLE ran (the new column is written, the dropped one not). */
  apply(plan: TransactionPlan, altered: boolean): Promise<{ updated: number; deleted: number; inserted: number }>;
  alter(): Promise<void>;
  /** Updates `id` in a transaction of its own, the workload's last change; returns what brackets its position. */
  lastChange(id: number): Promise<unknown>;
  assertPosition(recorded: SourcePosition | null, bracket: unknown): void;
  selectAll(): Promise<LiveTable>;
  cleanup(): Promise<void>;
}

const STAYING: Record<string, ColumnSpec> = {
  id: { kind: 'integer', lakeType: 'BIGINT' },
  i: { kind: 'integer', lakeType: 'INTEGER' },
  s: { kind: 'text', lakeType: 'VARCHAR' },
  amount: { kind: 'decimal', lakeType: 'DECIMAL(18,6)' },
  d: { kind: 'date', lakeType: 'DATE' },
  doc: { kind: 'json', lakeType: 'JSON' },
  extra: { kind: 'decimal', lakeType: 'DECIMAL(10,3)' },
};

/** Column → SQL for a fresh value, per row; `ID` stands for the row's id. */
type Values = Record<string, string>;

function assignments(values: Values, columns: readonly string[]): string {
  return columns.map((c) => `${c} = ${values[c]}`).join(', ');
}

function writtenColumns(all: readonly string[], altered: boolean): string[] {
  return all.filter((c) => (altered ? c !== 'legacy' : c !== 'extra'));
}

// ---- PostgreSQL ----

const PG_VALUES: Values = {
  i: '(random() * 2e9 - 1e9)::int',
  s: `CASE WHEN random() < 0.05 THEN NULL WHEN random() < 0.05 THEN '' ELSE 'ü✓ "q" \\ ' || md5(random()::text) END`,
  amount: 'CASE WHEN random() < 0.05 THEN NULL ELSE round(((random() - 0.5) * 1e12)::numeric, 6) END',
  ts: "timestamptz '1900-01-01 00:00:00+00' + random() * interval '200 years'",
  d: "date '1900-01-01' + (random() * 80000)::int",
  flag: 'CASE WHEN random() < 0.1 THEN NULL ELSE random() < 0.5 END',
  doc: "jsonb_build_object('k', ID, 'v', random(), 'list', jsonb_build_array(1, 'x', null), 'u', 'ü')",
  legacy: '(random() * 1000)::int',
  extra: 'CASE WHEN random() < 0.1 THEN NULL ELSE round(((random() - 0.5) * 1e7)::numeric, 3) END',
  // 2% of the rows get 6 kB that does not compress: TOASTed out of line, so the updates (which leave `body`
  // alone) stream it as an unchanged TOAST value.
  body: "CASE WHEN random() < 0.02 THEN ID || ':' || (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 200) g) ELSE 'short ' || ID END",
};
const PG_UPDATED = ['i', 's', 'amount', 'ts', 'd', 'flag', 'doc', 'legacy', 'extra'];
const PG_INSERTED = ['id', ...PG_UPDATED, 'body'];
const TEXT_ONLY: CustomTypesConfig = { getTypeParser: (() => (value: string) => value) as unknown as CustomTypesConfig['getTypeParser'] };

/** pg_lsn text (X/Y) → the 64-bit LSN Debezium's source block carries. */
function lsnNumber(text: string): bigint {
  const [high = '0', low = '0'] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

export async function postgresWorkload(lake: string): Promise<SourceWorkload> {
  const name = uniqueName('lake_mixed_pg');
  const pg = await admin();
  await pg.query("SET TimeZone = 'UTC'");
  await pg.query(
    `CREATE TABLE ${name} (id bigint PRIMARY KEY, i int NOT NULL, s text, body text, amount numeric(18,6), ts timestamptz,
       d date, flag boolean, doc jsonb, legacy int)`,
  );
  const values = (ref: string): Values => Object.fromEntries(Object.entries(PG_VALUES).map(([c, sql]) => [c, sql.replaceAll('ID', ref)]));
  const update = async (ids: readonly number[], altered: boolean): Promise<number> => {
    if (ids.length === 0) return 0;
    const result = await pg.query(
      `UPDATE ${name} t SET ${assignments(values('t.id'), writtenColumns(PG_UPDATED, altered))} FROM unnest($1::bigint[]) k(id) WHERE t.id = k.id`,
      [ids],
    );
    return result.rowCount ?? 0;
  };
  return {
    label: 'PostgreSQL',
    config: { name, kind: 'postgres', connection: { database: 'test', user: 'postgres' }, tables: [{ name: `public.${name}` }] },
    streamingLog: /streaming changes/,
    topic: `${name}.public.${name}`,
    lakeRoot: join(lake, name, 'public', name),
    columns: {
      ...STAYING,
      body: { kind: 'text', lakeType: 'VARCHAR' },
      ts: { kind: 'timestamptz', lakeType: 'TIMESTAMP WITH TIME ZONE' },
      flag: { kind: 'boolean', lakeType: 'BOOLEAN' },
    },
    async apply(plan, altered) {
      await pg.query('BEGIN');
      let updated = await update(plan.update, altered);
      const deleted = plan.delete.length === 0 ? 0 : ((await pg.query(`DELETE FROM ${name} WHERE id = ANY($1::bigint[])`, [plan.delete])).rowCount ?? 0);
      const columns = writtenColumns(PG_INSERTED, altered);
      const v = values('k.id');
      const inserted =
        plan.insert.length === 0
          ? 0
          : ((await pg.query(`INSERT INTO ${name} (${columns.join(', ')}) SELECT k.id, ${columns.slice(1).map((c) => v[c]).join(', ')} FROM unnest($1::bigint[]) k(id)`, [plan.insert])).rowCount ?? 0);
      updated += await update(plan.updateInserted, altered);
      await pg.query('COMMIT');
      return { updated, deleted, inserted };
    },
    async alter() {
      await pg.query(`ALTER TABLE ${name} ADD COLUMN extra numeric(10,3), DROP COLUMN legacy`);
    },
    async lastChange(id) {
      await pg.query('BEGIN');
      const before = await pg.query<{ lsn: string; xid: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn, (txid_current() % 4294967296)::text AS xid');
      assert.equal(await update([id], true), 1);
      await pg.query('COMMIT');
      const afterCommit = await pg.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      return { from: lsnNumber(before.rows[0]!.lsn), to: lsnNumber(afterCommit.rows[0]!.lsn), xid: before.rows[0]!.xid };
    },
    assertPosition(recorded, bracket) {
      const { from, to, xid } = bracket as { from: bigint; to: bigint; xid: string };
      assert.ok(recorded?.connector === 'postgresql', `a PostgreSQL position: ${JSON.stringify(recorded)}`);
      assert.equal(recorded.txId, xid, 'the transaction of the last change');
      const lsn = BigInt(recorded.lsn ?? -1);
      assert.ok(lsn >= from && lsn <= to, `LSN ${lsn} of the last change lies between ${from} (before it) and ${to} (after its commit)`);
    },
    async selectAll() {
      const result = await pg.query<Record<string, string | null>>({ text: `SELECT * FROM ${name}`, types: TEXT_ONLY });
      return { columns: result.fields.map((f) => f.name), rows: new Map(result.rows.map((r) => [r['id']!, r])) };
    },
    async cleanup() {
      await pg.end();
      await dropSlotAndPublication(`tributary_${name}`, `tributary_${name}`);
      const client = await admin();
      await client.query(`DROP TABLE IF EXISTS ${name}`);
      await client.end();
    },
  };
}

// ---- MariaDB ----

const MY_VALUES: Values = {
  i: 'FLOOR(RAND() * 2e9 - 1e9)',
  s: `CASE WHEN RAND() < 0.05 THEN NULL WHEN RAND() < 0.05 THEN '' ELSE CONCAT('ü✓ "q" \\\\ ', MD5(RAND())) END`,
  amount: 'CASE WHEN RAND() < 0.05 THEN NULL ELSE ROUND((RAND() - 0.5) * 1e12, 6) END',
  dt: "TIMESTAMP'1900-01-01 00:00:00' + INTERVAL FLOOR(RAND() * 6e15) MICROSECOND",
  tz: "CASE WHEN RAND() < 0.05 THEN NULL ELSE TIMESTAMP'1970-01-02 00:00:00' + INTERVAL FLOOR(RAND() * 2.1e15) MICROSECOND END",
  d: "DATE'1900-01-01' + INTERVAL FLOOR(RAND() * 80000) DAY",
  flag: 'CASE WHEN RAND() < 0.1 THEN NULL ELSE RAND() < 0.5 END',
  doc: "JSON_OBJECT('k', ID, 'v', RAND(), 'list', JSON_ARRAY(1, 'x', NULL), 'u', 'ü')",
  legacy: 'FLOOR(RAND() * 1000)',
  extra: 'CASE WHEN RAND() < 0.1 THEN NULL ELSE ROUND((RAND() - 0.5) * 1e7, 3) END',
};
// `i = i + 1` first: MariaDB logs (and counts) only rows an UPDATE really changes.
const MY_UPDATED = ['s', 'amount', 'dt', 'tz', 'd', 'flag', 'doc', 'legacy', 'extra'];
const MY_INSERTED = ['id', 'i', ...MY_UPDATED];

export async function mariadbWorkload(lake: string): Promise<SourceWorkload> {
  const name = uniqueMysqlName('lake_mixed_my');
  const db = await adminConnection();
  await db.query(
    `CREATE TABLE ${name} (id BIGINT PRIMARY KEY, i INT NOT NULL, s VARCHAR(200) NULL, amount DECIMAL(18,6) NULL, dt DATETIME(6) NULL,
       tz TIMESTAMP(6) NULL, d DATE NULL, flag BOOLEAN NULL, doc JSON NULL, legacy INT NULL) DEFAULT CHARSET utf8mb4`,
  );
  const values = (ref: string): Values => Object.fromEntries(Object.entries(MY_VALUES).map(([c, sql]) => [c, sql.replaceAll('ID', ref)]));
  const affected = (result: unknown): number => (result as [{ affectedRows: number }])[0].affectedRows;
  const update = async (ids: readonly number[], altered: boolean): Promise<number> => {
    if (ids.length === 0) return 0;
    return affected(await db.query(`UPDATE ${name} SET i = i + 1, ${assignments(values('id'), writtenColumns(MY_UPDATED, altered))} WHERE id IN (?)`, [ids]));
  };
  const binlogEnd = async (): Promise<{ file: string; pos: number }> => {
    const [rows] = await db.query('SHOW MASTER STATUS');
    const row = (rows as { File: string; Position: number | string }[])[0]!;
    return { file: row.File, pos: Number(row.Position) };
  };
  return {
    label: 'MariaDB',
    config: { name, kind: 'mysql', connection: { user: 'root' }, serverId: 10_000 + Math.floor(Math.random() * 50_000), tables: [{ name: `test.${name}` }] },
    streamingLog: /streaming the binlog/,
    topic: `${name}.test.${name}`,
    lakeRoot: join(lake, name, 'test', name),
    columns: {
      ...STAYING,
      dt: { kind: 'timestamp', lakeType: 'TIMESTAMP' },
      tz: { kind: 'timestamptz', lakeType: 'TIMESTAMP WITH TIME ZONE' },
      // BOOLEAN is TINYINT(1), which Debezium (and Tributary) stream as int16.
      flag: { kind: 'integer', lakeType: 'SMALLINT' },
    },
    async apply(plan, altered) {
      await db.query('BEGIN');
      let updated = await update(plan.update, altered);
      const deleted = plan.delete.length === 0 ? 0 : affected(await db.query(`DELETE FROM ${name} WHERE id IN (?)`, [plan.delete]));
      const columns = writtenColumns(MY_INSERTED, altered);
      const v = values('j.id');
      const inserted =
        plan.insert.length === 0
          ? 0
          : affected(
              await db.query(
                `INSERT INTO ${name} (${columns.join(', ')}) SELECT j.id, ${columns.slice(1).map((c) => v[c]).join(', ')}
                 FROM JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$')) j`,
                [JSON.stringify(plan.insert)],
              ),
            );
      updated += await update(plan.updateInserted, altered);
      await db.query('COMMIT');
      return { updated, deleted, inserted };
    },
    async alter() {
      await db.query(`ALTER TABLE ${name} ADD COLUMN extra DECIMAL(10,3) NULL, DROP COLUMN legacy`);
    },
    async lastChange(id) {
      const from = await binlogEnd();
      await db.query('BEGIN');
      assert.equal(await update([id], true), 1);
      await db.query('COMMIT');
      const [rows] = await db.query('SELECT @@last_gtid AS gtid');
      return { from, to: await binlogEnd(), gtid: (rows as { gtid: string }[])[0]!.gtid };
    },
    assertPosition(recorded, bracket) {
      const { from, to, gtid } = bracket as { from: { file: string; pos: number }; to: { file: string; pos: number }; gtid: string };
      assert.ok(recorded !== null && recorded.connector !== 'postgresql', `a binlog position: ${JSON.stringify(recorded)}`);
      assert.equal(recorded.gtid, gtid, 'the GTID of the last change');
      const at = (p: { file: string; pos: number }): [number, number] => [Number(/\.(\d+)$/.exec(p.file)?.[1] ?? -1), p.pos];
      const pos: [number, number] = at({ file: recorded.file, pos: Number(recorded.pos) });
      const after = (a: [number, number], b: [number, number]): boolean => a[0] > b[0] || (a[0] === b[0] && a[1] >= b[1]);
      assert.ok(after(pos, at(from)) && !after(pos, at(to)), `binlog ${recorded.file}:${recorded.pos} lies in [${from.file}:${from.pos}, ${to.file}:${to.pos})`);
    },
    async selectAll() {
      const [rows, fields] = await db.query({ sql: `SELECT * FROM ${name}`, typeCast: (field) => field.string() });
      const list = rows as Record<string, string | null>[];
      return { columns: (fields as { name: string }[]).map((f) => f.name), rows: new Map(list.map((r) => [r['id']!, r])) };
    },
    async cleanup() {
      await db.query(`DROP TABLE IF EXISTS ${name}`);
      await db.end();
    },
  };
}
