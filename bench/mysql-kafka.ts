/**
 * MariaDB → Kafka: rows/s until acked for one big transaction and for many one-row transactions, peak RSS of the
 * daemon, and `mariadb-binlog --read-from-remote-server --base64-output=decode-rows --verbose` decoding the same
 * binlog range as the native-decoder reference. Run `npm run build` first: the daemon under test is dist/cli.js.
 *
 *   node --import tsx bench/mysql-kafka.ts [--rows 1000000] [--txns 100000] [--only big,small] [--cpu-prof DIR]
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { measureThroughput } from './lib/scenario.js';
import { fmt, parseArgs, timeCommand } from './lib/report.js';

const args = parseArgs({ rows: '1000000', txns: '100000', only: 'big,small', 'cpu-prof': '' });
const DB = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' };
const only = new Set(args.only.split(','));
const cpuProfDir = args['cpu-prof'] === '' ? undefined : args['cpu-prof'];

/** Eight columns of the common kinds, as the PostgreSQL bench. */
const COLUMNS = 'id BIGINT PRIMARY KEY, k INT NOT NULL, v BIGINT, name VARCHAR(64), amount DECIMAL(12,2), created DATETIME(6), flag BOOLEAN, score DOUBLE';
const VALUES = (i: string): string =>
  `${i}, ${i} % 1000, ${i} * 1000, CONCAT('customer name ', ${i}), (${i} % 100000) / 100, TIMESTAMP'2026-01-01 00:00:00' + INTERVAL ${i} * 1500000 MICROSECOND, ${i} % 2 = 0, ${i} / 7`;

interface BinlogPoint {
  readonly file: string;
  readonly pos: number;
}

async function withConnection<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ ...DB, multipleStatements: true });
  try {
    return await fn(connection);
  } finally {
    await connection.end();
  }
}

async function binlogPoint(c: mysql.Connection): Promise<BinlogPoint> {
  const [rows] = await c.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
  return { file: String(rows[0]!.File), pos: Number(rows[0]!.Position) };
}

/** mariadb-binlog over the network from `from` to `to`, decoding every row event into pseudo-SQL. */
function referenceDecode(from: BinlogPoint, to: BinlogPoint): Promise<number> {
  const range = from.file === to.file ? [`--stop-position=${to.pos}`] : ['--to-last-log'];
  return timeCommand('mariadb-binlog', [
    '--read-from-remote-server', `--host=${DB.host}`, `--port=${DB.port}`, `--user=${DB.user}`,
    '--base64-output=decode-rows', '--verbose', `--start-position=${from.pos}`, ...range, from.file,
  ]);
}

async function throughput(label: string, rows: number, workload: (c: mysql.Connection, table: string) => Promise<void>): Promise<void> {
  const id = randomBytes(3).toString('hex');
  const table = `bench_my_${id}`;
  const prefix = `bench_my_${id}`;
  await withConnection((c) => c.query(`CREATE TABLE ${table} (${COLUMNS}) ENGINE=InnoDB`));
  let from: BinlogPoint | undefined;
  let to: BinlogPoint | undefined;
  try {
    await measureThroughput({
      label,
      rows,
      topic: `${prefix}.${DB.database}.${table}`,
      cpuProfDir,
      source: {
        name: 'bench',
        kind: 'mysql',
        connection: { host: DB.host, port: DB.port, user: DB.user, password: DB.password },
        serverId: 60_000 + Math.floor(Math.random() * 10_000),
        topicPrefix: prefix,
        snapshot: 'never',
        tables: [{ name: `${DB.database}.${table}` }],
      },
      warmUp: () => withConnection((c) => c.query(`INSERT INTO ${table} VALUES (${VALUES('0')})`).then(() => undefined)),
      workload: () =>
        withConnection(async (c) => {
          from = await binlogPoint(c);
          await workload(c, table);
          to = await binlogPoint(c);
        }),
      referenceName: 'mariadb-binlog',
      reference: () => referenceDecode(from!, to!),
    });
  } finally {
    await withConnection((c) => c.query(`DROP TABLE IF EXISTS ${table}; DROP PROCEDURE IF EXISTS ${table}_load`));
  }
}

/** One transaction of `rows` rows, from MariaDB's sequence engine. */
async function bigTransaction(c: mysql.Connection, table: string, rows: number): Promise<void> {
  await c.query(`INSERT INTO ${table} SELECT ${VALUES('seq')} FROM seq_1_to_${rows}`);
}

/** `txns` transactions of one row each, committed by a stored procedure. */
async function smallTransactions(c: mysql.Connection, table: string, txns: number): Promise<void> {
  await c.query(`CREATE PROCEDURE ${table}_load(n INT)
    BEGIN
      DECLARE i INT DEFAULT 1;
      WHILE i <= n DO
        START TRANSACTION;
        INSERT INTO ${table} VALUES (${VALUES('i')});
        COMMIT;
        SET i = i + 1;
      END WHILE;
    END`);
  // One redo-log flush per commit would make the load take minutes (longer than the server waits for the paused
  // daemon to read): flush once a second while it runs, as the server's setting was before afterwards.
  const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT @@GLOBAL.innodb_flush_log_at_trx_commit AS flush');
  await c.query('SET GLOBAL innodb_flush_log_at_trx_commit = 2');
  try {
    await c.query(`CALL ${table}_load(${txns})`);
  } finally {
    await c.query(`SET GLOBAL innodb_flush_log_at_trx_commit = ${Number(rows[0]!.flush)}`);
  }
}

const rows = Number(args.rows);
const txns = Number(args.txns);
console.log(`MariaDB → Kafka bench, ${new Date().toISOString()}, Node ${process.version}, 8-column table`);
if (only.has('big')) await throughput(`1 txn × ${fmt(rows)} rows`, rows, (c, t) => bigTransaction(c, t, rows));
if (only.has('small')) await throughput(`${fmt(txns)} txns × 1 row`, txns, (c, t) => smallTransactions(c, t, txns));
